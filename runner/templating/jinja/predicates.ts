/**
 * Jinja/Ansible tests: `x is defined`, `x is version('1.2', '>=')`, `result is failed`, and the
 * test names `select`/`selectattr` take. Input that is undefined reaches only the tests that
 * declare `acceptsUndefined` (defined/undefined); the others see an error first.
 */

import { TemplateError } from '../../errors';
import { parseBoolean } from '../../booleans';
import { pyRegex } from './regex';
import { compareValues, deepEqual, isMapping, mappingGet, mappingKeys, truthy, typeName, Undefined } from './values';

export type Kwargs = Record<string, unknown>;

export interface TestDef {
  fn(input: unknown, args: unknown[], kw: Kwargs): boolean;
  acceptsUndefined?: boolean;
}

/** Python-style parameter binding: keyword, else position, else the default. */
export function param(args: unknown[], kw: Kwargs, index: number, name: string, dflt?: unknown): unknown {
  if (Object.prototype.hasOwnProperty.call(kw, name)) return kw[name];
  if (index >= 0 && index < args.length) return args[index];
  return dflt;
}

/** Ansible's loose version comparison: numbers compare as numbers, words as text. */
export function compareVersions(a: unknown, b: unknown): number {
  const parts = (v: unknown): Array<number | string> =>
    (String(v).toLowerCase().match(/\d+|[a-z]+/g) ?? []).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const x = parts(a);
  const y = parts(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i];
    const q = y[i];
    if (typeof p === 'number' && typeof q === 'number') {
      if (p !== q) return p < q ? -1 : 1;
    } else if (String(p) !== String(q)) {
      return String(p) < String(q) ? -1 : 1;
    }
  }
  return x.length - y.length;
}

const VERSION_OPS: Record<string, (c: number) => boolean> = {
  '<': (c) => c < 0,
  lt: (c) => c < 0,
  '<=': (c) => c <= 0,
  le: (c) => c <= 0,
  '>': (c) => c > 0,
  gt: (c) => c > 0,
  '>=': (c) => c >= 0,
  ge: (c) => c >= 0,
  '==': (c) => c === 0,
  '=': (c) => c === 0,
  eq: (c) => c === 0,
  '!=': (c) => c !== 0,
  '<>': (c) => c !== 0,
  ne: (c) => c !== 0,
};

export function versionTest(input: unknown, args: unknown[], kw: Kwargs): boolean {
  const other = param(args, kw, 0, 'version');
  const op = String(param(args, kw, 1, 'operator', '=='));
  const strict = truthy(param(args, kw, 2, 'strict', false));
  if (other === undefined) throw new TemplateError('the version test needs a version to compare with');
  const cmp = VERSION_OPS[op];
  if (!cmp) throw new TemplateError(`unknown version comparison operator '${op}'`, undefined, `use one of ${Object.keys(VERSION_OPS).join(' ')}`);
  if (strict) {
    for (const v of [input, other]) {
      if (!/^\d+(\.\d+){1,2}([ab]\d+)?$/.test(String(v))) throw new TemplateError(`'${String(v)}' is not a strict version (N.N[.N])`);
    }
  }
  return cmp(compareVersions(input, other));
}

function regexTest(input: unknown, args: unknown[], kw: Kwargs, mode: 'match' | 'search' | 'fullmatch'): boolean {
  const pattern = param(args, kw, 0, 'pattern');
  if (typeof pattern !== 'string') throw new TemplateError(`the ${mode} test needs a pattern string`);
  if (typeof input !== 'string') throw new TemplateError(`the ${mode} test needs a string to match, got ${typeName(input)}`);
  const re = pyRegex(pattern, { ignorecase: param(args, kw, 1, 'ignorecase'), multiline: param(args, kw, 2, 'multiline') });
  const m = re.exec(input);
  if (!m) return false;
  // exec finds the leftmost match, so re.match holds exactly when that match starts at 0
  if (mode === 'match') return m.index === 0;
  if (mode === 'fullmatch') return anchoredMatch(re, input, true);
  return true;
}

/** re.fullmatch semantics: the whole input, from position 0 to the end. */
function anchoredMatch(re: RegExp, input: string, full = false): boolean {
  const sticky = new RegExp(full ? `(?:${re.source})$` : re.source, re.flags.replace(/[gm]/g, '') + 'y');
  sticky.lastIndex = 0;
  return sticky.test(input);
}

function resultMapping(name: string, input: unknown): Record<string, unknown> | Map<unknown, unknown> {
  if (!isMapping(input)) throw new TemplateError(`the '${name}' test expects a registered result (a mapping), got ${typeName(input)}`);
  return input;
}

function resultFlag(name: string, key: string, input: unknown): boolean {
  const r = resultMapping(name, input);
  if (truthy(mappingGet(r, key))) return true;
  // a looped task: any item with the flag counts, as in Ansible
  const results = mappingGet(r, 'results');
  if (mappingGet(r, key) === undefined && Array.isArray(results)) return results.some((x) => isMapping(x) && truthy(mappingGet(x, key)));
  return false;
}

function contains(container: unknown, item: unknown): boolean {
  if (Array.isArray(container)) return container.some((x) => deepEqual(x, item));
  if (typeof container === 'string') {
    if (typeof item !== 'string') throw new TemplateError(`'in <string>' requires a string on the left, got ${typeName(item)}`);
    return container.includes(item);
  }
  if (isMapping(container)) return mappingKeys(container).includes(String(item));
  throw new TemplateError(`'in' needs a list, string or mapping on the right, got ${typeName(container)}`);
}
export { contains as containsValue };


const t = (fn: TestDef['fn'], acceptsUndefined = false): TestDef => ({ fn, acceptsUndefined });
const cmp = (f: (c: number) => boolean): TestDef => t((x, a, k) => f(compareValues(x, param(a, k, 0, 'other'))));
const eq = t((x, a, k) => deepEqual(x, param(a, k, 0, 'other')));
const ne = t((x, a, k) => !deepEqual(x, param(a, k, 0, 'other')));

export const TESTS: Record<string, TestDef> = Object.assign(Object.create(null) as Record<string, TestDef>, {
  defined: t((x) => !(x instanceof Undefined), true),
  undefined: t((x) => x instanceof Undefined, true),
  none: t((x) => x === null || x === undefined),
  string: t((x) => typeof x === 'string'),
  number: t((x) => typeof x === 'number'),
  integer: t((x) => typeof x === 'number' && Number.isInteger(x)),
  float: t((x) => typeof x === 'number' && !Number.isInteger(x)),
  boolean: t((x) => typeof x === 'boolean'),
  mapping: t((x) => isMapping(x)),
  sequence: t((x) => Array.isArray(x) || typeof x === 'string' || isMapping(x)),
  iterable: t((x) => Array.isArray(x) || typeof x === 'string' || isMapping(x)),
  list: t((x) => Array.isArray(x)),
  sameas: t((x, a, k) => x === param(a, k, 0, 'other')),
  eq,
  equalto: eq,
  '==': eq,
  ne,
  '!=': ne,
  lt: cmp((c) => c < 0),
  '<': cmp((c) => c < 0),
  le: cmp((c) => c <= 0),
  '<=': cmp((c) => c <= 0),
  gt: cmp((c) => c > 0),
  '>': cmp((c) => c > 0),
  ge: cmp((c) => c >= 0),
  '>=': cmp((c) => c >= 0),
  in: t((x, a, k) => contains(param(a, k, 0, 'seq'), x)),
  contains: t((x, a, k) => contains(x, param(a, k, 0, 'item'))),
  truthy: t((x, a, k) => {
    // convert_bool: a boolean spelling counts as that boolean, anything else by Python truthiness
    return (truthy(param(a, k, 0, 'convert_bool')) ? parseBoolean(x) : undefined) ?? truthy(x);
  }),
  falsy: t((x, a, k) => {
    return !((truthy(param(a, k, 0, 'convert_bool')) ? parseBoolean(x) : undefined) ?? truthy(x));
  }),
  true: t((x) => x === true),
  false: t((x) => x === false),
  match: t((x, a, k) => regexTest(x, a, k, 'match')),
  search: t((x, a, k) => regexTest(x, a, k, 'search')),
  regex: t((x, a, k) => {
    const type = String(param(a, k, 3, 'match_type', 'search'));
    if (type !== 'search' && type !== 'match' && type !== 'fullmatch') throw new TemplateError(`unknown match_type '${type}'`);
    return regexTest(x, a, k, type);
  }),
  version: t(versionTest),
  version_compare: t(versionTest),
  failed: t((x) => resultFlag('failed', 'failed', x)),
  failure: t((x) => resultFlag('failure', 'failed', x)),
  succeeded: t((x) => !resultFlag('succeeded', 'failed', x)),
  success: t((x) => !resultFlag('success', 'failed', x)),
  successful: t((x) => !resultFlag('successful', 'failed', x)),
  changed: t((x) => resultFlag('changed', 'changed', x)),
  change: t((x) => resultFlag('change', 'changed', x)),
  skipped: t((x) => resultFlag('skipped', 'skipped', x)),
  skip: t((x) => resultFlag('skip', 'skipped', x)),
  unreachable: t((x) => resultFlag('unreachable', 'unreachable', x)),
  reachable: t((x) => !resultFlag('reachable', 'unreachable', x)),
  finished: t((x) => {
    const r = resultMapping('finished', x);
    return mappingGet(r, 'finished') === undefined ? true : truthy(mappingGet(r, 'finished'));
  }),
  odd: t((x) => typeof x === 'number' && Math.abs(x % 2) === 1),
  even: t((x) => typeof x === 'number' && x % 2 === 0),
  divisibleby: t((x, a, k) => {
    const n = Number(param(a, k, 0, 'num'));
    if (!n) throw new TemplateError('divisibleby needs a non-zero number');
    return typeof x === 'number' && x % n === 0;
  }),
  lower: t((x) => typeof x === 'string' && x === x.toLowerCase()),
  upper: t((x) => typeof x === 'string' && x === x.toUpperCase()),
  subset: t((x, a, k) => {
    const big = param(a, k, 0, 'b');
    if (!Array.isArray(x) || !Array.isArray(big)) throw new TemplateError('the subset test compares two lists');
    return x.every((i) => big.some((j) => deepEqual(i, j)));
  }),
  superset: t((x, a, k) => {
    const small = param(a, k, 0, 'b');
    if (!Array.isArray(x) || !Array.isArray(small)) throw new TemplateError('the superset test compares two lists');
    return small.every((i) => x.some((j) => deepEqual(i, j)));
  }),
  all: t((x) => {
    if (!Array.isArray(x)) throw new TemplateError(`the 'all' test expects a list, got ${typeName(x)}`);
    return x.every(truthy);
  }),
  any: t((x) => {
    if (!Array.isArray(x)) throw new TemplateError(`the 'any' test expects a list, got ${typeName(x)}`);
    return x.some(truthy);
  }),
});
