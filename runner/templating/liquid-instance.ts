/**
 * The one liquidjs engine of the process. Kept in its own module so the evaluator can reach
 * Liquid's built-in filters without importing the tag definitions (which import the evaluator).
 */

import { Liquid } from 'liquidjs';

export const liquid = new Liquid({
  // our own tags and outputs handle undefined values; these make Liquid's remaining tags
  // (case, cycle, tablerow, ...) just as strict, and unknown filters an error, not a no-op
  strictVariables: true,
  strictFilters: true,
  // templates read own properties of data only: no `constructor`, no `__proto__`
  ownPropertyOnly: true,
  jsTruthy: false,
  // an Ansible `{%- if -%}` trims every blank around it, as in Jinja
  greedy: true,
});
