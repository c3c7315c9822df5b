/**
 * Tokens of the expression language. Strings follow Python's escapes; numbers allow `_`
 * separators and exponents. Errors carry their offset in the template (`TemplateError.offset`).
 */

import { TemplateError } from '../../errors';

export type TokType = 'num' | 'str' | 'name' | 'op' | 'eof';
export interface Tok {
  type: TokType;
  /** for num/str: the value; for name/op: the text */
  v: string | number;
  s: number;
  e: number;
}

const OPS3 = ['**'];
const OPS2 = ['==', '!=', '<>', '<=', '>=', '//', '..', '**'];
const OPS1 = '+-*/%~|()[]{},:.<>=';

/** A syntax error at `pos` of the expression `src`, which starts at `base` inside its template. */
export function syntaxError(src: string, pos: number, base: number, msg: string): TemplateError {
  const lead = src.length - src.trimStart().length;
  const err = new TemplateError(`template syntax error: ${msg} at column ${Math.max(pos - lead, 0) + 1} of "${src.trim()}"`);
  err.offset = base + pos;
  return err;
}

export function lex(src: string, base: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"') {
      i++;
      let out = '';
      let closed = false;
      while (i < n) {
        const ch = src[i];
        if (ch === c) {
          closed = true;
          i++;
          break;
        }
        if (ch === '\\' && i + 1 < n) {
          const nx = src[i + 1];
          // Python's rule: known escapes are translated, unknown ones keep their backslash,
          // so regexes like '\d+' written in a playbook mean what the author expects.
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
          if (nx in map) out += map[nx];
          else out += '\\' + nx;
          i += 2;
          continue;
        }
        out += ch;
        i++;
      }
      if (!closed) throw syntaxError(src, start, base, 'unterminated string');
      toks.push({ type: 'str', v: out, s: start, e: i });
      continue;
    }
    if (c >= '0' && c <= '9') {
      const prev = toks[toks.length - 1];
      // `a.0.1` is two index steps, not the float 0.1
      const afterDot = prev && prev.type === 'op' && prev.v === '.';
      while (i < n && /[0-9_]/.test(src[i])) i++;
      if (!afterDot && src[i] === '.' && /[0-9]/.test(src[i + 1] ?? '')) {
        i++;
        while (i < n && /[0-9_]/.test(src[i])) i++;
      }
      if (!afterDot && (src[i] === 'e' || src[i] === 'E') && /[-+0-9]/.test(src[i + 1] ?? '')) {
        let j = i + 1;
        if (src[j] === '+' || src[j] === '-') j++;
        if (/[0-9]/.test(src[j] ?? '')) {
          i = j;
          while (i < n && /[0-9]/.test(src[i])) i++;
        }
      }
      const text = src.slice(start, i).replace(/_/g, '');
      toks.push({ type: 'num', v: Number(text), s: start, e: i });
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      while (i < n && /[A-Za-z0-9_]/.test(src[i])) i++;
      toks.push({ type: 'name', v: src.slice(start, i), s: start, e: i });
      continue;
    }
    const three = src.slice(i, i + 3);
    const two = src.slice(i, i + 2);
    if (OPS3.includes(three)) {
      toks.push({ type: 'op', v: three, s: i, e: i + 3 });
      i += 3;
      continue;
    }
    if (OPS2.includes(two)) {
      toks.push({ type: 'op', v: two === '<>' ? '!=' : two, s: i, e: i + 2 });
      i += 2;
      continue;
    }
    if (OPS1.includes(c)) {
      toks.push({ type: 'op', v: c, s: i, e: i + 1 });
      i++;
      continue;
    }
    throw syntaxError(src, i, base, `unexpected character '${c}'`);
  }
  toks.push({ type: 'eof', v: '', s: n, e: n });
  return toks;
}
