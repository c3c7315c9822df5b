/**
 * The loaded, validated playbook: what the loader hands the executor. Everything static is
 * resolved here (import_playbook, import_tasks, import_role, roles:, role dependencies,
 * the `k=v` argument form, the module name); only dynamic includes (include_tasks,
 * include_role) are left for the executor, which loads them through `Loader` at run time.
 *
 * Values that may hold templates (args, vars, `loop`, conditions) are kept raw; the executor
 * templates them per host.
 */

import type { TsplayError } from '../errors';
import type { Pos } from '../yaml';
import type { BoolKeywordField, MetaAction, StringKeywordField, WITH_LOOKUPS } from './keywords';

export type Loc = Pos;

/** A condition as written: a string expression, a bool, or a list (all must hold). */
export type Condition = string | boolean | number | Array<string | boolean | number>;

/** The bool and string keywords of the table in keywords.ts (a bool may be a template). */
type KeywordFields = { [K in BoolKeywordField]?: boolean | string } & { [K in StringKeywordField]?: string };

/** Keywords shared by plays, blocks, tasks and role entries (the table in keywords.ts). */
export interface CommonKeywords extends KeywordFields {
  loc: Loc;
  /** conditions from this item only (the executor stacks parents' conditions) */
  when?: Condition;
  /** tags from this item only; the loader already merged parents' tags into `effectiveTags` */
  tags: string[];
  /** own tags plus every enclosing block/role/play/import tag */
  effectiveTags: string[];
  vars?: Record<string, unknown>;
  environment?: Record<string, unknown> | string;
}

/** The role a task came from (for `TASK [role : name]`, role vars and file lookups). */
export interface RoleRef {
  name: string;
  /** absolute directory of the role */
  path: string;
  /** role defaults/defaults/main.yml (lowest precedence) */
  defaults: Record<string, unknown>;
  /** role vars/main.yml */
  vars: Record<string, unknown>;
  /** role params given where the role was used (`- role: x` + keys, include_role vars) */
  params: Record<string, unknown>;
  /** for a meta dependency: the role that depends on it (its vars and params are seen here too) */
  parent?: RoleRef;
}

export interface TaskDef extends CommonKeywords {
  kind: 'task';
  /** module name as registered (FQCN prefixes like ansible.builtin. are stripped) */
  module: string;
  /** args as written (k=v strings already split into a mapping; free-form put under the module's key) */
  args: Record<string, unknown>;
  /** `with_dict`/`with_fileglob` are normalised into `loop` */
  loop?: unknown;
  /** a `with_<lookup>` loop: the lookup that turns the rendered terms into items */
  loopLookup?: (typeof WITH_LOOKUPS)[number];
  /** loop_var may be a template (rendered per host); extended/extended_allitems: bool or template */
  loopControl?: { loopVar?: string; indexVar?: string; label?: string; pause?: number; extended?: boolean | string; extendedAllitems?: boolean | string };
  register?: string;
  notify?: string[];
  changedWhen?: Condition;
  failedWhen?: Condition;
  until?: Condition;
  retries?: number | string;
  delay?: number | string;
  /** handlers only: extra names this handler answers to */
  listen?: string[];
  /** a handler that is an include_tasks: when notified, the include runs (module is 'include_tasks') */
  include?: IncludeDef;
  role?: RoleRef;
  /** absolute directory of the file this task was written in (for relative paths) */
  dir: string;
}

export interface BlockDef extends CommonKeywords {
  kind: 'block';
  block: TaskItem[];
  rescue: TaskItem[];
  always: TaskItem[];
  role?: RoleRef;
  dir: string;
}

/** A dynamic include, resolved by the executor per host at run time. */
export interface IncludeDef extends CommonKeywords {
  kind: 'include_tasks' | 'include_role';
  /** include_tasks: the file as written (may be templated); include_role: the role name */
  target: string;
  /** include_role: tasks_from etc. */
  tasksFrom?: string;
  /** include_role: the role's params (from `vars:` and extra keys) */
  params: Record<string, unknown>;
  /** the enclosing play/block/role tags: what the included tasks inherit (not the include's own) */
  parentTags: string[];
  loop?: unknown;
  loopLookup?: TaskDef['loopLookup'];
  loopControl?: TaskDef['loopControl'];
  role?: RoleRef;
  dir: string;
}

/** `meta: flush_handlers` and friends. */
export interface MetaDef extends CommonKeywords {
  kind: 'meta';
  action: MetaAction;
  role?: RoleRef;
  dir: string;
}

export type TaskItem = TaskDef | BlockDef | IncludeDef | MetaDef;

export interface PlayDef extends CommonKeywords {
  /** host pattern as written (may be templated with extra vars) */
  hosts: string;
  vars: Record<string, unknown>;
  /** file names as written, resolved relative to the playbook dir at run time (may be templated) */
  varsFiles: Array<string | string[]>;
  /** role defaults and vars of every role of the play, in role order (for precedence) */
  roles: RoleRef[];
  /** pre_tasks, then roles' tasks (as blocks tagged with their role), then tasks, then post_tasks */
  preTasks: TaskItem[];
  roleTasks: TaskItem[];
  tasks: TaskItem[];
  postTasks: TaskItem[];
  /** play handlers plus every role's handlers */
  handlers: TaskDef[];
  gatherFacts: boolean | string;
  serial?: Array<number | string>;
  /** 'linear' | 'free', or a template rendered with the play's vars when the play starts */
  strategy: string;
  maxFailPercentage?: number;
  /** `order`: a HOST_ORDERS value or a template */
  order?: string;
  /** `force_handlers`: notified handlers run on hosts that failed later (bool or template) */
  forceHandlers?: boolean | string;
  /** absolute directory of the playbook file holding the play */
  dir: string;
}

export interface Playbook {
  /** absolute path of the top-level playbook */
  file: string;
  dir: string;
  /** every play, import_playbook already flattened */
  plays: PlayDef[];
  /**
   * problems in the files of literal include_tasks / include_role targets: reported when (if)
   * the file is included at run time, and by --syntax-check as warnings
   */
  deferred?: TsplayError[];
}

/** What the loader needs to know about the module registry. */
export interface ModuleCatalog {
  has(name: string): boolean;
  names(): string[];
  /** free-form argument key (`command: ls` -> {cmd: 'ls'}) or undefined */
  freeForm(name: string): string | undefined;
  /**
   * Validate static args (those with no `{{ }}`) against the module schema; returns messages
   * with the offending argument path, or [] when valid. Templated values are skipped.
   */
  validateStatic(name: string, args: Record<string, unknown>): Array<{ path: string; message: string }>;
}
