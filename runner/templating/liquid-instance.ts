/**
 * The one liquidjs engine of the process, built on first use. Kept in its own module so the
 * evaluator can reach Liquid's built-in filters without importing the tag definitions (which
 * import the evaluator).
 *
 * Building it (and registering tsplay's tags, engine.ts) costs ~20 ms of CPU at startup, and
 * most runs never need it: text with only `{{ }}` compiles without it (compile.ts) and
 * tsplay's own filters cover what playbooks use. It is built by the first template with
 * `{% %}` tags (or whitespace control), or the first Liquid built-in filter.
 */

import { Liquid } from 'liquidjs';

let instance: Liquid | undefined;

export function getLiquid(): Liquid {
  return (instance ??= new Liquid({
    // our own tags and outputs handle undefined values; these make Liquid's remaining tags
    // (case, cycle, tablerow, ...) just as strict, and unknown filters an error, not a no-op
    strictVariables: true,
    strictFilters: true,
    // templates read own properties of data only: no `constructor`, no `__proto__`
    ownPropertyOnly: true,
    jsTruthy: false,
    // an Ansible `{%- if -%}` trims every blank around it, as in Jinja
    greedy: true,
  }));
}

/** Whether the engine has been built (for tests of the lazy path). */
export function liquidBuilt(): boolean {
  return instance !== undefined;
}
