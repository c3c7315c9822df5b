/**
 * Values that must never reach output: vault-decrypted values, become/ssh passwords, and
 * anything else registered. Every reporter passes its text through `mask()` before printing,
 * and error messages are masked at the top, so a secret can leak only if it was never
 * registered. `no_log` is handled by the executor (it replaces whole results).
 *
 * A secret reaches output in more forms than the one registered: a command line carries it
 * shell-quoted, `--format json` and a JSON result carry it JSON-escaped, a URL carries it
 * percent-encoded, an Authorization header or a k8s-style secret carries it in base64. So each
 * registered value is masked in every form `encodings()` lists. Base64 of the exact value is
 * masked whole; base64 of the value inside a longer text is masked too, at each of the 3 byte
 * alignments, except for the up to 2 bytes at each end of the value that share a base64 group
 * with their neighbours (those characters depend on the neighbours too, so they cannot be
 * known in advance; they carry a few bits of the value at most). Encoded fragments shorter
 * than 8 characters are not masked: 4 base64 characters match by chance far too often.
 */

import { quote } from './shell-quote';

export const MASK = '********';

/** Encoded forms shorter than this are not worth masking (false hits, see above). */
const MIN_ENCODED = 8;

/** Characters that shell-quote.ts leaves unquoted (and so a backslash-escaper leaves alone). */
const SHELL_SAFE = /[^A-Za-z0-9_@%+=:,./-]/g;

function tryEncode(f: (s: string) => string, s: string): string | undefined {
  try {
    return f(s);
  } catch {
    // encodeURIComponent refuses lone surrogates: such a value cannot be URL-encoded anyway
    return undefined;
  }
}

/** Base64 (standard and URL-safe, with and without padding) of the bytes, whole and at each alignment. */
function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  const both = (b64: string) => out.push(b64, b64.replace(/=+$/, ''), b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
  both(bytes.toString('base64'));
  // inside a longer text the value starts at some offset mod 3: the groups lying wholly inside
  // the value encode the same way whatever surrounds it
  for (let skip = 0; skip < 3; skip++) {
    const body = bytes.subarray(skip);
    const whole = body.subarray(0, body.length - (body.length % 3));
    if (whole.length >= 6) both(whole.toString('base64'));
  }
  return out;
}

/** JSON string escaping without the quotes. */
const jsonInner = (s: string): string => JSON.stringify(s).slice(1, -1);

/** Every form in which output can carry `s`: raw, JSON-escaped, shell-quoted, URL-encoded, base64. */
export function encodings(s: string): string[] {
  const primary = [
    s,
    // single-quoted as shell-quote.ts does it; the inner form also matches when the value is
    // part of a longer quoted word ('--password=it'\''s')
    s.includes('\0') ? s : quote(s),
    s.replace(/'/g, `'\\''`),
    // double-quoted and backslash-escaped shell words (printf %q, hand-written commands)
    s.replace(/["\\$`]/g, '\\$&'),
    s.replace(SHELL_SAFE, '\\$&'),
    tryEncode(encodeURIComponent, s),
    tryEncode((x) => encodeURIComponent(x).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()), s),
    tryEncode(encodeURI, s),
    // application/x-www-form-urlencoded: a space is '+'
    tryEncode((x) => new URLSearchParams({ v: x }).toString().slice(2), s),
  ];
  const out = new Set<string>();
  for (const f of primary) {
    if (f === undefined || f.length < 3) continue;
    // each of these in a JSON string (--format json, a JSON result), and in a JSON string
    // inside a JSON string (a command that printed JSON, shown by --format json)
    out.add(f).add(jsonInner(f)).add(jsonInner(jsonInner(f)));
  }
  for (const f of base64Forms(Buffer.from(s, 'utf8'))) if (f.length >= MIN_ENCODED) out.add(f);
  return [...out];
}

export class SecretRegistry {
  /** the values registered */
  private values = new Set<string>();
  /** what is masked: every encoding of every value (and of each line of a multi-line value) */
  private forms = new Set<string>();
  private pattern: RegExp | null = null;

  /** Register a secret (values shorter than 3 characters are not masked: too many false hits). */
  add(value: unknown): void {
    if (typeof value !== 'string' && typeof value !== 'number') return;
    const s = String(value);
    if (s.length < 3 || this.values.has(s)) return;
    this.values.add(s);
    for (const f of encodings(s)) this.forms.add(f);
    // a multi-line secret may also appear line by line (e.g. a key in a diff)
    for (const line of s.split('\n')) {
      if (line.trim().length >= 8) for (const f of encodings(line.trim())) this.forms.add(f);
    }
    this.pattern = null;
  }

  get size(): number {
    return this.values.size;
  }

  has(value: string): boolean {
    return this.values.has(value);
  }

  clear(): void {
    this.values.clear();
    this.forms.clear();
    this.pattern = null;
  }

  /** Replace every registered secret in `text` with ********. */
  mask(text: string): string {
    if (this.values.size === 0 || !text) return text;
    if (!this.pattern) {
      const sorted = [...this.forms].sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(sorted.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    }
    return text.replace(this.pattern, MASK);
  }

  /**
   * For error messages, which often quote a few characters of their input (parsers, tools):
   * also mask every run of 8 or more characters that appears inside a secret.
   */
  maskFragments(text: string): string {
    text = this.mask(text);
    if (!text || this.values.size === 0) return text;
    const N = 8;
    const grams = new Set<string>();
    for (const v of this.forms) for (let i = 0; i + N <= v.length; i++) grams.add(v.slice(i, i + N));
    if (grams.size === 0) return text;
    const covered = new Uint8Array(text.length);
    let any = false;
    for (let i = 0; i + N <= text.length; i++) {
      if (grams.has(text.slice(i, i + N))) {
        covered.fill(1, i, i + N);
        any = true;
      }
    }
    if (!any) return text;
    let out = '';
    for (let i = 0; i < text.length; ) {
      if (covered[i]) {
        while (i < text.length && covered[i]) i++;
        out += MASK;
      } else out += text[i++];
    }
    return out;
  }

  /** Deep copy of a value with every string masked. */
  maskValue<T>(value: T): T {
    if (this.values.size === 0) return value;
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.mask(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) out[k] = walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}

/** The process-wide registry (one run per process). */
export const secrets = new SecretRegistry();
