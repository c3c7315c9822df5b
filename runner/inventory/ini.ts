/**
 * INI inventories, read the way Ansible's `ini` inventory plugin reads them:
 *
 *   host0 ansible_host=10.0.0.9         # before any section: the host is 'ungrouped'
 *   [web]                               # hosts of group web
 *   web[01:03] http_port=8080 motd="hello world"
 *   db1:2222                            # :port sets ansible_port
 *   [web:vars]                          # variables of group web
 *   ntp_server = ntp.example.com
 *   [prod:children]                     # groups in group prod
 *   web
 *
 * Lines whose first non-blank character is `#` or `;` are comments; a host line is split like a
 * shell line (quotes, backslashes, `#` starts a comment), a vars line at its first `=`.
 *
 * Values, in host lines and in `:vars` alike, are typed as Ansible types them (see
 * py-literal.ts): a Python literal becomes that value (`22`, `True`, `'quoted'`, `[1, 2]`),
 * anything else stays the string as written (`true`, `10.0.0.1`, `foo # not a comment`). In host
 * lines the shell-style quotes are removed first, so `x="1"` is the number 1 and `x="'1'"` the
 * string '1' - exactly as in Ansible.
 *
 * Differences from Ansible, all of them errors where Ansible would guess or warn:
 * a `[g:children]` entry naming a group defined nowhere creates an empty group (Ansible 2.14
 * refuses; a directory inventory may define it in a later file); a `[g:vars]` section for a group
 * defined in no source at all is an error (checked after every source is read, so the order of
 * files does not matter); the same variable set twice for one group in one file is an error.
 */

import { InventoryError, SourceLocation } from '../errors';
import { InventoryData } from './data';
import { parseIniValue } from './py-literal';
import { expandHostEntry } from './ranges';
import { closest } from './suggest';

interface Token {
  text: string;
  /** 1-based column of the token's first character */
  column: number;
}

/** Split a host line like Python's shlex.split(line, comments=True), keeping token columns. */
function shellSplit(line: string, firstColumn: number, at: (column: number) => SourceLocation): Token[] {
  const tokens: Token[] = [];
  let cur: string | null = null;
  let start = 0;
  let quoteAt = 0;
  let state: 'ws' | 'word' | "'" | '"' = 'ws';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (state === "'" || state === '"') {
      if (c === state) state = 'word';
      else if (state === '"' && c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c === ' ' || c === '\t') {
      if (state === 'word') tokens.push({ text: cur!, column: start });
      cur = null;
      state = 'ws';
      continue;
    }
    if (c === '#') break;
    if (state === 'ws') {
      cur = '';
      start = firstColumn + i;
      state = 'word';
    }
    if (c === "'" || c === '"') {
      state = c;
      quoteAt = firstColumn + i;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new InventoryError('a backslash at the end of a host line escapes nothing', at(firstColumn + i));
      cur += line[++i];
    } else cur += c;
  }
  if (state === "'" || state === '"') {
    throw new InventoryError(`unclosed ${state} quote in host line`, at(quoteAt), 'close the quote, or escape it with a backslash');
  }
  if (state === 'word') tokens.push({ text: cur!, column: start });
  return tokens;
}

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:[#;].*)?$/;
/** a line that starts with `[` but is a host: `[2001:db8::1]:22`, `[1:3]host` */
const BRACKETED_HOST = /^\[(?:[0-9a-fA-F:.]*:[0-9a-fA-F:.]*|[0-9]*:[0-9]*(?::[0-9]+)?|[a-zA-Z]:[a-zA-Z](?::[0-9]+)?)\]/;
const CHILD = /^([^:\]\s]+)\s*(?:[#;].*)?$/;
const SECTION_TYPES = ['hosts', 'vars', 'children'];

/** Add the hosts, groups and variables of one INI inventory file to `data`. */
export function parseIni(text: string, file: string, data: InventoryData): void {
  let group = 'ungrouped';
  let state = 'hosts';
  /** `group\0key` -> line, to catch a group variable set twice in this file */
  const groupVarLines = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n];
    const line = raw.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    const firstColumn = raw.length - raw.trimStart().length + 1;
    const at = (column = firstColumn): SourceLocation => ({ file, line: lineNo, column });

    if (line[0] === '[' && !BRACKETED_HOST.test(line)) {
      const m = SECTION.exec(line);
      if (!m) {
        throw new InventoryError(`bad section header: ${line}`, at(),
          'expected [group], [group:vars] or [group:children]: no spaces, one ":" at most');
      }
      const type = m[2] ?? 'hosts';
      if (!SECTION_TYPES.includes(type)) {
        const guess = closest(type, SECTION_TYPES);
        throw new InventoryError(`section [${m[1]}:${type}] has unknown type '${type}'`, at(firstColumn + m[1].length + 2),
          guess ? `did you mean [${m[1]}:${guess}]?` : 'expected [group], [group:vars] or [group:children]');
      }
      group = m[1];
      state = type;
      if (state === 'vars') {
        const g = data.addGroup(group, at(), false);
        if (!g.declared && !g.varsSectionLoc) g.varsSectionLoc = at();
      } else {
        data.addGroup(group, at());
      }
      continue;
    }

    if (state === 'hosts') {
      const tokens = shellSplit(raw.slice(firstColumn - 1), firstColumn, at);
      if (tokens.length === 0) continue; // a line holding only a quoted-away comment
      const [entry, ...assignments] = tokens;
      if (entry.text.trim() === '---') {
        throw new InventoryError("'---' is not a host: this looks like a YAML file", at(entry.column), 'name YAML inventories *.yml or *.yaml');
      }
      const vars: Record<string, unknown> = {};
      const varLocs: Record<string, SourceLocation> = {};
      for (const t of assignments) {
        const eq = t.text.indexOf('=');
        if (eq <= 0) {
          throw new InventoryError(`expected key=value after host '${entry.text}', got '${t.text}'`, at(t.column),
            'host variables are written key=value; quote values with spaces: motd="hello world"');
        }
        const key = t.text.slice(0, eq);
        if (key in vars) throw new InventoryError(`variable '${key}' is set twice on this line`, at(t.column));
        vars[key] = parseIniValue(t.text.slice(eq + 1));
        varLocs[key] = at(t.column);
      }
      const { hosts, port } = expandHostEntry(entry.text, at(entry.column));
      for (const h of hosts) {
        data.addHost(h, file, group, at(entry.column), port);
        for (const [k, v] of Object.entries(vars)) data.setHostVar(h, k, v, varLocs[k]);
      }
    } else if (state === 'vars') {
      const eq = line.indexOf('=');
      const key = eq < 0 ? '' : line.slice(0, eq).trim();
      if (eq < 0 || key === '') {
        throw new InventoryError(`expected key=value in [${group}:vars], got: ${line}`, at(), 'each line of a :vars section sets one variable: name=value');
      }
      const seen = groupVarLines.get(`${group}\0${key}`);
      if (seen !== undefined) {
        throw new InventoryError(`variable '${key}' of group '${group}' is set twice in this file (first on line ${seen})`, at());
      }
      groupVarLines.set(`${group}\0${key}`, lineNo);
      data.setGroupVar(group, key, parseIniValue(line.slice(eq + 1).trim()), at());
    } else {
      const m = CHILD.exec(line);
      if (!m) {
        throw new InventoryError(`expected a group name in [${group}:children], got: ${line}`, at(),
          'a :children section lists one group name per line; hosts belong in a [group] section');
      }
      data.addGroup(m[1], at());
      data.addChild(group, m[1], at());
    }
  }
}
