/**
 * What a task inherits and what a play run carries: the Scope (play -> role -> block -> task
 * keywords, derived from the keyword table in loader/keywords.ts), the PlayRun of one serial
 * batch, the typed TaskResult every task execution returns, and the small naming helpers.
 */

import { OVERRIDE_FIELDS, type OverrideField } from '../loader/keywords';
import type { BlockDef, CommonKeywords, IncludeDef, MetaDef, PlayDef, RoleRef, TaskDef } from '../loader/types';
import type { DiffText } from '../module-api';
import type { HostStatus } from '../output/events';
import type { HostState } from './host-state';
import type { Vars } from './vars';

export const OMIT = '__omit_place_holder__tsplay';
export const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/**
 * Keywords inherited from play -> role -> block -> task: every override keyword of the table
 * in loader/keywords.ts (the innermost setting wins), and the stacked ones as lists.
 */
export type Scope = Pick<CommonKeywords, OverrideField> & {
  role?: RoleRef;
  /** block vars, outer to inner */
  vars: Vars[];
  /** block and include conditions, outer to inner: all must hold */
  conditions: unknown[];
  environment: Array<Record<string, unknown> | string>;
  /** inside a block that has a rescue: a failure goes there instead of ending the host */
  inRescuable: boolean;
};

/** One serial batch of a play. */
export interface PlayRun {
  play: PlayDef;
  hosts: HostState[];
  /** all hosts of the play (ansible_play_hosts_all) */
  allNames: string[];
  batchNames: string[];
  varsFiles: Map<string, Vars>;
  /** roles include_role used in this batch: shared meta dependencies run once */
  seenRoles: Set<string>;
  /** the play stopped because hosts failed (not end_play): enclosing `always` sections still run */
  failedAbort?: boolean;
  /** set when the play must stop (any_errors_fatal, max_fail_percentage, end_play) */
  aborted: boolean;
  /** meta: end_batch: this batch stops (aborted), the next one runs */
  batchEnded?: boolean;
  /** force_handlers (play keyword, else --force-handlers): handlers also run on failed hosts */
  forceHandlers?: boolean;
  handlers: TaskDef[];
}

/** What one execution of a task (or of one loop item, or a whole loop) gives back. */
export interface TaskResult {
  status: HostStatus;
  /** the result as `register` stores it and the json event shows it */
  result: Record<string, unknown>;
  /** a failure ignored by ignore_errors */
  ignored?: boolean;
  /** what --diff shows (only when diff mode is on for the task) */
  diffs?: DiffText[];
  /** one summary per planned change ("write /etc/x", "systemctl restart y") */
  changes?: string[];
  /** the host the module ran on, when delegate_to sent it elsewhere */
  delegatedTo?: string;
  /** the task ran in check mode (its check_mode keyword or --check): changes are "would" */
  check?: boolean;
}

/** A role and the roles it is a dependency of, outermost first. */
export function roleChain(role: RoleRef | undefined): RoleRef[] {
  const out: RoleRef[] = [];
  for (let r = role; r; r = r.parent) out.unshift(r);
  return out;
}

/** Task names rendered with play-level variables (see VarsBuilder.renderTaskName). */
export const renderedNames = new WeakMap<object, string>();

export function taskDisplayName(t: { name?: string; module?: string; role?: RoleRef; kind: string; target?: string }): string {
  const base = renderedNames.get(t) ?? t.name ?? (t.kind === 'task' ? t.module : t.kind === 'include_tasks' || t.kind === 'include_role' ? `${t.kind}: ${t.target}` : t.kind);
  return t.role ? `${t.role.name} : ${base}` : String(base);
}

/** Each use of a role (roles:, a dependency, import_role, one include_role) is an instance. */
const instances = new WeakMap<RoleRef, number>();
let lastInstance = 0;

/**
 * The notification key of handler `name` of one role instance: a task notifies its own
 * instance's handler, so a handler notified from a second include_role with other vars runs
 * again, with that instance's vars (Ansible's handlers belong to the role that notified them).
 */
export function instanceKey(role: RoleRef, name: string): string {
  let id = instances.get(role);
  if (id === undefined) instances.set(role, (id = ++lastInstance));
  return `\0role#${id}\0${name}`;
}

/** `omit` removes a key (or list item) from module arguments and include params. */
export function stripOmit(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== OMIT).map(stripOmit);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== OMIT) out[k] = stripOmit(x);
    return out;
  }
  return v;
}

/** The override keywords of `from` that are set (the table's inherit: override). */
function overrides(from: Pick<CommonKeywords, OverrideField>, into: Partial<Scope>): void {
  for (const f of OVERRIDE_FIELDS) if (from[f] !== undefined) (into as Record<string, unknown>)[f] = from[f];
}

export function playScope(play: PlayDef): Scope {
  const scope: Scope = { vars: [], conditions: [], environment: play.environment ? [play.environment] : [], inRescuable: false };
  overrides(play, scope);
  return scope;
}

/** What `item` inherits: its own override keywords win, stacked ones are added to the parent's. */
export function childScope(scope: Scope, item: BlockDef | TaskDef | IncludeDef | MetaDef): Scope {
  const out: Scope = {
    ...scope,
    role: item.role ?? scope.role,
    vars: item.kind === 'block' && item.vars ? [...scope.vars, item.vars] : scope.vars,
    conditions: item.when !== undefined && item.kind === 'block' ? [...scope.conditions, item.when] : scope.conditions,
    environment: item.environment ? [...scope.environment, item.environment] : scope.environment,
  };
  overrides(item, out);
  return out;
}
