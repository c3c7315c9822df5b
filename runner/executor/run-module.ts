/**
 * The module contract as the engine runs it, once a task's arguments are rendered: registry
 * validation (which normalises yes/no booleans and applies ajv defaults) -> plan against a
 * read-only probe -> the registered result's shape -> no changes? ok : check mode? changed
 * (nothing applied) : apply. ModuleStep.attempt calls it for every task, and the module test
 * harnesses (test/helpers/fake-remote.ts, test/modules/ha/fake.ts) call it too, so a module
 * test sees what a playbook run does and not a copy of it.
 */

import { TsplayError, ValidationError, type SourceLocation } from '../errors';
import { applyChanges, type Change, type DiffText, type ModuleContext, type Plan, type Probe, type Remote, type TsplayModule } from '../module-api';
import type { ModuleRegistry } from '../module-registry';

export interface ModuleContexts {
  /** what plan() gets; its `check` and `diff` decide check mode and whether diffs are made */
  probe: ModuleContext<Probe>;
  /** what apply() gets; absent for a controller-side module, which has no connection */
  apply?: ModuleContext<Remote>;
}

export interface RunModuleOptions {
  registry: Pick<ModuleRegistry, 'validate'>;
  /** where an argument error points (the task) */
  loc?: SourceLocation;
  /**
   * The contexts, asked for only once the arguments are valid: bad arguments fail the task
   * before a connection is opened or a keyword like check_mode is evaluated.
   */
  contexts(args: Record<string, unknown>): Promise<ModuleContexts>;
  /** the plan, as soon as it is made (the executor keeps its facts on the host) */
  onPlan?(plan: Plan): void;
  /** check mode with changes planned: what the real run would change (the executor's overlay) */
  onCheck?(changes: Change[]): void;
}

export interface ModuleOutcome {
  status: 'ok' | 'changed' | 'skipped';
  /** the result as `register` stores it */
  result: Record<string, unknown>;
  /** one summary per planned change (only when there were changes) */
  changes?: string[];
  /** what --diff shows (only with changes, and only in diff mode) */
  diffs?: DiffText[];
  /** the validated, normalised arguments the module was given */
  args: Record<string, unknown>;
  plan: Plan;
  /** what apply returned; undefined when apply did not run (nothing to do, skipped, check mode) */
  applied?: Record<string, unknown>;
}

export async function runModule(mod: TsplayModule, rawArgs: Record<string, unknown>, o: RunModuleOptions): Promise<ModuleOutcome> {
  const { args, problems } = o.registry.validate(mod.name, rawArgs);
  if (problems.length) {
    throw new ValidationError(`${mod.name}: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`, o.loc);
  }
  const ctx = await o.contexts(args);
  const plan: Plan = await mod.plan(args as never, ctx.probe);
  o.onPlan?.(plan);
  const result: Record<string, unknown> = { changed: false, ...(plan.result ?? {}) };
  if (plan.msg !== undefined) result.msg = plan.msg;
  // setup's facts are the host's gathered facts; any other module's are also registered
  if (plan.facts && mod.name !== 'setup') result.ansible_facts = plan.facts;
  if (plan.skipped) return { status: 'skipped', result: { ...result, skipped: true }, args, plan };
  if (plan.changes.length === 0) return plan.changed ? { status: 'changed', result: { ...result, changed: true }, args, plan } : { status: 'ok', result, args, plan };
  result.changed = true;
  const changes = plan.changes.map(summaryOf);
  const diffs = ctx.probe.diff ? plan.changes.map(diffOf).filter((d): d is DiffText => d !== undefined) : undefined;
  if (ctx.probe.check) {
    o.onCheck?.(plan.changes);
    return { status: 'changed', result, changes, diffs, args, plan };
  }
  if (!ctx.apply) throw new TsplayError(`${mod.name}: a controller-side module planned changes on the host`);
  const applied = (mod.apply ? await mod.apply(args as never, plan, ctx.apply) : await applyChanges(plan, ctx.apply)) ?? {};
  Object.assign(result, applied);
  for (const k of ['stdout', 'stderr'] as const) {
    if (typeof result[k] === 'string' && result[`${k}_lines`] === undefined) result[`${k}_lines`] = (result[k] as string).split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
  }
  // apply may find nothing was needed after all (`changed: false` in what it returns)
  return { status: result.changed === false ? 'ok' : 'changed', result, changes, diffs, args, plan, applied };
}

function summaryOf(c: Change): string {
  return c.kind === 'exec' ? c.summary : c.summary ?? `write ${c.path}`;
}

function diffOf(c: Change): DiffText | undefined {
  if (c.kind === 'write') return { path: c.path, before: c.before ?? '', after: c.after };
  return c.diff;
}
