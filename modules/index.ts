/**
 * The module registry: the only way the runner sees modules. Each module lives in its own file
 * named as the module (Ansible's names, underscores included, so playbooks read the same).
 */

import type { TsplayModule } from '../runner/module-api';

// Engine modules

// HA modules (issue 4)

export const MODULES: TsplayModule[] = [
  // Engine modules

  // HA modules (issue 4)
];

/** Collection prefixes an Ansible playbook may use in front of a module name. */
const PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];

/** The module registered under `name` (with or without an `ansible.builtin.`/`ansible.legacy.` prefix). */
export function getModule(name: string): TsplayModule | undefined {
  let n = name;
  for (const p of PREFIXES) if (n.startsWith(p)) n = n.slice(p.length);
  return MODULES.find((m) => m.name === n);
}
