/**
 * The functions an expression may call besides range(): Ansible's lookup() and query() / q().
 * The lookups themselves live outside the language (../lookups), which registers them here,
 * as the template engine registers its filters (engine-filters.ts).
 */

import { TemplateError } from '../../errors';
import { suggest } from './engine-filters';
import type { Kwargs } from './filters';

/** What a lookup sees of where it runs: the variables, and the evaluation's strictness. */
export interface FunctionScope {
  strict: boolean;
  /** the task's variables (the object the render was given), when there is one */
  vars?(): Record<string, unknown> | undefined;
  lookup(name: string): unknown;
}

export interface Lookups {
  has(name: string): boolean;
  names(): string[];
  /** `wantlist`: query() and lookup(..., wantlist=True) */
  run(name: string, terms: unknown[], kw: Kwargs, scope: FunctionScope, wantlist: boolean): unknown;
}

let lookups: Lookups | undefined;

export function useLookups(l: Lookups): void {
  lookups = l;
}

export const LOOKUP_FUNCTIONS = new Set(['lookup', 'query', 'q']);

export function unknownLookup(name: string): TemplateError {
  return new TemplateError(`unknown lookup '${name}'`, undefined, suggest(name, lookups?.names() ?? []) ?? `lookups available: ${(lookups?.names() ?? []).join(', ')}`);
}

/** The lookup name a call names, with the FQCN spelling ansible.builtin.X accepted. */
export function lookupName(raw: unknown): string {
  if (typeof raw !== 'string' || !raw) throw new TemplateError('lookup() needs the name of a lookup as its first argument, e.g. lookup(\'file\', \'motd\')');
  return raw.replace(/^ansible\.(builtin|legacy)\./, '');
}

export function isKnownLookup(name: string): boolean {
  return !!lookups?.has(name);
}

/** lookup(name, terms..., kw) / query(name, ...) / q(name, ...) */
export function callLookup(fn: string, args: unknown[], kw: Kwargs, scope: FunctionScope): unknown {
  const name = lookupName(args[0]);
  if (!lookups?.has(name)) throw unknownLookup(name);
  const { wantlist, ...rest } = kw;
  return lookups.run(name, args.slice(1), rest, scope, fn !== 'lookup' || !!wantlist);
}
