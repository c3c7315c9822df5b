/**
 * Where a role's or playbook's controller-side file (a copy/template `src`, include_vars) is
 * looked for, in Ansible's order: the role's <kind>/ and the role, the task file's directory
 * (<kind>/ first), then the playbook's. One list for the static check before the run and for
 * the module lookup during it, so both find the same file.
 */

import path from 'path';
import type { PlayDef, TaskDef } from './types';

export function controllerFileCandidates(name: string, kind: 'templates' | 'files' | 'vars', task: Pick<TaskDef, 'role' | 'dir'>, play: Pick<PlayDef, 'dir'>): string[] {
  if (path.isAbsolute(name)) return [name];
  const c: string[] = [];
  if (task.role) c.push(path.join(task.role.path, kind, name), path.join(task.role.path, name));
  c.push(path.join(task.dir, kind, name), path.join(task.dir, name), path.join(play.dir, kind, name), path.join(play.dir, name));
  return [...new Set(c)];
}
