/**
 * Variable composition for one task on one host. Precedence, lowest first (README documents it):
 *   role defaults < inventory (group_vars all < groups by depth < host_vars) < gathered facts
 *   < play vars < vars_files < role vars < role params < block vars (outer to inner) < task vars
 *   < set_fact/register/include_vars < extra vars
 * plus the magic variables (inventory_hostname, groups, hostvars, ...), which nothing overrides.
 *
 * Variables may refer to other variables (`data_dir: "/var/lib/pg/{{ pg_version }}"`): values
 * holding templates are rendered against the merged context, repeatedly, until nothing is left
 * to render (a variable that cannot be rendered stays as written, so an unused broken default
 * is harmless and a used one fails where it is used, naming the variable).
 */

import { TemplateError } from '../errors';
import type { Templar } from '../templating/index';

export type Vars = Record<string, unknown>;

export function hasTemplate(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('{{') || v.includes('{%');
  if (depth > 20) return false;
  if (Array.isArray(v)) return v.some((x) => hasTemplate(x, depth + 1));
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) if (hasTemplate(x, depth + 1)) return true;
  }
  return false;
}

/** Merge layers (lowest first) into a new object: top-level replace, as Ansible's default. */
export function mergeLayers(layers: Array<Vars | undefined>): Vars {
  const out: Vars = {};
  for (const l of layers) if (l) Object.assign(out, l);
  return out;
}

const RAW = new WeakMap<object, { raw: Vars; literal: ReadonlySet<string> }>();

/**
 * The task's variables as Ansible sees them: lazily rendered. A value holding a template is
 * rendered the first time something reads it, against the same lazy view, so `b: "{{ a }}"`
 * sees `a` rendered whatever order they were written in; a variable that refers to itself is
 * an error naming it; an unused variable that cannot be rendered harms nothing.
 * `literal` names keys whose values are data, never templates (magic vars, registered results,
 * facts, loop items): a command output that happens to contain `{{` stays text.
 */
export function lazyVars(templar: Templar, raw: Vars, literal: ReadonlySet<string>): Vars {
  const cache = new Map<string, unknown>();
  const resolving = new Set<string>();
  const proxy: Vars = new Proxy(raw, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || literal.has(key) || !hasTemplate(v)) return v;
      if (cache.has(key)) return cache.get(key);
      if (resolving.has(key)) {
        throw new TemplateError(`recursive loop detected in template: variable '${key}' refers to itself`);
      }
      resolving.add(key);
      try {
        const out = templar.renderValueSync(v, proxy);
        cache.set(key, out);
        return out;
      } finally {
        resolving.delete(key);
      }
    },
  });
  RAW.set(proxy, { raw, literal });
  return proxy;
}

/** The same lazy view with more variables on top (loop items, registered results: literal). */
export function extendVars(templar: Templar, vars: Vars, extra: Vars, extraIsLiteral = true): Vars {
  const base = RAW.get(vars);
  if (!base) return { ...vars, ...extra };
  const literal = new Set(base.literal);
  for (const k of Object.keys(extra)) {
    if (extraIsLiteral) literal.add(k);
    else literal.delete(k);
  }
  return lazyVars(templar, { ...base.raw, ...extra }, literal);
}
