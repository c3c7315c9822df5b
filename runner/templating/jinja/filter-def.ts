/**
 * What a filter is, and the input checks filters share (their messages name the filter).
 */

import { TemplateError } from '../../errors';
import type { Kwargs } from './predicates';
import { isMapping, mappingKeys, strOf, toText, typeName } from './values';

export type { Kwargs };

/** What a filter may ask of the evaluator (for map/select, which apply other filters and tests). */
export interface FilterEnv {
  strict: boolean;
  applyFilter(name: string, input: unknown, args: unknown[], kw?: Kwargs): unknown;
  applyTest(name: string, input: unknown, args: unknown[], kw?: Kwargs): boolean;
  hasFilter(name: string): boolean;
  /** turns an Undefined into an error (strict) or none (lenient) */
  need(v: unknown): unknown;
}

export interface FilterDef {
  fn(input: unknown, args: unknown[], kw: Kwargs, env: FilterEnv): unknown;
  /** the input may be undefined (default, mandatory, type_debug) */
  acceptsUndefined?: boolean;
}

export const f = (fn: FilterDef['fn'], acceptsUndefined = false): FilterDef => ({ fn, acceptsUndefined });

/** Python's str() of a filter's input: none is 'None' (Jinja's soft_str). */
export function str(v: unknown): string {
  return strOf(v);
}

export function needString(name: string, v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return toText(v);
  throw new TemplateError(`the '${name}' filter expects a string, got ${typeName(v)}`);
}

export function needList(name: string, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  if (isMapping(v)) return mappingKeys(v);
  throw new TemplateError(`the '${name}' filter expects a list, got ${typeName(v)}`);
}

export function needMapping(name: string, v: unknown): Record<string, unknown> | Map<unknown, unknown> {
  if (isMapping(v)) return v;
  throw new TemplateError(`the '${name}' filter expects a mapping, got ${typeName(v)}`);
}
