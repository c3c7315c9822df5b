/**
 * replace: every match of a regular expression in a file replaced, optionally only between an
 * `after` and a `before` match. The edit is a pure function of the text (`replaceText`, table
 * tested); the file is written atomically only when it changed. Its documentation is the
 * defineModule fields below (`tsplay doc replace`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';
import { ATTR_SCHEMA } from './lib/attrs';
import { expandBackrefs, pyRegex } from './lib/py-regex';
import { planTextEdit, type EditOutcome } from './lib/text-edit';

export interface ReplaceEdit {
  regexp: string;
  replace?: string;
  after?: string;
  before?: string;
}

export interface ReplaceArgs extends ReplaceEdit {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  backup: boolean;
  validate?: string;
  encoding: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
}

/**
 * Ansible's replace on a text: the section is the text between the first `after` match and the
 * `before` match (the nearest with both, the last `before` with only that; the whole text when
 * the section pattern does not match), and every `regexp` match in it (MULTILINE) is replaced by
 * `replace` with Python's backreferences. A replacement that leaves the text as it was is no change.
 */
export function replaceText(text: string, o: ReplaceEdit): EditOutcome & { count: number } {
  let start = 0;
  let end = text.length;
  if (o.after !== undefined || o.before !== undefined) {
    // Ansible builds one pattern around a named group, matched with DOTALL
    const section = o.after !== undefined && o.before !== undefined ? `${o.after}(?P<subsection>.*?)${o.before}` : o.after !== undefined ? `${o.after}(?P<subsection>.*)` : `(?P<subsection>.*)${o.before}`;
    const m = pyRegex(section, { dotall: true }).exec(text);
    const at = m?.indices?.groups?.subsection;
    if (at) [start, end] = at;
  }
  const part = text.slice(start, end);
  const re = pyRegex(o.regexp, { multiline: true, global: true });
  let out = '';
  let last = 0;
  let count = 0;
  for (const m of part.matchAll(re)) {
    out += part.slice(last, m.index) + expandBackrefs(o.replace ?? '', m);
    last = m.index! + m[0].length;
    count++;
  }
  out += part.slice(last);
  if (count === 0 || out === part) return { text, changed: false, msg: '', count };
  return { text: text.slice(0, start) + out + text.slice(end), changed: true, msg: `${count} replacements made`, count };
}

const ENCODINGS: Record<string, BufferEncoding> = { 'utf-8': 'utf8', utf8: 'utf8', 'latin-1': 'latin1', latin1: 'latin1', 'iso-8859-1': 'latin1', ascii: 'latin1' };

export default defineModule<ReplaceArgs>({
  name: 'replace',
  description: 'Replace every match of a regular expression in a file, optionally only after/before other matches.',
  notes: [
    'Patterns are Python regular expressions, as in Ansible: regexp is matched with MULTILINE (^ and $',
    'at each line), after/before with DOTALL; (?P<name>...), (?P=name), \\A, \\Z, {,n}, (?#...) and',
    'leading (?i)/(?s)/(?m) are translated. What JavaScript cannot match the same way is refused with',
    'an error naming it: verbose (?x), atomic groups, possessive quantifiers, conditionals, scoped',
    'flags. replace takes \\1, \\g<1>, \\g<name> and \\n-style escapes. A missing file is an error.',
  ].join('\n'),
  returns: '{ path, msg: "N replacements made" }',
  example: `- replace:
    path: /etc/postgresql/15/main/pg_hba.conf
    regexp: '^(host\\s+all\\s+all\\s+)127\\.0\\.0\\.1/32(\\s+)md5$'
    replace: '\\g<1>10.0.0.0/24\\2scram-sha-256'
    after: '# IPv4 local connections:'
    backup: true`,
  checkMode: 'Reads the file only; reports the write with a diff of the text, or the chown/chmod.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['regexp'],
    anyOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['destfile'] }, { required: ['name'] }],
    properties: {
      path: { type: 'string', minLength: 1, description: 'The file on the host.' },
      dest: { type: 'string', minLength: 1, description: 'Alias of path.' },
      destfile: { type: 'string', minLength: 1, description: 'Alias of path.' },
      name: { type: 'string', minLength: 1, description: 'Alias of path.' },
      regexp: { type: 'string', description: 'Python regular expression; every match (MULTILINE) is replaced.' },
      replace: { type: 'string', default: '', description: 'The replacement, with \\1, \\g<1>, \\g<name> backreferences (default: remove the match).' },
      after: { type: 'string', description: 'Only replace in the text after the first match of this expression (DOTALL).' },
      before: { type: 'string', description: 'Only replace in the text before the last match of this expression (DOTALL).' },
      backup: { type: 'boolean', default: false, description: 'Keep the replaced file as path.YYYYMMDD-HHMMSS.' },
      validate: { type: 'string', pattern: '%s', description: "Command run on the temporary file before it replaces path; '%s' is replaced by its path." },
      encoding: { type: 'string', default: 'utf-8', description: 'Encoding of the file: utf-8 (default) or latin-1.' },
      ...ATTR_SCHEMA,
    },
  },

  async plan(a, ctx) {
    const target = (a.path ?? a.dest ?? a.destfile ?? a.name)!;
    const encoding = ENCODINGS[a.encoding.toLowerCase()];
    if (!encoding) throw new ModuleFailure(`encoding ${a.encoding} is not supported (utf-8 or latin-1)`, { path: target });
    // patterns are checked before the file is read: a bad one fails the same with or without it
    replaceText('', a);
    return planTextEdit(ctx, { path: target, owner: a.owner, group: a.group, mode: a.mode, backup: a.backup, validate: a.validate, encoding }, (text) => replaceText(text, a));
  },
});
