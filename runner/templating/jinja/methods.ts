/**
 * The Python methods Ansible users call on values in expressions (`x.startswith('a')`,
 * `d.get('k', 1)`, `l.index(x)`); string methods that are also filters share the filter.
 */

import { TemplateError } from '../../errors';
import { FILTERS, FilterEnv, Kwargs } from './filters';
import { deepEqual, isMapping, mappingEntries, mappingGet, mappingKeys, strOf, toText } from './values';

export function callMethod(obj: unknown, m: string, a: unknown[], kw: Kwargs, unknown: () => never): unknown {
  if (typeof obj === 'string') {
    const s = obj;
    const strArg = (i: number) => {
      if (typeof a[i] !== 'string') throw new TemplateError(`${m}() expects a string argument`);
      return a[i] as string;
    };
    const prefixes = (v: unknown) => (Array.isArray(v) ? v.map(String) : [String(v)]);
    switch (m) {
      case 'startswith':
        return prefixes(a[0]).some((p) => s.startsWith(p));
      case 'endswith':
        return prefixes(a[0]).some((p) => s.endsWith(p));
      case 'split':
      case 'strip':
      case 'lstrip':
      case 'rstrip':
      case 'lower':
      case 'upper':
      case 'title':
      case 'capitalize':
      case 'replace': {
        const fname = { split: 'split', strip: 'trim', lower: 'lower', upper: 'upper', title: 'title', capitalize: 'capitalize', replace: 'replace' }[m as 'split'];
        if (m === 'lstrip' || m === 'rstrip') {
          const chars = a[0];
          if (chars === undefined || chars === null) return m === 'lstrip' ? s.replace(/^\s+/, '') : s.replace(/\s+$/, '');
          const set = new Set([...String(chars)]);
          let i = 0;
          let j = s.length;
          if (m === 'lstrip') while (i < j && set.has(s[i])) i++;
          else while (j > i && set.has(s[j - 1])) j--;
          return s.slice(i, j);
        }
        return FILTERS[fname].fn(s, a, kw, undefined as unknown as FilterEnv);
      }
      case 'join': {
        const items = a[0];
        if (!Array.isArray(items)) throw new TemplateError('join() expects a list');
        return items.map(strOf).join(s);
      }
      case 'find':
        return s.indexOf(strArg(0));
      case 'count':
        return strArg(0) === '' ? s.length + 1 : s.split(strArg(0)).length - 1;
      case 'splitlines':
        return s.split(/\r?\n/).filter((l, i, all) => i < all.length - 1 || l !== '');
      case 'isdigit':
        return /^[0-9]+$/.test(s);
      case 'format':
        break;
    }
    return unknown();
  }
  if (Array.isArray(obj)) {
    if (m === 'index') {
      const i = obj.findIndex((x) => deepEqual(x, a[0]));
      if (i < 0) throw new TemplateError(`${toText(a[0])} is not in the list`);
      return i;
    }
    if (m === 'count') return obj.filter((x) => deepEqual(x, a[0])).length;
    return unknown();
  }
  if (isMapping(obj)) {
    switch (m) {
      case 'get': {
        const k = toText(a[0]);
        return mappingKeys(obj).includes(k) ? mappingGet(obj, k) : (a[1] ?? kw.default ?? null);
      }
      case 'keys':
        return mappingKeys(obj);
      case 'values':
        return mappingEntries(obj).map(([, v]) => v);
      case 'items':
        return mappingEntries(obj).map(([k, v]) => [k, v]);
    }
  }
  return unknown();
}
