/**
 * Host patterns, as in Ansible (`hosts:` of a play, `--limit`):
 *
 *   all  *            every host
 *   web  db1          a group (its hosts and its descendants' hosts) or a host
 *   web:db  web,db    union
 *   web:&prod         intersection       web:!db1   exclusion
 *   web*  db0?  db[12]  shell globs over group and host names
 *   ~web\d+           a regular expression (anchored at the start, like Python's re.match)
 *   web[0]  web[-1]  web[0:2]  web[1:]   subscripts (inclusive ranges) of a group's hosts
 *
 * Terms are combined like Ansible: first the unions (in the order written), then every `&`,
 * then every `!`, whatever order they were written in; a pattern made only of `&`/`!` terms
 * starts from `all`. `,` and `:` separate terms except inside [...], (...), {...} (so ranges,
 * subscripts and regexes keep theirs) and in IPv6 addresses. Unlike Ansible, a `,` list may
 * hold `:` operators too (`web,db:!db1`), whitespace inside a term is an error rather than a
 * name that matches nothing, and so is an operator with nothing after it (`web:&`).
 */

import { isIPv6 } from 'net';
import { InventoryError, SourceLocation } from '../errors';

export interface PatternTerm {
  op: '' | '&' | '!';
  /** the term without its operator: a name, glob, `~regex`, possibly with a [subscript] */
  expr: string;
}

export interface Subscript {
  start: number;
  /** inclusive; undefined: a single index; -1 with `[x:]`: to the end */
  end?: number;
}

function bad(pattern: string, why: string, loc?: SourceLocation, hint?: string): never {
  throw new InventoryError(`bad host pattern '${pattern}': ${why}`, loc, hint);
}

/** Split a pattern into its terms (validated), in the order written. */
export function parsePattern(pattern: string, loc?: SourceLocation): PatternTerm[] {
  if (pattern.trim() === '') bad(pattern, 'it is empty', loc, "use 'all' for every host");
  const pieces: string[] = [];
  let cur = '';
  let depth = 0;
  let termStart = true;
  let regex = false;
  const stack: string[] = [];
  const pairs: Record<string, string> = { '[': ']', '(': ')', '{': '}' };
  const flush = (): void => {
    pieces.push(cur);
    cur = '';
    termStart = true;
    regex = false;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (termStart && c.trim() !== '' && c !== '&' && c !== '!') {
      termStart = false;
      regex = c === '~';
    }
    if (regex && c === '\\' && i + 1 < pattern.length) {
      cur += c + pattern[++i];
      continue;
    }
    if (c in pairs) {
      stack.push(pairs[c]);
      depth++;
    } else if (c === ']' || c === ')' || c === '}') {
      if (stack.pop() !== c) bad(pattern, `unbalanced '${c}'`, loc);
      depth--;
    } else if (depth === 0 && (c === ',' || c === ':')) {
      // `fe80::1` and the like are one host, not three terms
      if (c === ':' && /^[\s&!]*[0-9a-fA-F]*$/.test(cur)) {
        const head = cur.replace(/^[\s&!]*/, '');
        const rest = /^[0-9a-fA-F:.%\w]*/.exec(pattern.slice(i))![0];
        // the longest IPv6 address that ends where a term may end (`fe80::5:web` is fe80::5 and web)
        let take = -1;
        for (let n = rest.length; n > 0 && take < 0; n--) {
          const next = rest[n] ?? pattern[i + n];
          if ((next === undefined || next === ':' || next === ',') && isIPv6(head + rest.slice(0, n))) take = n;
        }
        if (take > 0) {
          cur += rest.slice(0, take);
          i += take - 1;
          continue;
        }
      }
      flush();
      continue;
    }
    cur += c;
  }
  if (stack.length) bad(pattern, `unbalanced '${({ ']': '[', ')': '(', '}': '{' } as Record<string, string>)[stack[stack.length - 1]]}'`, loc);
  flush();

  const terms: PatternTerm[] = [];
  for (const raw of pieces) {
    const piece = raw.trim();
    if (piece === '') continue; // `web,,db` and a trailing `:` are harmless, as in Ansible
    const m = /^([&!]*)\s*(.*)$/s.exec(piece)!;
    if (m[1].length > 1) bad(pattern, `'${m[1]}' combines two operators`, loc, "write 'a:&b' (and) or 'a:!b' (and not)");
    if (m[2] === '') bad(pattern, `operator '${m[1]}' has nothing after it`, loc, `write e.g. 'web:${m[1]}prod'`);
    const expr = m[2];
    if (expr[0] !== '~' && /\s/.test(expr)) {
      bad(pattern, `'${expr}' contains whitespace`, loc, "separate patterns with ',' or ':'");
    }
    if (expr === '~') bad(pattern, "'~' must be followed by a regular expression", loc);
    terms.push({ op: m[1] as PatternTerm['op'], expr });
  }
  if (terms.length === 0) bad(pattern, 'it names nothing', loc, "use 'all' for every host");
  return terms;
}

/** `web[0]`, `web[-1]`, `web[0:2]`, `web[1:]` (Ansible also accepts the old `[0-2]`). */
export function splitSubscript(expr: string): { expr: string; subscript?: Subscript } {
  if (expr[0] === '~') return { expr };
  const m = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s.exec(expr);
  if (!m) return { expr };
  if (m[2] !== undefined) return { expr: m[1], subscript: { start: Number(m[2]) } };
  return { expr: m[1], subscript: { start: Number(m[3]), end: m[5] === '' ? -1 : Number(m[5]) } };
}

/** Apply a subscript like Ansible: a single index must exist; a range is clamped. */
export function applySubscript<T>(items: T[], sub: Subscript | undefined, pattern: string, loc?: SourceLocation): T[] {
  if (!sub) return items;
  if (sub.end === undefined) {
    const i = sub.start < 0 ? items.length + sub.start : sub.start;
    if (i < 0 || i >= items.length) {
      throw new InventoryError(`no hosts matched the subscripted pattern '${pattern}'`, loc,
        `it selects ${items.length} host${items.length === 1 ? '' : 's'}, numbered from 0`);
    }
    return [items[i]];
  }
  const end = sub.end === -1 ? items.length - 1 : sub.end;
  return items.slice(sub.start, end + 1);
}

/** Python's fnmatch.translate, anchored both ends. */
function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      let j = i + 1;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        out += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, j).replace(/\\/g, '\\\\');
      if (body[0] === '!') body = '^' + body.slice(1);
      else if (body[0] === '^') body = '\\' + body;
      out += `[${body}]`;
      i = j;
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return `^(?:${out})$`;
}

/** A name matcher for a glob or `~regex` term. */
export function compileMatcher(expr: string, pattern: string, loc?: SourceLocation): (name: string) => boolean {
  let source: string;
  if (expr[0] === '~') {
    // Python's named groups, the one common spelling JavaScript lacks
    source = `^(?:${expr.slice(1).replace(/\(\?P</g, '(?<')})`;
  } else {
    source = globToRegExp(expr);
  }
  let re: RegExp;
  try {
    re = new RegExp(source, 's');
  } catch (e) {
    return bad(pattern, `invalid ${expr[0] === '~' ? 'regular expression' : 'glob'} '${expr}' (${(e as Error).message.replace(/^Invalid regular expression: /, '')})`, loc);
  }
  return (name) => re.test(name);
}

/** Whether a term needs matching against host names too, not only group names (Ansible's rule). */
export function isWildcard(expr: string): boolean {
  return expr[0] === '~' || /[.?*[]/.test(expr);
}
