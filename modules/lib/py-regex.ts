/**
 * Python `re` patterns and replacement templates for the text-editing modules (lineinfile,
 * replace, blockinfile): Ansible runs them with Python, tsplay with JavaScript's RegExp. The
 * constructs that mean the same are translated; those JavaScript would read differently, or not
 * at all, are refused with an error naming the construct, never silently matched otherwise.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import { ModuleFailure } from '../../runner/module-api';

export interface PyRegexOptions {
  /** re.MULTILINE: ^ and $ at every line (replace always uses it) */
  multiline?: boolean;
  /** re.DOTALL */
  dotall?: boolean;
  global?: boolean;
}

function refuse(source: string, what: string): never {
  throw new ModuleFailure(`regular expression '${source}': ${what} is not supported (Python syntax that JavaScript cannot match the same way)`, { regexp: source });
}

/** Python `re` syntax -> JavaScript RegExp. */
export function pyRegex(source: string, o: PyRegexOptions = {}): RegExp {
  const flags = new Set<string>();
  if (o.multiline) flags.add('m');
  if (o.dotall) flags.add('s');
  let s = source;
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(s);
  if (inline) {
    s = s.slice(inline[0].length);
    for (const f of inline[1]) {
      if (f === 'i' || f === 'm' || f === 's') flags.add(f);
      else if (f === 'x') refuse(source, 'verbose mode (?x)');
      else if (f === 'L') refuse(source, 'locale mode (?L)');
      else if (f !== 'a' && f !== 'u') refuse(source, `the inline flag (?${f})`);
    }
  }
  let out = '';
  let inClass = false;
  const m = flags.has('m');
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const rest = s.slice(i);
    if (c === '\\') {
      const nx = s[i + 1] ?? '';
      if (nx === '') refuse(source, 'a trailing backslash');
      // start and end of the whole text, whatever MULTILINE says
      if (!inClass && nx === 'A') out += m ? '(?<![\\s\\S])' : '^';
      else if (!inClass && nx === 'Z') out += m ? '(?![\\s\\S])' : '$';
      else if (nx === 'U' || nx === 'N') refuse(source, `the escape \\${nx}`);
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
      // a ']' right after '[' or '[^' is a literal in Python; JavaScript reads '[]' as an empty class
      if (s[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (s[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (rest.startsWith('(?P<')) {
      out += '(?<';
      i += 3;
      continue;
    }
    const back = /^\(\?P=(\w+)\)/.exec(rest);
    if (back) {
      out += `\\k<${back[1]}>`;
      i += back[0].length - 1;
      continue;
    }
    const comment = /^\(\?#[^)]*\)/.exec(rest);
    if (comment) {
      i += comment[0].length - 1;
      continue;
    }
    if (rest.startsWith('(?>')) refuse(source, 'an atomic group (?>...)');
    if (rest.startsWith('(?(')) refuse(source, 'a conditional group (?(...)...)');
    if (/^\(\?[a-zA-Z-]+[:)]/.test(rest)) refuse(source, 'an inline flag group not at the start');
    // a possessive quantifier (Python 3.11): '+' right after a quantifier ('}' only when it closes {m,n})
    if (/^[*+?]\+/.test(rest) || (rest.startsWith('}+') && /\{\d*,?\d*$/.test(out))) refuse(source, `the possessive quantifier ${c}+`);
    const upTo = /^\{,(\d+)\}/.exec(rest);
    if (upTo) {
      // Python's {,n} is {0,n}; JavaScript would read it as the literal text
      out += `{0,${upTo[1]}}`;
      i += upTo[0].length - 1;
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(out, [...flags].join('') + (o.global ? 'g' : '') + 'd');
  } catch (e) {
    throw new ModuleFailure(`invalid regular expression '${source}': ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`, { regexp: source });
  }
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };

/** Python's match.expand(): \1, \g<1>, \g<name>, and the escapes \n \t \r \f \v \a \b \\ in the template. */
export function expandBackrefs(template: string, m: RegExpExecArray): string {
  return template.replace(/\\(?:g<(\w+)>|(\d{1,2})|([ntrfvab\\]))/g, (_all, g: string | undefined, num: string | undefined, esc: string | undefined) => {
    if (esc) return ESCAPES[esc];
    const key = g ?? num!;
    const v = /^\d+$/.test(key) ? m[Number(key)] : m.groups?.[key];
    if (v === undefined && /^\d+$/.test(key) && Number(key) >= m.length) {
      throw new ModuleFailure(`backreference \\${key} refers to a group the regexp does not have`);
    }
    if (v === undefined && !/^\d+$/.test(key) && !(m.groups && key in m.groups)) {
      throw new ModuleFailure(`backreference \\g<${key}> refers to a group the regexp does not have`);
    }
    return v ?? '';
  });
}
