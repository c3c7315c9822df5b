/**
 * Values that must never reach output: vault-decrypted values, become/ssh passwords, and
 * anything else registered. Every reporter passes its text through `mask()` before printing,
 * and error messages are masked at the top, so a secret can leak only if it was never
 * registered. `no_log` is handled by the executor (it replaces whole results).
 */

export const MASK = '********';

export class SecretRegistry {
  private values = new Set<string>();
  private pattern: RegExp | null = null;

  /** Register a secret (values shorter than 3 characters are not masked: too many false hits). */
  add(value: unknown): void {
    if (typeof value !== 'string' && typeof value !== 'number') return;
    const s = String(value);
    if (s.length < 3 || this.values.has(s)) return;
    this.values.add(s);
    // a multi-line secret may also appear line by line (e.g. a key in a diff)
    for (const line of s.split('\n')) if (line.trim().length >= 8) this.values.add(line.trim());
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
    this.pattern = null;
  }

  /** Replace every registered secret in `text` with ********. */
  mask(text: string): string {
    if (this.values.size === 0 || !text) return text;
    if (!this.pattern) {
      const sorted = [...this.values].sort((a, b) => b.length - a.length);
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
    for (const v of this.values) for (let i = 0; i + N <= v.length; i++) grams.add(v.slice(i, i + N));
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
