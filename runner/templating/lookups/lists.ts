/**
 * The lookups that build lists from their terms, as ansible-core 2.14's plugins do: items,
 * list, flattened, indexed_items, together, nested / cartesian, dict, subelements, sequence.
 */

import { TemplateError } from '../../errors';
import { isMapping, mappingEntries, typeName } from '../jinja/values';
import type { LookupDef } from './index';

const listOf = (x: unknown): unknown[] => (Array.isArray(x) ? x : x === undefined || x === null ? [] : [x]);

/** One level, as the plugins' _flatten. */
const flatten1 = (terms: unknown[]): unknown[] => terms.flatMap((x) => (Array.isArray(x) ? x : [x]));

function flattenAll(x: unknown): unknown[] {
  return Array.isArray(x) ? x.flatMap(flattenAll) : x === null || x === undefined ? [] : [x];
}

/** Python's "%d" / "%02d" / "%x" / "host%03d.example" formats of sequence. */
function seqFormat(format: string, n: number): string {
  let used = false;
  const out = format.replace(/%(0?)(\d*)([dxXos%])/g, (m, zero: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    used = true;
    const s = conv === 'x' ? n.toString(16) : conv === 'X' ? n.toString(16).toUpperCase() : conv === 'o' ? n.toString(8) : String(n);
    return width ? s.padStart(Number(width), zero ? '0' : ' ') : s;
  });
  if (!used) throw new TemplateError(`format '${format}' has no %d-style field`);
  return out;
}

/** `start=1 end=5 stride=2 format=x%02d`, `count=3`, or the shortcut `1-5/2:x%02d`. */
function sequence(term: unknown, kw: Record<string, unknown>): string[] {
  const text = String(term).trim();
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(kw)) o[k] = String(v);
  const short = /^(?:(-?\d+|0x[0-9a-f]+)-)?(-?\d+|0x[0-9a-f]+)(?:\/(\d+))?(?::(.+))?$/i.exec(text);
  if (short && !text.includes('=')) {
    if (short[1] !== undefined) o.start = short[1];
    o.end = short[2];
    if (short[3]) o.stride = short[3];
    if (short[4]) o.format = short[4];
  } else {
    for (const kv of text.split(/\s+/).filter(Boolean)) {
      const i = kv.indexOf('=');
      if (i < 1) throw new TemplateError(`cannot read '${kv}' (write start=N end=N stride=N format=F, or count=N)`);
      o[kv.slice(0, i)] = kv.slice(i + 1);
    }
  }
  const num = (k: string, d: number) => {
    if (o[k] === undefined) return d;
    const n = Number(o[k]);
    if (!Number.isInteger(n)) throw new TemplateError(`${k}=${o[k]} is not an integer`);
    return n;
  };
  const start = num('start', 1);
  const stride = num('stride', 1);
  if (o.count !== undefined && o.end !== undefined) throw new TemplateError('count and end together');
  const end = o.count !== undefined ? start + (num('count', 0) - 1) * stride : num('end', NaN);
  if (!Number.isFinite(end)) throw new TemplateError('needs end=N or count=N');
  if (stride === 0) throw new TemplateError('stride 0');
  const out: string[] = [];
  if ((stride > 0 && end < start) || (stride < 0 && end > start)) return out;
  if (Math.abs((end - start) / stride) > 1_000_000) throw new TemplateError('more than a million items');
  for (let n = start; stride > 0 ? n <= end : n >= end; n += stride) out.push(seqFormat(o.format ?? '%d', n));
  return out;
}

function subelements(terms: unknown[]): unknown[] {
  const [elements, key, flags] = terms;
  if (terms.length < 2 || terms.length > 3) throw new TemplateError('takes a list (or mapping), the name of the sub-list key, and optionally {skip_missing: true}');
  if (typeof key !== 'string') throw new TemplateError('the second term must be the name of the sub-list');
  if (flags !== undefined && (!isMapping(flags) || Object.keys(flags).some((k) => k !== 'skip_missing'))) {
    throw new TemplateError("the optional third term is a mapping of flags: only 'skip_missing' is known");
  }
  const skipMissing = !!(flags && (flags as Record<string, unknown>).skip_missing);
  // a mapping (a registered result of a loop...) gives its values, as the plugin does
  const list = isMapping(elements) ? ((elements as Record<string, unknown>).skipped ? [] : mappingEntries(elements).map(([, v]) => v)) : listOf(elements);
  const out: unknown[] = [];
  for (const el of list) {
    if (isMapping(el) && (el as Record<string, unknown>).skipped) continue;
    let v: unknown = el;
    for (const part of key.split('.')) {
      v = v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[part] : undefined;
      if (v === undefined) break;
    }
    if (v === undefined) {
      if (skipMissing) continue;
      throw new TemplateError(`'${key}' not found in an element (skip_missing: true skips such elements)`);
    }
    if (!Array.isArray(v)) throw new TemplateError(`'${key}' of an element is not a list`);
    for (const sub of v) out.push([el, sub]);
  }
  return out;
}

function product(lists: unknown[][]): unknown[][] {
  return lists.reduce<unknown[][]>((acc, l) => acc.flatMap((prefix) => l.map((x) => [...prefix, x])), [[]]).map(flatten1);
}

const NO_OPTIONS: readonly string[] = [];

export const LIST_LOOKUPS: Record<string, LookupDef> = {
  items: { options: NO_OPTIONS, run: (terms) => flatten1(terms) },
  list: { options: NO_OPTIONS, run: (terms) => terms },
  flattened: { options: NO_OPTIONS, run: (terms) => flattenAll(terms) },
  indexed_items: { options: NO_OPTIONS, run: (terms) => flatten1(terms).map((x, i) => [i, x]) },
  together: {
    options: NO_OPTIONS,
    run(terms) {
      if (terms.length === 0) throw new TemplateError('requires at least one element in each list');
      const lists = terms.map(listOf);
      const n = Math.max(0, ...lists.map((l) => l.length));
      // zip_longest: shorter lists give none
      return Array.from({ length: n }, (_, i) => flatten1(lists.map((l) => (i < l.length ? l[i] : null))));
    },
  },
  nested: {
    options: NO_OPTIONS,
    run(terms) {
      if (terms.length === 0) throw new TemplateError('requires at least one element in the nested list');
      return product(terms.map(listOf));
    },
  },
  cartesian: { options: NO_OPTIONS, run: (terms) => product(terms.map(listOf)) },
  dict: {
    options: NO_OPTIONS,
    run(terms) {
      return terms.flatMap((t) => {
        if (!isMapping(t)) throw new TemplateError(`expects a mapping, got ${typeName(t)}`);
        return mappingEntries(t).map(([key, value]) => ({ key, value }));
      });
    },
  },
  subelements: { options: NO_OPTIONS, run: (terms) => subelements(terms) },
  sequence: { options: ['start', 'end', 'count', 'stride', 'format'], run: (terms, kw) => (terms.length ? terms : ['']).flatMap((t) => sequence(t, kw)) },
};
