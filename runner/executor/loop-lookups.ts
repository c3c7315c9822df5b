/**
 * The `with_<lookup>` loops Ansible users write, applied to the rendered terms: what each
 * lookup plugin of ansible-core 2.14 gives, as a pure function (table tests in
 * test/runner/executor/loop-lookups.test.ts). `loop:` itself takes its list as it is.
 */

import { TemplateError } from '../errors';
import type { WITH_LOOKUPS } from '../loader/keywords';

export type LoopLookup = (typeof WITH_LOOKUPS)[number];

const list = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === undefined || x === null ? [] : [x]);

function flattenAll(x: unknown): unknown[] {
  return Array.isArray(x) ? x.flatMap(flattenAll) : x === null || x === undefined ? [] : [x];
}

/** Python's "%d" / "%02d" / "%x" / "host%03d.example" formats of with_sequence. */
function pyFormat(format: string, n: number): string {
  let used = false;
  const out = format.replace(/%(0?)(\d*)([dxXos%])/g, (m, zero: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    used = true;
    const s = conv === 'x' ? n.toString(16) : conv === 'X' ? n.toString(16).toUpperCase() : conv === 'o' ? n.toString(8) : String(n);
    return width ? s.padStart(Number(width), zero ? '0' : ' ') : s;
  });
  if (!used) throw new TemplateError(`with_sequence: format '${format}' has no %d-style field`);
  return out;
}

/** `start=1 end=5 stride=2 format=x%02d`, `count=3`, or the shortcut `1-5/2:x%02d`. */
function sequence(term: unknown): string[] {
  const text = String(term).trim();
  const o: Record<string, string> = {};
  const short = /^(?:(-?\d+|0x[0-9a-f]+)-)?(-?\d+|0x[0-9a-f]+)(?:\/(\d+))?(?::(.+))?$/i.exec(text);
  if (short && !text.includes('=')) {
    if (short[1] !== undefined) o.start = short[1];
    o.end = short[2];
    if (short[3]) o.stride = short[3];
    if (short[4]) o.format = short[4];
  } else {
    for (const kv of text.split(/\s+/).filter(Boolean)) {
      const i = kv.indexOf('=');
      if (i < 1) throw new TemplateError(`with_sequence: cannot read '${kv}' (write start=N end=N stride=N format=F, or count=N)`);
      o[kv.slice(0, i)] = kv.slice(i + 1);
    }
  }
  const num = (k: string, d: number) => {
    if (o[k] === undefined) return d;
    const n = Number(o[k]);
    if (!Number.isInteger(n)) throw new TemplateError(`with_sequence: ${k}=${o[k]} is not an integer`);
    return n;
  };
  const start = num('start', 1);
  const stride = num('stride', 1);
  if (o.count !== undefined && o.end !== undefined) throw new TemplateError('with_sequence: count and end together');
  const end = o.count !== undefined ? start + (num('count', 0) - 1) * stride : num('end', NaN);
  if (!Number.isFinite(end)) throw new TemplateError('with_sequence: needs end=N or count=N');
  if (stride === 0) throw new TemplateError('with_sequence: stride 0');
  const out: string[] = [];
  if ((stride > 0 && end < start) || (stride < 0 && end > start)) return out;
  if (Math.abs((end - start) / stride) > 1_000_000) throw new TemplateError('with_sequence: more than a million items');
  for (let n = start; stride > 0 ? n <= end : n >= end; n += stride) out.push(pyFormat(o.format ?? '%d', n));
  return out;
}

function subelements(terms: unknown[]): unknown[] {
  const [elements, key, flags] = terms;
  if (typeof key !== 'string') throw new TemplateError('with_subelements: the second term must be the name of the sub-list');
  const skipMissing = !!(flags && typeof flags === 'object' && (flags as Record<string, unknown>).skip_missing);
  const out: unknown[] = [];
  for (const el of list(elements)) {
    let v: unknown = el;
    for (const part of key.split('.')) {
      v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[part] : undefined;
      if (v === undefined) break;
    }
    if (v === undefined) {
      if (skipMissing) continue;
      throw new TemplateError(`with_subelements: '${key}' not found in an element (skip_missing: true skips such elements)`);
    }
    if (!Array.isArray(v)) throw new TemplateError(`with_subelements: '${key}' of an element is not a list`);
    for (const sub of v) out.push([el, sub]);
  }
  return out;
}

/** The items of `with_<kind>: terms`, terms already rendered. */
export function expandLookup(kind: LoopLookup, terms: unknown): unknown[] {
  switch (kind) {
    case 'items':
      // one level of flattening, as the items lookup does
      return list(terms).flatMap((x) => (Array.isArray(x) ? x : [x]));
    case 'flattened':
      return flattenAll(terms);
    case 'indexed_items':
      return list(terms).flatMap((x) => (Array.isArray(x) ? x : [x])).map((x, i) => [i, x]);
    case 'together': {
      const lists = list(terms).map(list);
      const n = Math.max(0, ...lists.map((l) => l.length));
      // zip_longest: shorter lists give none
      return Array.from({ length: n }, (_, i) => lists.map((l) => (i < l.length ? l[i] : null)));
    }
    case 'nested':
    case 'cartesian': {
      const lists = list(terms).map(list);
      if (lists.length === 0) return [];
      return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((prefix) => l.map((x) => [...prefix, x])), [[]]);
    }
    case 'sequence':
      return list(terms).flatMap(sequence);
    case 'subelements':
      return subelements(list(terms));
  }
}
