/**
 * The playbook loader: YAML -> validated Playbook (types.ts) with every static part resolved
 * (import_playbook, import_tasks, import_role, roles and their dependencies, `k=v` arguments,
 * FQCN module names) and every static module argument checked against its schema.
 *
 * All errors of a load are collected and thrown together (a MultiError, or the error itself
 * when there is one), each naming file:line:column, so a user fixes them in one round.
 * include_tasks/include_role stay dynamic: the executor loads them per host through
 * `loadTasksFile`/`loadRole`, which validate the file then (before any of its tasks runs) and
 * throw all its problems in one error. A literal target is read here too, but its problems are
 * only `Playbook.deferred` (--syntax-check shows them as warnings): Ansible never reads a
 * `setup-FreeBSD.yml` it does not include, so a FreeBSD-only module in it must not stop a run.
 */

import path from 'path';
import { TsplayError, ValidationError, type SourceLocation } from '../errors';
import type { YamlOptions } from '../yaml';
import { PlayParser } from './plays';
import { RoleLoader } from './roles';
import { Session } from './session';
import { newPlayState, TaskParser } from './tasks';
import type { ModuleCatalog, Playbook, RoleRef, TaskDef, TaskItem } from './types';
import { uniq } from './values';

export type * from './types';

export interface LoaderOptions {
  /** which modules exist, their free-form key, static argument validation */
  modules: ModuleCatalog;
  /** extra role directories, searched after roles/ beside the playbook */
  rolesPath?: string[];
  /** directories holding ansible_collections/NS/COLL (roles named NS.COLL.ROLE) */
  collectionsPath?: string[];
  /** vault decryption for encrypted files and `!vault` values */
  decrypt?: YamlOptions['decrypt'];
}

export class Loader {
  /** directories of the plays loaded so far: their roles/ is searched by include_role */
  private playDirs: string[] = [];

  constructor(private readonly opts: LoaderOptions) {}

  private parsers(): { sess: Session; tasks: TaskParser; roles: RoleLoader } {
    const sess = new Session({ decrypt: this.opts.decrypt });
    const tasks = new TaskParser(sess, this.opts.modules);
    const roles = new RoleLoader(sess, tasks, (this.opts.rolesPath ?? []).map((p) => path.resolve(p)), (this.opts.collectionsPath ?? []).map((p) => path.resolve(p)));
    tasks.roles = roles;
    return { sess, tasks, roles };
  }

  /**
   * Load and validate a whole playbook. Collects every error of the playbook, its imports and
   * its roles, then throws them together (MultiError), or the single TsplayError.
   */
  async loadPlaybook(file: string): Promise<Playbook> {
    const abs = path.resolve(file);
    const { sess, tasks, roles } = this.parsers();
    const plays = await new PlayParser(sess, tasks, roles).playbookFile(abs, { tags: [], vars: {}, when: [], chain: [abs] });
    sess.throwIfErrors();
    this.playDirs = uniq([...this.playDirs, ...plays.map((p) => p.dir)]);
    return { file: abs, dir: path.dirname(abs), plays, deferred: sess.deferred };
  }

  /**
   * The tasks of a file for include_tasks at run time (its name already templated). Relative
   * names are looked up beside `fromDir` (then its tasks/), or inside `role` its tasks/ first.
   * `inheritedTags` (the include's effective tags) are added to every loaded item's
   * effectiveTags; `loc` (the include task) is where a missing file is reported.
   */
  async loadTasksFile(file: string, fromDir: string, role?: RoleRef, inheritedTags: string[] = [], loc?: SourceLocation): Promise<TaskItem[]> {
    const { sess, tasks } = this.parsers();
    const candidates = tasks.tasksFileCandidates(file, fromDir, role, this.playDirs);
    const found = await sess.firstFile(candidates);
    if (!found) throw new ValidationError(`included file '${file}' not found`, loc, `searched: ${candidates.join(', ')}`);
    const items = await tasks.file(found, {
      file: found,
      dir: path.dirname(found),
      role,
      tags: inheritedTags,
      handler: false,
      imports: [found],
      roleChain: role ? [role.path] : [],
      play: newPlayState(this.roleBases(fromDir)),
    });
    sess.throwIncludeErrors(`included file '${file}'`);
    return items;
  }

  /**
   * A role for include_role at run time: its tasks (tasks/main or `tasksFrom`), dependencies
   * first (as blocks), and its handlers (dependencies' first). The role is looked up in roles/
   * beside the loaded playbooks, in roles/ of `fromDir` and its parents, then the roles path.
   */
  async loadRole(
    name: string,
    fromDir: string,
    params: Record<string, unknown> = {},
    tasksFrom?: string,
    inheritedTags: string[] = [],
    loc?: SourceLocation,
    /** roles already used in this play: a shared meta dependency runs once (Ansible dedupes) */
    seenRoles?: Set<string>,
  ): Promise<{ role: RoleRef; tasks: TaskItem[]; handlers: TaskDef[] }> {
    const { sess, roles } = this.parsers();
    const handlers: TaskDef[] = [];
    const file = loc?.file ?? fromDir;
    const play = newPlayState(this.roleBases(fromDir));
    if (seenRoles) play.seenRoles = seenRoles;
    const block = await roles.use(
      { name, nameLoc: loc ?? { file }, loc: { file, line: loc?.line ?? 1, column: loc?.column ?? 1 }, tasksFrom, params, keywords: { tags: [] } },
      { file, dir: fromDir, tags: inheritedTags, handler: false, imports: [], roleChain: [], play },
      { dedupe: false, handlers },
    );
    sess.throwIncludeErrors(`included role '${name}'`);
    if (!block?.role) throw new ValidationError(`role '${name}' could not be loaded`, loc);
    // handlers of roles that the included role imports (import_role in its tasks) come too
    return { role: block.role, tasks: block.block, handlers: [...handlers, ...play.importedHandlers] };
  }

  /** roles/ of the loaded playbooks' directories, then of `fromDir` and each parent directory. */
  private roleBases(fromDir: string): string[] {
    const ancestors: string[] = [];
    let d = path.resolve(fromDir);
    for (;;) {
      ancestors.push(d);
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
    return uniq([...this.playDirs, ...ancestors]);
  }
}

/**
 * --syntax-check: load the playbook and return every problem found (empty when it is valid);
 * the problems of dynamic include targets are not among them (`Playbook.deferred`).
 * Errors that are not tsplay's own (bugs) are rethrown.
 */
export async function validateOnly(file: string, opts: LoaderOptions): Promise<TsplayError[]> {
  try {
    await new Loader(opts).loadPlaybook(file);
    return [];
  } catch (e) {
    if (e instanceof TsplayError) return 'errors' in e && Array.isArray(e.errors) ? (e.errors as TsplayError[]) : [e];
    throw e;
  }
}
