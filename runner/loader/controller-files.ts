/**
 * Where a role's or playbook's controller-side file (a copy/template `src`, include_vars) is
 * looked for, in Ansible's order: the role's <kind>/ and the role, the task file's directory
 * (<kind>/ first), then the playbook's. One list for the static check before the run and for
 * the module lookup during it, so both find the same file.
 */

import path from 'path';
import type { PlayDef, TaskDef } from './types';

/** The directories a relative name is looked for in, in that order (Ansible's search path). */
export function controllerSearchDirs(kind: 'templates' | 'files' | 'vars', task: Pick<TaskDef, 'role' | 'dir'>, play: Pick<PlayDef, 'dir'>): string[] {
  const d: string[] = [];
  if (task.role) d.push(path.join(task.role.path, kind), task.role.path);
  d.push(path.join(task.dir, kind), task.dir, path.join(play.dir, kind), play.dir);
  return [...new Set(d)];
}

export function controllerFileCandidates(name: string, kind: 'templates' | 'files' | 'vars', task: Pick<TaskDef, 'role' | 'dir'>, play: Pick<PlayDef, 'dir'>): string[] {
  if (path.isAbsolute(name)) return [name];
  return [...new Set(controllerSearchDirs(kind, task, play).map((d) => path.join(d, name)))];
}
