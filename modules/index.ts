/**
 * The module registry: the only way the runner sees modules. Each module lives in its own file
 * named as the module (Ansible's names, underscores included, so playbooks read the same).
 */

import type { TsplayModule } from '../runner/module-api';

// Engine modules

// HA modules (issue 4)
import archive from './archive';
import fileOwner from './file-owner';
import group from './group';
import ntpCheck from './ntp-check';
import packageModule from './package';
import portCheck from './port-check';
import postgresBackup from './postgres_backup';
import service from './service';
import systemdUnit from './systemd_unit';
import uri from './uri';
import user from './user';

export const MODULES: TsplayModule[] = [
  // Engine modules

  // HA modules (issue 4)
  archive,
  fileOwner,
  group,
  ntpCheck,
  packageModule,
  portCheck,
  postgresBackup,
  service,
  systemdUnit,
  uri,
  user,
];

/** Collection prefixes an Ansible playbook may use in front of a module name. */
const PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];

/** The module registered under `name` (with or without an `ansible.builtin.`/`ansible.legacy.` prefix). */
export function getModule(name: string): TsplayModule | undefined {
  let n = name;
  for (const p of PREFIXES) if (n.startsWith(p)) n = n.slice(p.length);
  return MODULES.find((m) => m.name === n);
}
