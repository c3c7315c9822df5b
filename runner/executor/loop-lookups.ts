/**
 * The `with_<lookup>` loops: the task's terms rendered, then the lookup that lookup() and
 * query() run (runner/templating/lookups), so each lookup has one implementation.
 */

import { TemplateError } from '../errors';
import type { WITH_LOOKUPS } from '../loader/keywords';
import type { SourceLocation } from '../errors';
import type { Templar } from '../templating/index';
import { UNDEFINED_HINT } from '../templating/jinja';
import { loopLookup, type ControllerKind } from '../templating/lookups';

export type LoopLookup = (typeof WITH_LOOKUPS)[number];

/** Where with_first_found looks, as Ansible decides it: by the action's name. */
export function lookupSubdir(module: string | undefined): ControllerKind {
  if (module?.includes('template')) return 'templates';
  if (module?.includes('var')) return 'vars';
  return 'files';
}

/**
 * The rendered terms of `with_<kind>`. first_found's are rendered one by one and a name that
 * needs an undefined variable is left out (`{{ ansible_distribution }}.yml` on a host without
 * that fact), as Ansible does for that lookup alone.
 */
export function renderTerms(templar: Templar, kind: LoopLookup, raw: unknown, vars: Record<string, unknown>, loc: SourceLocation | undefined): unknown {
  if (kind !== 'first_found' || !Array.isArray(raw)) return templar.renderValueSync(raw, vars, loc);
  const out: unknown[] = [];
  for (const t of raw) {
    try {
      out.push(templar.renderValueSync(t, vars, loc));
    } catch (e) {
      if (!(e instanceof TemplateError && e.hint === UNDEFINED_HINT)) throw e;
    }
  }
  return out;
}

/** The items of `with_<kind>: terms`, terms already rendered. */
export function expandLookup(kind: LoopLookup, terms: unknown, vars: Record<string, unknown> = {}, strict = true, module?: string): unknown[] {
  return loopLookup(kind, terms, vars, strict, lookupSubdir(module));
}
