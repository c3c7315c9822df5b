/**
 * blockinfile: a block of lines kept between two marker lines in a text file. The edit is a pure
 * function of the text (`editBlock`, table tested, Ansible's rules); the file is written
 * atomically only when it changed. Its documentation is the defineModule fields below
 * (`tsplay doc blockinfile`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';
import { ATTR_SCHEMA } from './lib/attrs';
import { pyRegex } from './lib/py-regex';
import { planTextEdit, type EditOutcome } from './lib/text-edit';

export interface BlockEdit {
  block?: string;
  state?: 'present' | 'absent';
  marker?: string;
  marker_begin?: string;
  marker_end?: string;
  insertafter?: string;
  insertbefore?: string;
}

export interface BlockinfileArgs extends BlockEdit {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  content?: string;
  create: boolean;
  backup: boolean;
  validate?: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
}

const DEFAULT_MARKER = '# {mark} ANSIBLE MANAGED BLOCK';

/** Lines with their own endings, so untouched lines are written back byte for byte. */
function splitKeep(text: string): string[] {
  return text === '' ? [] : (text.match(/[^\n]*\n|[^\n]+$/g) ?? []);
}

/**
 * Ansible's blockinfile on a text. The markers are whole lines (the last of each counts); a block
 * between them is replaced in place. Without both markers the block goes after the last line
 * matching insertafter (EOF by default), or before the last one matching insertbefore (BOF: at
 * the top); no matching line: at the end. state=absent, or an empty block, removes it markers and all.
 */
export function editBlock(text: string, o: BlockEdit): EditOutcome {
  const marker = o.marker ?? DEFAULT_MARKER;
  const begin = marker.replace(/\{mark\}/g, o.marker_begin ?? 'BEGIN') + '\n';
  const end = marker.replace(/\{mark\}/g, o.marker_end ?? 'END') + '\n';
  const lines = splitKeep(text);
  const block = o.block ?? '';
  const present = (o.state ?? 'present') === 'present' && block !== '';
  const blockLines = present ? [begin, ...splitKeep(block.endsWith('\n') ? block : block + '\n'), end] : [];

  const anchor = o.insertafter !== undefined && o.insertafter !== 'EOF' ? o.insertafter : o.insertbefore !== undefined && o.insertbefore !== 'BOF' ? o.insertbefore : undefined;
  const anchorRe = anchor !== undefined ? pyRegex(anchor) : undefined;

  let n0 = -1;
  let n1 = -1;
  lines.forEach((l, i) => {
    if (l === begin) n0 = i;
    if (l === end) n1 = i;
  });
  let at: number;
  if (n0 < 0 || n1 < 0) {
    if (anchorRe) {
      // Ansible searches each line with its newline; a regexp with (?m) searches the whole text
      at = -1;
      if (anchorRe.multiline) {
        const m = anchorRe.exec(text);
        if (m) at = text.slice(0, m.index).split('\n').length - 1;
      } else {
        lines.forEach((l, i) => {
          if (anchorRe.test(l.replace(/\n$/, ''))) at = i;
        });
      }
      if (at < 0) at = lines.length;
      else if (o.insertafter !== undefined) at += 1;
    } else {
      at = o.insertbefore !== undefined ? 0 : lines.length;
    }
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
    at = n0;
  } else {
    lines.splice(n1, n0 - n1 + 1);
    at = n1;
  }
  // the line before the block must end with a newline, or the marker would join it (Ansible adds
  // it even when there is no block, so state=absent gives a last line its newline)
  if (at > 0 && !lines[at - 1].endsWith('\n')) lines[at - 1] += '\n';
  lines.splice(at, 0, ...blockLines);
  const result = lines.join('');
  if (result === text) return { text, changed: false, msg: '' };
  return { text: result, changed: true, msg: blockLines.length ? 'Block inserted' : 'Block removed' };
}

export default defineModule<BlockinfileArgs>({
  name: 'blockinfile',
  description: 'Insert, update or remove a block of lines between marker lines in a text file.',
  notes: [
    'The markers are whole lines: marker with {mark} replaced by marker_begin / marker_end. A block',
    'already between markers is replaced where it is; otherwise it goes after the last line matching',
    'insertafter (default EOF) or before the last matching insertbefore (BOF: at the top); with no',
    'matching line, at the end. An empty block, or state: absent, removes the block and its markers.',
    'Patterns are Python regular expressions (see `tsplay doc replace`). Use a different marker for',
    'each block in the same file.',
  ].join('\n'),
  returns: '{ path, msg: "Block inserted" | "Block removed" | "File created" }',
  example: `- blockinfile:
    path: /etc/haproxy/haproxy.cfg
    marker: "# {mark} tsplay patroni backends"
    insertafter: '^backend postgres'
    block: |
      server db1 10.0.0.11:5432 check port 8008
      server db2 10.0.0.12:5432 check port 8008`,
  checkMode: 'Reads the file only; reports the write with a diff of the text, or the chown/chmod.',
  schema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['destfile'] }, { required: ['name'] }],
    allOf: [{ not: { required: ['insertafter', 'insertbefore'] } }, { not: { required: ['block', 'content'] } }],
    properties: {
      path: { type: 'string', minLength: 1, description: 'The file on the host.' },
      dest: { type: 'string', minLength: 1, description: 'Alias of path.' },
      destfile: { type: 'string', minLength: 1, description: 'Alias of path.' },
      name: { type: 'string', minLength: 1, description: 'Alias of path.' },
      block: { type: 'string', description: 'The lines between the markers (empty: remove the block).' },
      content: { type: 'string', description: 'Alias of block.' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the block must be there.' },
      marker: { type: 'string', minLength: 1, pattern: '\\{mark\\}', description: "The marker line; '{mark}' becomes marker_begin / marker_end (default '# {mark} ANSIBLE MANAGED BLOCK')." },
      marker_begin: { type: 'string', default: 'BEGIN', description: '{mark} in the first marker line.' },
      marker_end: { type: 'string', default: 'END', description: '{mark} in the last marker line.' },
      insertafter: { type: 'string', minLength: 1, description: "'EOF' or a Python regexp: a new block goes after its last matching line." },
      insertbefore: { type: 'string', minLength: 1, description: "'BOF' or a Python regexp: a new block goes before its last matching line." },
      create: { type: 'boolean', default: false, description: 'Create the file when it does not exist.' },
      backup: { type: 'boolean', default: false, description: 'Keep the replaced file as path.YYYYMMDD-HHMMSS.' },
      validate: { type: 'string', pattern: '%s', description: "Command run on the temporary file before it replaces path; '%s' is replaced by its path." },
      ...ATTR_SCHEMA,
    },
  },

  async plan(a, ctx) {
    const target = (a.path ?? a.dest ?? a.destfile ?? a.name)!;
    const edit: BlockEdit = { ...a, block: a.block ?? a.content };
    if (/\n/.test(`${a.marker ?? ''}${a.marker_begin}${a.marker_end}`)) throw new ModuleFailure('marker, marker_begin and marker_end must be single lines', { path: target });
    // patterns are checked before the file is read
    editBlock('', edit);
    const absent = (a.state ?? 'present') === 'absent';
    return planTextEdit(
      ctx,
      { path: target, owner: a.owner, group: a.group, mode: a.mode, backup: a.backup, validate: a.validate, create: a.create && !absent, absentOk: absent },
      (text, created) => {
        const r = editBlock(text, edit);
        // a created file is a change even when empty (Ansible: "File created")
        return created ? { text: r.text, changed: true, msg: 'File created' } : r;
      },
    );
  },
});
