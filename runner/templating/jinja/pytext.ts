/**
 * Values as Python prints them, because Ansible's templates are Python's: a value rendered into
 * text is `str(value)` (booleans True/False, None, lists and dicts in repr: `['a', 'b']`,
 * `{'k': 1}`), and `to_json` / `to_nice_json` are `json.dumps` with its defaults (separators
 * ", " and ": ", ensure_ascii). A playbook that writes `msg: "flag={{ flag }}"` or a config
 * line from `{{ list }}` must produce the same bytes under tsplay as under ansible-playbook.
 */

import { Undefined } from './values';

/** Python's repr of a str: single quotes unless the text has ' and no ", escapes as Python. */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += `\\${q}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${hex(c, 2)}`;
    // str.isprintable(): Other (Cc Cf Cs Co Cn) and separators other than the space are escaped
    else if (ch !== ' ' && /[\p{C}\p{Z}]/u.test(ch)) out += c < 0x100 ? `\\x${hex(c, 2)}` : c < 0x10000 ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`;
    else out += ch;
  }
  return out + q;
}

function hex(c: number, width: number): string {
  return c.toString(16).padStart(width, '0');
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  return String(n);
}

function entriesOf(v: unknown): Array<[string, unknown]> | undefined {
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [String(k), x]);
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && !(v instanceof Date)) {
    return Object.entries(v as Record<string, unknown>);
  }
  return undefined;
}

/** Python's repr: what a value looks like inside a list or dict printed as text. */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return pyStrRepr(v);
  if (v === null || v === undefined || v instanceof Undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNumber(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (Buffer.isBuffer(v)) return pyStrRepr(v.toString('utf8'));
  if (v instanceof Date) return pyStrRepr(v.toISOString());
  const e = entriesOf(v);
  if (e) return `{${e.map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  return pyStrRepr(String(v));
}

/** Python's str() of a scalar or container, as a template prints it. Strings are themselves. */
export function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

/** JSON text of a string with ensure_ascii: every non-ASCII character as \uXXXX (surrogates for astral). */
function jsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

/**
 * `json.dumps(v, indent=indent, sort_keys=sortKeys)`: without indent the separators are ", "
 * and ": "; with one, "," at line ends and ": ". Undefined values are null, as Ansible's
 * encoder has them; NaN and infinities as Python writes them.
 */
export function pyJson(v: unknown, indent?: number, sortKeys = false): string {
  const nl = indent !== undefined && indent !== null && indent >= 0;
  const pad = (level: number) => (nl ? `\n${' '.repeat(indent! * level)}` : '');
  const walk = (x: unknown, level: number): string => {
    if (typeof x === 'string') return jsonString(x);
    if (x === null || x === undefined || x instanceof Undefined) return 'null';
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (typeof x === 'number') return Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : String(x);
    if (x instanceof Date) return jsonString(x.toISOString());
    if (Buffer.isBuffer(x)) return jsonString(x.toString('utf8'));
    const sep = nl ? ',' : ', ';
    if (Array.isArray(x)) {
      if (x.length === 0) return '[]';
      return `[${pad(level + 1)}${x.map((i) => walk(i, level + 1)).join(sep + pad(level + 1))}${pad(level)}]`;
    }
    const e = entriesOf(x);
    if (!e) return jsonString(String(x));
    if (e.length === 0) return '{}';
    if (sortKeys) e.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${pad(level + 1)}${e.map(([k, i]) => `${jsonString(k)}: ${walk(i, level + 1)}`).join(sep + pad(level + 1))}${pad(level)}}`;
  };
  return walk(v, 0);
}
