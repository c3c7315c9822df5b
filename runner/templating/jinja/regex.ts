/**
 * Ansible users write Python regular expressions (`regex_replace('(?P<n>\\d+)', '\\g<n>x')`).
 * JavaScript's syntax is close; these translate the differences that show up in playbooks:
 * named groups `(?P<n>...)` / `(?P=n)`, leading inline flags `(?i)`, `\A` / `\Z`, and
 * replacement strings (`\1`, `\g<1>`, `\g<name>`; a literal `$` must not become a JS reference).
 */

import { TemplateError } from '../../errors';

const cache = new Map<string, RegExp>();

export function pyRegex(pattern: string, opts: { ignorecase?: unknown; multiline?: unknown; global?: boolean } = {}): RegExp {
  let flags = '';
  if (opts.ignorecase) flags += 'i';
  if (opts.multiline) flags += 'm';
  const key = `${flags}${opts.global ? 'g' : ''}\u0000${pattern}`;
  const hit = cache.get(key);
  if (hit) {
    hit.lastIndex = 0;
    return hit;
  }
  let src = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    src = src.slice(inline[0].length);
    for (const f of inline[1]) {
      if (f === 'x') throw new TemplateError(`regular expression "${pattern}": verbose mode (?x) is not supported`);
      if ((f === 'i' || f === 'm' || f === 's') && !flags.includes(f)) flags += f;
    }
  }
  src = translate(src);
  let re: RegExp;
  try {
    re = new RegExp(src, flags + (opts.global ? 'g' : ''));
  } catch (e) {
    throw new TemplateError(`invalid regular expression "${pattern}": ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  if (cache.size > 2000) cache.clear();
  cache.set(key, re);
  return re;
}

/** Rewrite the Python-only constructs outside character classes. */
function translate(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const nx = src[i + 1] ?? '';
      if (!inClass && nx === 'A') out += '^';
      else if (!inClass && nx === 'Z') out += '$';
      else out += c + nx;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // a ']' right after '[' or '[^' is a literal in both dialects
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    const back = /^\(\?P=(\w+)\)/.exec(src.slice(i));
    if (back) {
      out += `\\k<${back[1]}>`;
      i += back[0].length - 1;
      continue;
    }
    out += c;
  }
  return out;
}

/** Python replacement template -> a function for String.replace (no `$` surprises). */
export function pyReplacer(repl: string): (match: string, ...rest: unknown[]) => string {
  type Part = string | { group: number | string };
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i];
    if (c !== '\\' || i + 1 >= repl.length) {
      lit += c;
      continue;
    }
    const rest = repl.slice(i + 1);
    const num = /^[0-9]{1,2}/.exec(rest);
    const named = /^g<(\w+)>/.exec(rest);
    if (num) {
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ group: Number(num[0]) });
      i += num[0].length;
    } else if (named) {
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ group: /^\d+$/.test(named[1]) ? Number(named[1]) : named[1] });
      i += named[0].length;
    } else {
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\' };
      lit += map[rest[0]] ?? '\\' + rest[0];
      i++;
    }
  }
  if (lit) parts.push(lit);
  return (match: string, ...rest: unknown[]) => {
    // String.replace passes groups..., offset, input[, namedGroups]
    const hasNamed = typeof rest[rest.length - 1] === 'object' && rest[rest.length - 1] !== null;
    const named = (hasNamed ? rest[rest.length - 1] : {}) as Record<string, string | undefined>;
    const groups = rest.slice(0, rest.length - (hasNamed ? 3 : 2)) as Array<string | undefined>;
    let s = '';
    for (const p of parts) {
      if (typeof p === 'string') s += p;
      else if (p.group === 0) s += match;
      else if (typeof p.group === 'number') {
        if (p.group > groups.length) throw new TemplateError(`regex replacement refers to group ${p.group}, which the pattern does not have`);
        s += groups[p.group - 1] ?? '';
      } else {
        if (!(p.group in named)) throw new TemplateError(`regex replacement refers to group '${p.group}', which the pattern does not have`);
        s += named[p.group] ?? '';
      }
    }
    return s;
  };
}
