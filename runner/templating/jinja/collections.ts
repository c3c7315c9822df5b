/**
 * Filters over lists and mappings (length, sort, unique, union, combine, dict2items, map,
 * select, ...), as Jinja and Ansible define them.
 */

import { TemplateError } from '../../errors';
import { f, FilterDef, FilterEnv, Kwargs, needList, needMapping, str } from './filter-def';
import { param } from './predicates';
import { compareValues, deepEqual, getAttr, hasOwn, isMapping, isPlainObject, mappingEntries, mappingGet, mappingKeys, MISSING, setKey, truthy, typeName, Undefined } from './values';

/** `a.b.0` attribute paths of map/sort/selectattr (numbers index lists). */
export function attrPath(obj: unknown, path: unknown): unknown {
  let cur = obj;
  for (const seg of String(path).split('.')) {
    const key = Array.isArray(cur) && /^-?\d+$/.test(seg) ? Number(seg) : seg;
    cur = getAttr(cur, key);
    if (cur === MISSING) return MISSING;
  }
  return cur;
}

function uniq(items: unknown[]): unknown[] {
  const out: unknown[] = [];
  const prim = new Set<unknown>();
  for (const x of items) {
    if (x === null || typeof x !== 'object') {
      if (prim.has(x)) continue;
      prim.add(x);
      out.push(x);
    } else if (!out.some((y) => deepEqual(x, y))) {
      out.push(x);
    }
  }
  return out;
}

function includesDeep(list: unknown[], x: unknown): boolean {
  return list.some((y) => deepEqual(x, y));
}

function flatten(list: unknown[], levels: number | null, skipNulls: boolean): unknown[] {
  const out: unknown[] = [];
  for (const x of list) {
    if (skipNulls && (x === null || x === 'None')) continue;
    if (Array.isArray(x) && (levels === null || levels > 0)) out.push(...flatten(x, levels === null ? null : levels - 1, skipNulls));
    else out.push(x);
  }
  return out;
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown> | Map<unknown, unknown>, recursive: boolean, listMerge: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) setKey(out, k, v);
  for (const [k, v] of mappingEntries(b)) {
    const old = hasOwn(out, k) ? out[k] : undefined;
    if (recursive && isMapping(old) && isMapping(v)) {
      setKey(out, k, mergeDeep(Object.fromEntries(mappingEntries(old)), v, recursive, listMerge));
    } else if (Array.isArray(old) && Array.isArray(v) && listMerge !== 'replace') {
      let merged: unknown[];
      switch (listMerge) {
        case 'keep':
          merged = old;
          break;
        case 'append':
          merged = [...old, ...v];
          break;
        case 'prepend':
          merged = [...v, ...old];
          break;
        case 'append_rp':
          merged = [...old.filter((x) => !includesDeep(v, x)), ...v];
          break;
        case 'prepend_rp':
          merged = [...v, ...old.filter((x) => !includesDeep(v, x))];
          break;
        default:
          throw new TemplateError(`combine: unknown list_merge '${listMerge}'`, undefined, 'use replace, keep, append, prepend, append_rp or prepend_rp');
      }
      setKey(out, k, merged);
    } else {
      setKey(out, k, v);
    }
  }
  return out;
}

function aggregate(name: string, input: unknown, kw: Kwargs, pick: (c: number) => boolean): unknown {
  const list = needList(name, input);
  if (!list.length) return new Undefined(name, `'${name}' of an empty list`);
  const attr = kw.attribute;
  const key = (x: unknown) => {
    const v = attr === undefined ? x : attrPath(x, attr);
    if (v === MISSING) throw new TemplateError(`${name}: an item has no attribute '${String(attr)}'`);
    return typeof v === 'string' && !truthy(kw.case_sensitive) ? v.toLowerCase() : v;
  };
  let best = list[0];
  let bestKey = key(best);
  for (const x of list.slice(1)) {
    const k = key(x);
    if (pick(compareValues(k, bestKey))) {
      best = x;
      bestKey = k;
    }
  }
  return best;
}

function addValues(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  throw new TemplateError(`sum: cannot add ${typeName(a)} and ${typeName(b)}`);
}

function select(name: string, input: unknown, args: unknown[], env: FilterEnv, attr: boolean, keep: boolean): unknown[] {
  const list = needList(name, input);
  const attribute = attr ? args[0] : undefined;
  const rest = attr ? args.slice(1) : args;
  if (attr && (attribute === undefined || attribute === null)) throw new TemplateError(`${name} needs an attribute name`);
  const testName = rest[0];
  const testArgs = rest.slice(1);
  return list.filter((item) => {
    let v: unknown = item;
    if (attr) {
      const got = attrPath(item, attribute);
      v = got === MISSING ? new Undefined(`item.${String(attribute)}`) : got;
    }
    const ok = testName === undefined ? truthy(env.need(v)) : env.applyTest(String(testName), v, testArgs);
    return ok === keep;
  });
}

function lengthOf(name: string, x: unknown): number {
  if (typeof x === 'string' || Array.isArray(x)) return x.length;
  if (x instanceof Map) return x.size;
  if (isPlainObject(x)) return Object.keys(x).length;
  throw new TemplateError(`the '${name}' filter expects a string, list or mapping, got ${typeName(x)}`);
}

export const COLLECTION_FILTERS: Record<string, FilterDef> = {
  // -- lists
  length: f((x) => lengthOf('length', x)),
  count: f((x) => lengthOf('count', x)),
  first: f((x) => {
    const l = typeof x === 'string' ? x : needList('first', x);
    return l.length ? l[0] : new Undefined('first', 'no first item: the list is empty');
  }),
  last: f((x) => {
    const l = typeof x === 'string' ? x : needList('last', x);
    return l.length ? l[l.length - 1] : new Undefined('last', 'no last item: the list is empty');
  }),
  reverse: f((x) => (typeof x === 'string' ? [...x].reverse().join('') : [...needList('reverse', x)].reverse())),
  join: f((x, a, k) => {
    const sep = str(param(a, k, 0, 'd', ''));
    const attr = param(a, k, 1, 'attribute');
    return needList('join', x)
      .map((i) => str(attr === undefined ? i : attrPath(i, attr) === MISSING ? '' : attrPath(i, attr)))
      .join(sep);
  }),
  unique: f((x) => uniq(needList('unique', x))),
  sort: f((x, a, k) => {
    // Liquid spells the attribute positionally (`sort: 'name'`); Jinja's first positional is `reverse`
    let reverse = param(a, k, -1, 'reverse', false);
    let attribute = param(a, k, -1, 'attribute');
    if (typeof a[0] === 'string' && attribute === undefined) attribute = a[0];
    else if (a.length) reverse = a[0];
    const caseSensitive = truthy(param(a, k, 1, 'case_sensitive', false));
    const keyed = needList('sort', x).map((item) => {
      let key = attribute === undefined ? item : attrPath(item, attribute);
      if (key === MISSING) throw new TemplateError(`sort: an item has no attribute '${String(attribute)}'`);
      if (typeof key === 'string' && !caseSensitive) key = key.toLowerCase();
      return { item, key };
    });
    keyed.sort((p, q) => compareValues(p.key, q.key));
    const out = keyed.map((p) => p.item);
    return truthy(reverse) ? out.reverse() : out;
  }),
  min: f((x, a, k) => aggregate('min', x, k, (c) => c < 0)),
  max: f((x, a, k) => aggregate('max', x, k, (c) => c > 0)),
  sum: f((x, a, k) => {
    const attr = param(a, k, 0, 'attribute');
    let total = param(a, k, 1, 'start', 0);
    for (const i of needList('sum', x)) {
      const v = attr === undefined || attr === null ? i : attrPath(i, attr);
      if (v === MISSING) throw new TemplateError(`sum: an item has no attribute '${String(attr)}'`);
      total = addValues(total, v);
    }
    return total;
  }),
  flatten: f((x, a, k) => {
    const levels = param(a, k, 0, 'levels', null);
    return flatten(needList('flatten', x), levels === null || levels === undefined ? null : Number(levels), truthy(param(a, k, 1, 'skip_nulls', true)));
  }),
  union: f((x, a, k) => uniq([...needList('union', x), ...needList('union', param(a, k, 0, 'b', []))])),
  intersect: f((x, a, k) => {
    const b = needList('intersect', param(a, k, 0, 'b', []));
    return uniq(needList('intersect', x).filter((i) => includesDeep(b, i)));
  }),
  difference: f((x, a, k) => {
    const b = needList('difference', param(a, k, 0, 'b', []));
    return uniq(needList('difference', x).filter((i) => !includesDeep(b, i)));
  }),
  symmetric_difference: f((x, a, k) => {
    const l = needList('symmetric_difference', x);
    const b = needList('symmetric_difference', param(a, k, 0, 'b', []));
    return uniq([...l.filter((i) => !includesDeep(b, i)), ...b.filter((i) => !includesDeep(l, i))]);
  }),
  zip: f((x, a) => {
    const lists = [needList('zip', x), ...a.map((l) => needList('zip', l))];
    const n = Math.min(...lists.map((l) => l.length));
    return Array.from({ length: n }, (_, i) => lists.map((l) => l[i]));
  }),
  dict2items: f((x, a, k) => {
    const kn = String(param(a, k, 0, 'key_name', 'key'));
    const vn = String(param(a, k, 1, 'value_name', 'value'));
    return mappingEntries(needMapping('dict2items', x)).map(([key, value]) => {
      const o: Record<string, unknown> = {};
      setKey(o, kn, key);
      setKey(o, vn, value);
      return o;
    });
  }),
  items2dict: f((x, a, k) => {
    const kn = String(param(a, k, 0, 'key_name', 'key'));
    const vn = String(param(a, k, 1, 'value_name', 'value'));
    const out: Record<string, unknown> = {};
    for (const item of needList('items2dict', x)) {
      if (!isMapping(item)) throw new TemplateError(`items2dict expects a list of mappings, got an item of type ${typeName(item)}`);
      const key = mappingGet(item, kn);
      if (key === undefined) throw new TemplateError(`items2dict: an item has no '${kn}' key`);
      if (!(item instanceof Map ? item.has(vn) : hasOwn(item, vn))) throw new TemplateError(`items2dict: an item has no '${vn}' key`);
      setKey(out, str(key), mappingGet(item, vn));
    }
    return out;
  }),
  combine: f((x, a, k) => {
    const recursive = truthy(k.recursive);
    const listMerge = String(k.list_merge ?? 'replace');
    if (!['replace', 'keep', 'append', 'prepend', 'append_rp', 'prepend_rp'].includes(listMerge)) {
      throw new TemplateError(`combine: unknown list_merge '${listMerge}'`, undefined, 'use replace, keep, append, prepend, append_rp or prepend_rp');
    }
    const dicts = [x, ...a].flatMap((d) => (Array.isArray(d) ? d : [d]));
    let out: Record<string, unknown> = {};
    for (const d of dicts) out = mergeDeep(out, needMapping('combine', d), recursive, listMerge);
    return out;
  }),
  keys: f((x) => mappingKeys(needMapping('keys', x))),
  values: f((x) => mappingEntries(needMapping('values', x)).map(([, v]) => v)),
  items: f((x) => mappingEntries(needMapping('items', x)).map(([kk, v]) => [kk, v])),
  extract: f((x, a, k) => {
    // `groups['db'] | map('extract', hostvars, 'ansible_host')`
    const container = param(a, k, 0, 'container');
    let v = getAttr(container, x);
    if (v === MISSING) return new Undefined(`${typeof x === 'number' ? `[${x}]` : String(x)}`, `extract: '${String(x)}' is not in the container`);
    const more = param(a, k, 1, 'morekeys');
    for (const key of more === undefined || more === null ? [] : Array.isArray(more) ? more : [more]) {
      v = getAttr(v, key);
      if (v === MISSING) return new Undefined(`${String(x)}.${String(key)}`, `extract: '${String(x)}' has no '${String(key)}'`);
    }
    return v;
  }),
  map: f((x, a, k, env) => {
    const list = needList('map', x);
    if (k.attribute !== undefined) {
      return list.map((i) => {
        const v = attrPath(i, k.attribute);
        if (v !== MISSING) return v;
        if (hasOwn(k, 'default')) return k.default;
        // as Jinja: a lazy undefined, so `select('defined')` can drop it; using it fails
        return new Undefined(`item.${String(k.attribute)}`);
      });
    }
    const name = a[0];
    if (typeof name !== 'string') throw new TemplateError("map needs a filter name or attribute='...'");
    if (env.hasFilter(name)) {
      const rest: Kwargs = { ...k };
      return list.map((i) => env.applyFilter(name, i, a.slice(1), rest));
    }
    // Liquid's `map: 'field'` reads an attribute
    return list.map((i) => {
      const v = attrPath(i, name);
      return v === MISSING ? env.need(new Undefined(`item.${name}`)) : v;
    });
  }),
  select: f((x, a, _k, env) => select('select', x, a, env, false, true)),
  reject: f((x, a, _k, env) => select('reject', x, a, env, false, false)),
  selectattr: f((x, a, _k, env) => select('selectattr', x, a, env, true, true)),
  rejectattr: f((x, a, _k, env) => select('rejectattr', x, a, env, true, false)),
};
