/**
 * lineinfile: one line in a text file. The edit is a pure function of the file's text
 * (`editText`, Ansible's semantics, tested without a host); the result is written atomically,
 * only when the text changed. Its documentation is the defineModule fields below (`tsplay doc lineinfile`).
 */

import * as path from 'path';
import { defineModule, ModuleFailure, type Change } from '../runner/module-api';
import { missingParent } from './lib/content';
import { expandBackrefs, pyRegex } from './lib/py-regex';
import { attrChange, ATTR_SCHEMA, idArg, modeArg, resolveMode, type Attrs } from './lib/attrs';

export interface LineEdit {
  line?: string;
  regexp?: string;
  search_string?: string;
  state?: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  backrefs?: boolean;
  firstmatch?: boolean;
}

export interface LineinfileArgs extends LineEdit {
  path?: string;
  dest?: string;
  create?: boolean;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  backup?: boolean;
  validate?: string;
}

export interface EditResult {
  text: string;
  changed: boolean;
  msg: string;
}

// Python regex syntax and templates: one translator for the text-editing modules
export { expandBackrefs, pyRegex };

/** Split keeping each line's own ending, so untouched lines are written back byte for byte. */
function splitLines(text: string): string[] {
  if (text === '') return [];
  const out = text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  return out;
}

function bare(l: string): string {
  return l.replace(/\r?\n$/, '');
}

/**
 * Ansible's lineinfile on a text. Returns the new text and whether it changed.
 *  - present: a regexp/search_string match (last, or first with firstmatch) is replaced; else an
 *    identical line leaves the file alone; else the line is inserted per insertafter/insertbefore
 *    (default EOF); with backrefs nothing is inserted.
 *  - absent: every line matching regexp / search_string / exactly `line` is removed.
 */
export function editText(text: string, o: LineEdit): EditResult {
  const lines = splitLines(text);
  const state = o.state ?? 'present';
  const re = o.regexp !== undefined ? pyRegex(o.regexp) : undefined;

  if (state === 'absent') {
    const matches = (l: string): boolean =>
      re ? re.test(bare(l)) : o.search_string !== undefined ? l.includes(o.search_string) : bare(l) === o.line;
    const kept = lines.filter((l) => !matches(l));
    const n = lines.length - kept.length;
    return { text: kept.join(''), changed: n > 0, msg: n > 0 ? `${n} line(s) removed` : '' };
  }

  const line = o.line ?? '';
  const insRe =
    o.insertafter !== undefined && o.insertafter !== 'BOF' && o.insertafter !== 'EOF'
      ? pyRegex(o.insertafter)
      : o.insertbefore !== undefined && o.insertbefore !== 'BOF'
        ? pyRegex(o.insertbefore)
        : undefined;

  // 1. a regexp / search_string match decides where the line goes
  let found = -1;
  let match: RegExpExecArray | null = null;
  if (re || o.search_string !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      const m = re ? re.exec(bare(lines[i])) : lines[i].includes(o.search_string!) ? ([] as unknown as RegExpExecArray) : null;
      if (m) {
        found = i;
        match = m;
        if (o.firstmatch) break;
      }
    }
  }
  // 2. otherwise: the line verbatim anywhere, and where insertafter/insertbefore point
  let insertAt = -1;
  if (!match) {
    for (let i = 0; i < lines.length; i++) if (bare(lines[i]) === line) found = i;
    if (insRe) {
      for (let i = 0; i < lines.length; i++) {
        if (insRe.test(bare(lines[i]))) {
          insertAt = o.insertafter !== undefined ? i + 1 : i;
          if (o.firstmatch) break;
        }
      }
    }
  }

  const out = [...lines];
  const added = (): EditResult => ({ text: out.join(''), changed: true, msg: 'line added' });
  const endWithNewline = (): void => {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
  };

  if (found !== -1) {
    const body = match && o.backrefs && re ? expandBackrefs(line, match) : line;
    // a CRLF line stays CRLF; a last line without a newline gets one (as Ansible does)
    const want = body + (lines[found].endsWith('\r\n') ? '\r\n' : '\n');
    if (lines[found] === want) return { text, changed: false, msg: '' };
    out[found] = want;
    return { text: out.join(''), changed: true, msg: 'line replaced' };
  }
  if (o.backrefs) return { text, changed: false, msg: '' };
  if (o.insertbefore === 'BOF' || o.insertafter === 'BOF') {
    out.unshift(line + '\n');
    return added();
  }
  if (o.insertafter === 'EOF' || insertAt === -1) {
    endWithNewline();
    out.push(line + '\n');
    return added();
  }
  if (o.insertafter !== undefined) {
    // the line already right after the anchor counts as present
    if (insertAt < out.length ? bare(out[insertAt]) === line : bare(out[insertAt - 1]) === line) {
      return { text, changed: false, msg: '' };
    }
    if (insertAt === out.length) endWithNewline();
    out.splice(insertAt, 0, line + '\n');
    return added();
  }
  out.splice(insertAt, 0, line + '\n');
  return added();
}

export default defineModule<LineinfileArgs>({
  name: 'lineinfile',
  description: 'Make sure a line is in a text file, replace a matching line, or remove matching lines.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, description: 'The file on the host.' },
      dest: { type: 'string', minLength: 1, description: 'Alias of path.' },
      line: { type: 'string', description: 'The line to insert or replace with (state=present).' },
      // '' is allowed, as in Ansible: it matches every line (so the last one is replaced)
      regexp: {
        type: 'string',
        description: 'Regular expression: state=present replaces the last matching line (the first with firstmatch); state=absent removes every matching line. When nothing matches but line is already present verbatim, nothing changes. Python syntax is accepted ((?P<name>..), (?P=name), \\A, \\Z, a leading (?i)).',
      },
      search_string: {
        type: 'string',
        description: 'Literal string: like regexp, matching lines that contain it.',
      },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the line must be there.' },
      insertafter: {
        type: 'string',
        minLength: 1,
        description: "'EOF' or a regexp: where a new line goes when regexp/search_string did not match.",
      },
      insertbefore: {
        type: 'string',
        minLength: 1,
        description: "'BOF' or a regexp: insert before its last match (no match: at the end).",
      },
      backrefs: {
        type: 'boolean',
        default: false,
        description: 'Expand regexp groups in line (\\1, \\g<name>); when regexp does not match, change nothing.',
      },
      firstmatch: {
        type: 'boolean',
        default: false,
        description: 'Use the first match of regexp/insertafter/insertbefore instead of the last.',
      },
      create: { type: 'boolean', default: false, description: 'Create the file when it does not exist.' },
      ...ATTR_SCHEMA,
      backup: { type: 'boolean', default: false, description: 'Keep the replaced file as path.YYYYMMDD-HHMMSS.' },
      validate: {
        type: 'string',
        pattern: '%s',
        description: "Command run on the temporary file before it replaces path; '%s' is replaced by its path.",
      },
    },
    additionalProperties: false,
    anyOf: [{ required: ['path'] }, { required: ['dest'] }],
    allOf: [
      { not: { required: ['insertafter', 'insertbefore'] } },
      { not: { required: ['regexp', 'search_string'] } },
      { if: { properties: { backrefs: { const: true } }, required: ['backrefs'] }, then: { required: ['regexp'] } },
      {
        if: { properties: { state: { const: 'absent' } }, required: ['state'] },
        then: { anyOf: [{ required: ['regexp'] }, { required: ['search_string'] }, { required: ['line'] }] },
        else: { required: ['line'] },
      },
    ],
  },
  example: `- lineinfile:
    path: /etc/postgresql/15/main/postgresql.conf
    regexp: '^#?listen_addresses\\s*='
    line: "listen_addresses = '*'"
- lineinfile:
    path: /etc/hosts
    line: "10.0.0.11 db1"
    insertafter: '^127\\.0\\.0\\.1'`,
  checkMode: 'Reads the file only; reports the write with a diff of the text, or the chown/chmod.',
  async plan(args, ctx) {
    const target = (args.path ?? args.dest)!;
    const attrs: Attrs = { owner: idArg(args.owner), group: idArg(args.group), mode: modeArg(args.mode) };
    const [[st, parent], data] = await Promise.all([
      ctx.remote.stat([target, path.posix.dirname(target)]),
      ctx.remote.readFile(target).catch((e: Error) => e),
    ]);
    if (st.exists && st.type === 'directory') throw new ModuleFailure(`${target} is a directory`, { path: target });
    if (data instanceof Error) throw new ModuleFailure(`cannot read ${target}: ${data.message}`, { path: target });

    if (data === null) {
      if ((args.state ?? 'present') === 'absent') return { changes: [], result: { path: target }, msg: 'file not present' };
      if (!args.create) {
        throw new ModuleFailure(`destination ${target} does not exist`, { rc: 257, path: target });
      }
      missingParent(ctx, parent, target);
      const r = editText('', args);
      const change: Change = {
        kind: 'write',
        summary: `create ${target}`,
        path: target,
        before: null,
        after: r.text,
        mode: attrs.mode !== undefined ? resolveMode(attrs.mode, undefined, false) : undefined,
        owner: attrs.owner,
        group: attrs.group,
        validate: args.validate,
      };
      return { changes: [change], msg: r.msg, result: { path: target } };
    }

    const text = data.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(data)) {
      throw new ModuleFailure(`${target} is not UTF-8 text`, { path: target });
    }
    const r = editText(text, args);
    if (!r.changed) {
      const c = attrChange(target, st, attrs);
      return { changes: c ? [c] : [], result: { path: target } };
    }
    const keep = st.type === 'file';
    const change: Change = {
      kind: 'write',
      summary: `${r.msg} in ${target}`,
      path: target,
      before: text,
      after: r.text,
      mode: attrs.mode !== undefined ? resolveMode(attrs.mode, st.mode, false) : keep ? st.mode : undefined,
      owner: attrs.owner ?? (keep ? st.owner : undefined),
      group: attrs.group ?? (keep ? st.group : undefined),
      backup: args.backup,
      validate: args.validate,
    };
    return { changes: [change], msg: r.msg, result: { path: target } };
  },
});
