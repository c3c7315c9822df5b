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

/**
 * Render every templated top-level value of `ctx` in place, against `ctx` itself. Up to 8
 * passes so chains of references resolve; values that fail to render are left as written.
 * `skip` names keys never rendered here (magic vars, lazily built objects).
 */
export async function resolveTemplatedVars(templar: Templar, ctx: Vars, skip: ReadonlySet<string>): Promise<void> {
  let pending = Object.keys(ctx).filter((k) => !skip.has(k) && hasTemplate(ctx[k]));
  for (let pass = 0; pass < 8 && pending.length; pass++) {
    const next: string[] = [];
    let progressed = false;
    for (const k of pending) {
      try {
        const v = await templar.renderValue(ctx[k], ctx);
        if (hasTemplate(v) && JSON.stringify(v) !== JSON.stringify(ctx[k])) {
          ctx[k] = v;
          next.push(k);
          progressed = true;
        } else {
          if (JSON.stringify(v) !== JSON.stringify(ctx[k])) progressed = true;
          ctx[k] = v;
          if (hasTemplate(v)) next.push(k);
        }
      } catch {
        // may depend on a variable resolved later in this pass: try again next pass
        next.push(k);
      }
    }
    if (!progressed) break;
    pending = next;
  }
}
