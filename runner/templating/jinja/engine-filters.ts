/**
 * Which filters exist: the language's own (filters.ts), then those the template engine provides
 * (Liquid's size, append, ...), which the engine registers (../liquid.ts). The language knows
 * nothing else about the engine.
 */

import { closest } from '../../did-you-mean';
import { TemplateError } from '../../errors';
import { FILTERS, Kwargs } from './filters';

/** Filters the template engine itself provides, reached when the language has none of the name. */
export interface EngineFilters {
  has(name: string): boolean;
  names(): string[];
  apply(name: string, input: unknown, args: unknown[], kw: Kwargs, engine: unknown): unknown;
}

let engineFilters: EngineFilters | undefined;

export function useEngineFilters(f: EngineFilters): void {
  engineFilters = f;
}

export function hasFilter(name: string): boolean {
  return !!FILTERS[name] || !!engineFilters?.has(name);
}

export function unknownFilter(name: string): TemplateError {
  return new TemplateError(`unknown filter '${name}'`, undefined, suggest(name, [...Object.keys(FILTERS), ...(engineFilters?.names() ?? [])]));
}

/** Run an engine filter: for names the language has no filter of (its own are looked up first). */
export function applyEngineFilter(name: string, input: unknown, args: unknown[], kw: Kwargs, engine: unknown): unknown {
  if (!engineFilters?.has(name)) throw new TemplateError(`unknown filter '${name}'`, undefined, suggest(name, Object.keys(FILTERS)));
  return engineFilters.apply(name, input, args, kw, engine);
}

/** "did you mean" for unknown filter/test names */
export function suggest(name: string, known: string[]): string | undefined {
  const c = closest(name, known);
  return c ? `did you mean '${c.match}'?` : undefined;
}
