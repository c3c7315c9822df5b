/**
 * Value semantics shared by the evaluator, filters and tests: Python/Jinja truthiness and
 * equality, strict undefined values, safe attribute access (own properties only, so
 * `__proto__`/`constructor` are never reachable) and how values print inside text.
 */

import { TemplateError } from '../../errors';
import { pyStr } from './pytext';

/**
 * A variable or attribute that does not exist. It flows through `default`, `is defined` and
 * attribute chains (Ansible's chained undefined) and becomes an error wherever it is used.
 */
export class Undefined {
  constructor(
    readonly name: string,
    /** replaces "undefined variable 'name'" when the cause is more specific */
    readonly reason?: string,
  ) {}
  message(): string {
    return this.reason ?? `undefined variable '${this.name}'`;
  }
}

export const MISSING: unique symbol = Symbol('missing');
export type Missing = typeof MISSING;

/**
 * An object of the template engine that expressions may read like data (Liquid's
 * `tablerowloop`): the engine wraps it (liquid.ts) so the language needs no engine types.
 */
export abstract class HostObject {
  /** the attribute `key`, or MISSING */
  abstract attr(key: string): unknown;
  /** the value it stands for in truth tests and text */
  abstract value(): unknown;
}

export const UNDEFINED_HINT = "define it, or guard it with `| default(...)` or `is defined`";

export function undefinedError(u: Undefined): TemplateError {
  return new TemplateError(u.message(), undefined, UNDEFINED_HINT);
}

const hasOwnProp = Object.prototype.hasOwnProperty;
export function hasOwn(obj: object, key: string | number): boolean {
  return hasOwnProp.call(obj, key);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  // class instances (engine objects, Buffers, VaultText, ...) are not data a template may open up
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A dict in the Jinja sense (plain objects, Maps). */
export function isMapping(v: unknown): v is Record<string, unknown> | Map<unknown, unknown> {
  return v instanceof Map || isPlainObject(v);
}

/** Own keys of a mapping. */
export function mappingKeys(v: Record<string, unknown> | Map<unknown, unknown>): string[] {
  if (v instanceof Map) return [...v.keys()].map(String);
  return Object.keys(v);
}

export function mappingGet(v: Record<string, unknown> | Map<unknown, unknown>, k: string): unknown {
  if (v instanceof Map) return v.get(k);
  return hasOwn(v, k) ? v[k] : undefined;
}

export function mappingEntries(v: Record<string, unknown> | Map<unknown, unknown>): Array<[string, unknown]> {
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [String(k), x]);
  return Object.keys(v).map((k) => [k, v[k]]);
}

/** Set a key without ever triggering the `__proto__` setter (no prototype pollution via data). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

/** Python truthiness: '' [] {} 0 none false are false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return v !== 0 && !Number.isNaN(v);
    case 'string':
      return v.length > 0;
    case 'object':
      if (Array.isArray(v)) return v.length > 0;
      if (v instanceof Map) return v.size > 0;
      if (Buffer.isBuffer(v)) return v.length > 0;
      if (v instanceof HostObject) return truthy(v.value());
      if (isPlainObject(v)) return Object.keys(v).length > 0;
      return true;
    default:
      return true;
  }
}

/** Structural equality (Python ==): lists and dicts compare by content, 1 == 1.0. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  if (isMapping(a) && isMapping(b)) {
    const ka = mappingKeys(a);
    const kb = mappingKeys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (b instanceof Map ? !b.has(k) : !hasOwn(b, k)) return false;
      if (!deepEqual(mappingGet(a, k), mappingGet(b, k))) return false;
    }
    return true;
  }
  return false;
}

/** Python type names, for messages and `type_debug`. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (v instanceof Undefined) return 'AnsibleUndefined';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  if (isMapping(v)) return 'dict';
  if (Buffer.isBuffer(v)) return 'bytes';
  return typeof v;
}

/** Ordering (<, >, sort, min, max): numbers with numbers, strings with strings, lists lexicographically. */
export function compareValues(a: unknown, b: unknown): number {
  const an = typeof a === 'number' || typeof a === 'boolean';
  const bn = typeof b === 'number' || typeof b === 'boolean';
  if (an && bn) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareValues(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  throw new TemplateError(
    `cannot compare ${typeName(a)} with ${typeName(b)}`,
    undefined,
    typeof a === 'string' || typeof b === 'string' ? 'convert first, e.g. `x | int` or `x | string`' : undefined,
  );
}

/** How a value prints inside text: Liquid-style scalars (none prints nothing), JSON for containers. */
export function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Undefined) throw undefinedError(v);
  if (v instanceof HostObject) return toText(v.value());
  if (typeof v === 'function') return '';
  // Ansible's finalize prints a bare none as nothing (inside a list or dict it is None)
  if (v === null || v === undefined) return '';
  // Python's str(): True/False, lists and dicts in repr (Ansible renders through Python)
  return pyStr(v);
}

/**
 * Python's str() inside an expression (`~`, join, string filters): none is 'None' there; only
 * a bare none printed by a template is nothing (toText, Ansible's finalize).
 */
export function strOf(v: unknown): string {
  return v === null || v === undefined ? 'None' : toText(v);
}

/**
 * Read `obj[key]` the way templates may: own properties of plain data only, array/string
 * indexes (negative counts from the end, as in Python) and Liquid's `size`, `first`, `last`.
 * Returns MISSING when there is nothing there.
 */
export function getAttr(obj: unknown, key: unknown): unknown {
  if (obj === null || obj === undefined) return MISSING;
  if (typeof key !== 'string' && typeof key !== 'number') return MISSING;
  let v: unknown = MISSING;
  if (Array.isArray(obj) || typeof obj === 'string') {
    if (typeof key === 'number') {
      if (!Number.isInteger(key)) return MISSING;
      const i = key < 0 ? obj.length + key : key;
      if (i < 0 || i >= obj.length) return MISSING;
      v = obj[i];
    } else if (key === 'size' || key === 'length') v = obj.length;
    else if (key === 'first') v = obj.length ? obj[0] : MISSING;
    else if (key === 'last') v = obj.length ? obj[obj.length - 1] : MISSING;
    else if (Array.isArray(obj) && /^(0|[1-9][0-9]*)$/.test(key)) v = Number(key) < obj.length ? obj[Number(key)] : MISSING;
    else return MISSING;
  } else if (obj instanceof Map) {
    if (obj.has(key)) v = obj.get(key);
    else if (obj.has(String(key))) v = obj.get(String(key));
    else if (key === 'size') v = obj.size;
    else return MISSING;
  } else if (obj instanceof HostObject) {
    if (typeof key !== 'string') return MISSING;
    v = obj.attr(key);
  } else if (typeof obj === 'object') {
    const k = String(key);
    if (!isPlainObject(obj)) return MISSING;
    if (hasOwn(obj, k)) v = (obj as Record<string, unknown>)[k];
    else if (k === 'size' && isPlainObject(obj)) v = Object.keys(obj).length;
    else return MISSING;
  } else {
    return MISSING;
  }
  // functions are never data: a template must not be able to reach or call one
  if (v === undefined || typeof v === 'function') return MISSING;
  return v;
}

/** Python-ish repr of an index for names in messages: foo['bar'], foo[0]. */
export function keyRepr(k: unknown): string {
  return typeof k === 'number' ? `[${k}]` : `['${String(k)}']`;
}

/** Iterate like Jinja: lists, strings (characters), mappings (keys). */
export function toList(v: unknown, what = 'value'): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === 'string') return [...v];
  if (isMapping(v)) return mappingKeys(v);
  if (v instanceof Set) return [...v];
  throw new TemplateError(`${what} is not iterable (${typeName(v)})`);
}
