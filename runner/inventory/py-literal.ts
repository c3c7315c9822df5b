/**
 * INI inventory values are typed the way Ansible types them: Ansible hands each value to
 * Python's `ast.literal_eval` and keeps the plain string when that fails. So `port=22` is the
 * number 22, `x=True` a boolean, `l=[1, 'a']` a list, `s='a b'` the string `a b`, while
 * `x=true`, `ip=10.0.0.1`, `n=022` or `s=foo # c` stay strings (none of them is a Python literal).
 *
 * This is a small recursive-descent parser for that subset of Python: numbers (int with
 * `_` separators, hex/octal/binary, floats), strings (quotes, triple quotes, r/b/u prefixes,
 * escapes, adjacent-literal concatenation), True/False/None, lists, tuples and sets (-> arrays),
 * dicts (keys become strings), one unary sign, and `#` comments. Complex numbers, integers
 * beyond 2^53 and anything else Python would reject leave the value a string.
 */

const FAIL = Symbol('not a python literal');
const DIGITS = '[0-9](?:_?[0-9])*';
const DECIMAL = new RegExp(`^(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.?)(?:[eE][+-]?${DIGITS})?`);
type Result = unknown | typeof FAIL;

class LiteralParser {
  pos = 0;
  constructor(readonly s: string) {}

  /** Python's tokenizer skips blanks, line continuations and comments between tokens. */
  skip(): void {
    const s = this.s;
    for (;;) {
      const c = s[this.pos];
      if (c === ' ' || c === '\t' || c === '\f' || c === '\n' || c === '\r') this.pos++;
      else if (c === '#') {
        while (this.pos < s.length && s[this.pos] !== '\n') this.pos++;
      } else if (c === '\\' && (s[this.pos + 1] === '\n')) this.pos += 2;
      else return;
    }
  }

  value(): Result {
    this.skip();
    const s = this.s;
    const c = s[this.pos];
    if (c === undefined) return FAIL;
    if (c === '+' || c === '-') {
      this.pos++;
      this.skip();
      const v = this.number();
      if (v === FAIL || typeof v !== 'number') return FAIL;
      return c === '-' ? -v : v;
    }
    if (c === '[') return this.sequence(']');
    if (c === '(') return this.sequence(')');
    if (c === '{') return this.braces();
    if (/[0-9.]/.test(c)) return this.number();
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos))?.[0];
    if (word !== undefined) {
      const next = s[this.pos + word.length];
      if (/^(?:[rRbBuU]|[bB][rR]|[rR][bB])$/.test(word) && (next === '"' || next === "'")) return this.strings();
      this.pos += word.length;
      if (word === 'True') return true;
      if (word === 'False') return false;
      if (word === 'None') return null;
      return FAIL;
    }
    if (c === '"' || c === "'") return this.strings();
    return FAIL;
  }

  number(): Result {
    const rest = this.s.slice(this.pos);
    const radix = /^0(?:[xX](?:_?[0-9a-fA-F])+|[oO](?:_?[0-7])+|[bB](?:_?[01])+)/.exec(rest);
    let text: string;
    let value: number;
    if (radix) {
      text = radix[0];
      const digits = text.slice(2).replace(/_/g, '');
      value = parseInt(digits, text[1] === 'x' || text[1] === 'X' ? 16 : text[1] === 'o' || text[1] === 'O' ? 8 : 2);
    } else {
      const m = DECIMAL.exec(rest);
      if (!m) return FAIL;
      text = m[0];
      const plain = text.replace(/_/g, '');
      // Python 3 rejects decimal integers with leading zeros ("022"), except all-zero ones
      if (/^0[0-9]+$/.test(plain) && !/^0+$/.test(plain)) return FAIL;
      value = Number(plain);
      if (/^[0-9]+$/.test(plain) && !Number.isSafeInteger(value)) return FAIL;
    }
    this.pos += text.length;
    // a letter straight after a number is a complex (`2j`) or a syntax error (`1st`)
    if (/[A-Za-z0-9_]/.test(this.s[this.pos] ?? '')) return FAIL;
    return value;
  }

  /** One or more adjacent string literals ('a' "b" -> 'ab'). */
  strings(): Result {
    let out = '';
    let any = false;
    for (;;) {
      this.skip();
      const m = /^([rRbBuU]|[bB][rR]|[rR][bB])?("""|'''|"|')/.exec(this.s.slice(this.pos));
      if (!m) break;
      const raw = /[rR]/.test(m[1] ?? '');
      const quote = m[2];
      this.pos += m[0].length;
      const v = this.stringBody(quote, raw);
      if (v === FAIL) return FAIL;
      out += v as string;
      any = true;
    }
    return any ? out : FAIL;
  }

  stringBody(quote: string, raw: boolean): Result {
    const s = this.s;
    let out = '';
    for (;;) {
      if (this.pos >= s.length) return FAIL;
      if (s.startsWith(quote, this.pos)) {
        this.pos += quote.length;
        return out;
      }
      const c = s[this.pos];
      if (c === '\n' && quote.length === 1) return FAIL;
      if (c !== '\\') {
        out += c;
        this.pos++;
        continue;
      }
      const n = s[this.pos + 1];
      if (n === undefined) return FAIL;
      if (raw) {
        // raw strings keep the backslash; it only stops a quote from ending the string
        out += c + n;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '\n': '' };
      if (n in simple) out += simple[n];
      else if (/[0-7]/.test(n)) {
        const m = /^[0-7]{1,3}/.exec(s.slice(this.pos - 1))![0];
        out += String.fromCharCode(parseInt(m, 8));
        this.pos += m.length - 1;
      } else if (n === 'x' || n === 'u' || n === 'U') {
        const len = n === 'x' ? 2 : n === 'u' ? 4 : 8;
        const hex = s.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) return FAIL;
        const cp = parseInt(hex, 16);
        if (cp > 0x10ffff) return FAIL;
        out += String.fromCodePoint(cp);
        this.pos += len;
      } else if (n === 'N') return FAIL; // \N{NAME}: needs the Unicode name table
      else out += '\\' + n; // unknown escapes are kept as written, like Python
    }
  }

  sequence(close: string): Result {
    this.pos++;
    const out: unknown[] = [];
    let sawComma = false;
    for (;;) {
      this.skip();
      if (this.s[this.pos] === close) {
        this.pos++;
        // `(1)` is just 1 in parentheses; `(1,)` and `()` are tuples
        if (close === ')' && out.length === 1 && !sawComma) return out[0];
        return out;
      }
      if (out.length > 0) {
        if (this.s[this.pos] !== ',') return FAIL;
        this.pos++;
        sawComma = true;
        this.skip();
        if (this.s[this.pos] === close) continue;
      }
      const v = this.value();
      if (v === FAIL) return FAIL;
      out.push(v);
    }
  }

  /** `{}` / `{k: v, ...}` (dict) or `{a, b}` (set, returned as an array). */
  braces(): Result {
    this.pos++;
    this.skip();
    if (this.s[this.pos] === '}') {
      this.pos++;
      return {};
    }
    const first = this.value();
    if (first === FAIL) return FAIL;
    this.skip();
    if (this.s[this.pos] !== ':') {
      const items: unknown[] = [first];
      for (;;) {
        this.skip();
        if (this.s[this.pos] === '}') {
          this.pos++;
          return items;
        }
        if (this.s[this.pos] !== ',') return FAIL;
        this.pos++;
        this.skip();
        if (this.s[this.pos] === '}') continue;
        const v = this.value();
        if (v === FAIL) return FAIL;
        items.push(v);
      }
    }
    const out: Record<string, unknown> = {};
    let key: unknown = first;
    for (;;) {
      this.skip();
      if (this.s[this.pos] !== ':') return FAIL;
      this.pos++;
      const v = this.value();
      if (v === FAIL) return FAIL;
      // lists and dicts are unhashable in Python: no such key can exist
      if (key !== null && typeof key === 'object') return FAIL;
      out[key === true ? 'True' : key === false ? 'False' : key === null ? 'None' : String(key)] = v;
      this.skip();
      if (this.s[this.pos] === '}') {
        this.pos++;
        return out;
      }
      if (this.s[this.pos] !== ',') return FAIL;
      this.pos++;
      this.skip();
      if (this.s[this.pos] === '}') {
        this.pos++;
        return out;
      }
      key = this.value();
      if (key === FAIL) return FAIL;
    }
  }
}

/**
 * The value Ansible's INI plugin would give `text`: the Python literal it spells, or the text
 * itself (as written) when it is not one.
 */
export function parseIniValue(text: string): unknown {
  const p = new LiteralParser(text.replace(/^[ \t]+/, ''));
  let v: Result;
  try {
    v = p.value();
  } catch (e) {
    // nested deeper than the stack allows: not a literal we can read, so the text as written
    // (Python's literal_eval gives up on such input too)
    if (e instanceof RangeError) return text;
    throw e;
  }
  if (v === FAIL) return text;
  p.skip();
  return p.pos === p.s.length ? v : text;
}
