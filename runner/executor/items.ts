/**
 * The items of a task list, in order, for the hosts still in the play: tag selection (Ansible's
 * evaluate_tags), blocks with rescue/always, dynamic includes (per host and loop item), meta
 * actions and handler flushes. Tasks themselves go to the task runner.
 */

import { itemVars, loopShape } from './loop-vars';
import { InterruptedError, TsplayError } from '../errors';
import type { BlockDef, IncludeDef, MetaDef, TaskItem } from '../loader/types';
import type { RunContext } from './context';
import type { HostState } from './host-state';
import { nestInclude } from './include-depth';
import { OMIT, childScope, instanceKey, renderedNames, stripOmit, taskDisplayName, type PlayRun, type Scope } from './scope';
import { extendVars, hasTemplate, type Vars } from './vars';

export class ItemRunner {
  constructor(private readonly x: RunContext) {}

  /**
   * Ansible's evaluate_tags, rule for rule: a task without tags is 'untagged'; 'always' runs
   * unless skipped by name; 'never' runs only when one of its other tags is asked for by name
   * (not by 'all' or 'tagged'); a skip of any of a task's tags wins, even over 'always'.
   */
  tagSelected(taskTags: string[], play?: PlayRun): boolean {
    if (play && taskTags.some((t) => hasTemplate(t))) taskTags = this.x.vars.renderTags(taskTags, play);
    const untagged = taskTags.length === 0;
    const tags = new Set(untagged ? ['untagged'] : taskTags);
    const only = this.x.o.tags.length ? this.x.o.tags : ['all'];
    const skip = this.x.o.skipTags;
    const named = (list: string[]) => list.some((t) => tags.has(t));
    let run: boolean;
    if (tags.has('always')) run = true;
    else if (only.includes('all') && !tags.has('never')) run = true;
    else if (named(only)) run = true;
    else run = only.includes('tagged') && !untagged && !tags.has('never');
    if (run && skip.length) {
      if (skip.includes('all')) run = tags.has('always') && !skip.includes('always');
      else if (named(skip) || (skip.includes('tagged') && !untagged)) run = false;
    }
    return run;
  }

  async runItems(run: PlayRun, items: TaskItem[], hosts: HostState[], scope: Scope): Promise<void> {
    for (const item of items) {
      this.x.checkInterrupt();
      if (run.aborted) return;
      const active = hosts.filter((h) => h.active);
      if (active.length === 0) return;
      switch (item.kind) {
        case 'task':
          if (!this.tagSelected(item.effectiveTags, run)) continue;
          if (!this.x.startAtFound) {
            const n = taskDisplayName(item);
            if (n === this.x.o.startAtTask || item.name === this.x.o.startAtTask) this.x.startAtFound = true;
            else continue;
          }
          await this.x.tasks.runTaskOnHosts(run, item, active, childScope(scope, item), false);
          break;
        case 'block':
          await this.runBlock(run, item, active, scope);
          break;
        case 'include_tasks':
        case 'include_role':
          if (!this.tagSelected(item.effectiveTags, run)) continue;
          await this.runInclude(run, item, active, childScope(scope, item));
          break;
        case 'meta':
          if (!this.tagSelected(item.effectiveTags, run) && item.action !== 'flush_handlers') continue;
          await this.runMeta(run, item, active, childScope(scope, item));
          break;
      }
    }
  }

  async runBlock(run: PlayRun, block: BlockDef, hosts: HostState[], scope: Scope): Promise<void> {
    const inner = childScope(scope, block);
    const hasRescue = block.rescue.length > 0;
    const before = new Map(hosts.map((h) => [h.name, h.failed]));
    await this.runItems(run, block.block, hosts, { ...inner, inRescuable: hasRescue || scope.inRescuable });
    // hosts that failed inside the block (not unreachable) go to rescue
    const failedHere = hosts.filter((h) => h.failed && !before.get(h.name) && !h.unreachable);
    if (hasRescue && failedHere.length) {
      for (const h of failedHere) {
        h.failed = false;
        h.counters.failed = Math.max(0, h.counters.failed - 1);
        h.counters.rescued++;
      }
      await this.runItems(run, block.rescue, failedHere, { ...inner, inRescuable: scope.inRescuable });
    }
    if (block.always.length) {
      // always runs on every host that entered the block and is still reachable
      const alwaysHosts = hosts.filter((h) => !h.unreachable && !h.ended);
      const stillFailed = alwaysHosts.filter((h) => h.failed).map((h) => ({ h, cleared: h.errorsCleared }));
      for (const { h } of stillFailed) h.failed = false;
      // a play stopped by a failure (any_errors_fatal, max_fail_percentage) still runs `always`,
      // as Ansible does; one stopped by end_play does not
      const aborted = run.aborted;
      const failedAbort = run.failedAbort;
      if (failedAbort) run.aborted = false;
      await this.runItems(run, block.always, alwaysHosts, { ...inner, inRescuable: scope.inRescuable });
      // meta: clear_host_errors in the always brings the hosts back, and so the play too
      const cleared = stillFailed.filter(({ h, cleared: c }) => h.errorsCleared !== c).length;
      if (failedAbort && cleared > 0) run.failedAbort = false;
      else run.aborted ||= aborted;
      for (const { h, cleared: c } of stillFailed) if (h.errorsCleared === c) h.failed = true;
    }
  }

  async runInclude(run: PlayRun, inc: IncludeDef, hosts: HostState[], scope: Scope): Promise<void> {
    // resolve per host and loop item (when + templated target/tasks_from/params), then group the
    // hosts by what they include: one group per distinct include, in order of first appearance
    const groups = new Map<string, { target: string; tasksFrom?: string; hosts: HostState[]; params: Vars; loopVars?: Vars }>();
    const name = inc.name ?? `${inc.kind}: ${inc.target}`;
    // its own TASK banner, as Ansible prints: a failure to load the file is shown under it
    this.x.s.emit({ type: 'task_start', name: taskDisplayName(inc), role: inc.role?.name, handler: false, file: inc.loc.file, line: inc.loc.line, hosts: hosts.length });
    for (const h of hosts) {
      const vars = await this.x.vars.taskVars(run, h, scope, inc);
      try {
        if (!(await this.x.allHold(scope.conditions, vars, inc))) {
          this.x.tasks.recordResult(h, name, { status: 'skipped', result: { skipped: true } }, 0);
          continue;
        }
        let items: Array<Vars | undefined> = [undefined];
        if (inc.loop !== undefined) {
          const loop = await this.x.loopItems(inc, vars);
          const shape = await loopShape(this.x, inc.loopControl, vars, inc.loc);
          items = loop.map((_item, i) => itemVars(shape, loop, i));
        }
        let included = false;
        for (const loopVars of items) {
          const iv = loopVars ? extendVars(this.x.s.templar, vars, loopVars) : vars;
          if (inc.when !== undefined && !(await this.x.s.templar.evaluate(inc.when, iv, inc.loc))) continue;
          included = true;
          const target = String(await this.x.s.templar.renderValue(inc.target, iv, inc.loc));
          const tf = inc.tasksFrom === undefined ? undefined : await this.x.s.templar.renderValue(inc.tasksFrom, iv, inc.loc);
          const tasksFrom = tf === undefined || tf === null || tf === OMIT ? undefined : String(tf);
          const params = stripOmit(await this.x.s.templar.renderValue(inc.params ?? {}, iv, inc.loc)) as Vars;
          const key = JSON.stringify([target, tasksFrom ?? null, params, loopVars ?? null]);
          let g = groups.get(key);
          if (!g) {
            g = { target, tasksFrom, hosts: [], params, loopVars };
            groups.set(key, g);
          }
          g.hosts.push(h);
        }
        if (!included) this.x.tasks.recordResult(h, name, { status: 'skipped', result: { skipped: true } }, 0);
      } catch (e) {
        // a target that cannot be rendered fails this host, as a task would
        if (!(e instanceof TsplayError) || e instanceof InterruptedError) throw e;
        const out = this.x.errorOutcome(e);
        const ignored = await this.x.keywordBool('ignore_errors', inc.ignoreErrors ?? scope.ignoreErrors, vars, inc.loc, false);
        if (!ignored) h.failed = true;
        this.x.tasks.recordResult(h, name, { ...out, ignored }, 0, { msg: String(out.result.msg) });
      }
    }
    for (const g of groups.values()) {
      const target = g.target;
      // the loop variables are seen by every included task
      const extra = g.loopVars ? [g.loopVars] : [];
      let loaded: { items: TaskItem[]; scope: Scope };
      try {
        if (inc.kind === 'include_tasks') {
          const items = await this.x.s.loader.loadTasksFile(target, inc.dir, scope.role ?? inc.role, inc.parentTags, inc.loc);
          loaded = { items, scope: { ...scope, vars: [...scope.vars, g.params, ...extra] } };
        } else {
          const r = await this.x.s.loader.loadRole(target, inc.dir, g.params, g.tasksFrom, inc.parentTags, inc.loc, run.seenRoles);
          run.handlers.push(...r.handlers);
          loaded = { items: r.tasks, scope: { ...scope, role: r.role, vars: [...scope.vars, ...extra] } };
        }
        nestInclude(inc, loaded.items);
      } catch (e) {
        if (!(e instanceof TsplayError) || e instanceof InterruptedError) throw e;
        // a missing or invalid included file fails the hosts that include it, as a task would
        const out = this.x.errorOutcome(e);
        const ie = inc.ignoreErrors ?? scope.ignoreErrors;
        const failedNow: HostState[] = [];
        for (const h of g.hosts) {
          const ignored = await this.x.keywordBool('ignore_errors', ie, () => this.x.vars.taskVars(run, h, scope, inc), inc.loc, false);
          if (!ignored) {
            h.failed = true;
            failedNow.push(h);
          }
          this.x.tasks.recordResult(h, inc.name ?? `${inc.kind}: ${target}`, { ...out, ignored }, 0, { msg: String(out.result.msg) });
        }
        // as a failed task: any_errors_fatal and max_fail_percentage apply (any_errors_fatal 50897)
        await this.x.tasks.afterFailures(run, scope, failedNow, inc);
        if (run.aborted) return;
        continue;
      }
      for (const h of g.hosts) this.x.s.emit({ type: 'include', host: h.name, file: target });
      await this.runItems(run, loaded.items, g.hosts, loaded.scope);
    }
  }

  async runMeta(run: PlayRun, meta: MetaDef, hosts: HostState[], scope: Scope): Promise<void> {
    switch (meta.action) {
      case 'flush_handlers': {
        // a `when` decides per host whether its notifications are flushed here
        const flush = new Set<HostState>();
        for (const h of hosts) if (await this.metaApplies(run, meta, h, scope)) flush.add(h);
        if (flush.size) await this.flushHandlers(run, scope, flush);
        break;
      }
      case 'end_play':
        run.aborted = true;
        break;
      case 'end_host':
        for (const h of hosts) if (await this.metaApplies(run, meta, h, scope)) h.ended = true;
        break;
      case 'end_batch':
        // the hosts of this serial batch stop here; the next batch starts the play again
        run.aborted = true;
        run.batchEnded = true;
        break;
      case 'reset_connection':
        for (const h of hosts) if (await this.metaApplies(run, meta, h, scope)) await this.x.remotes.reset(h.name);
        break;
      case 'clear_facts':
        for (const h of hosts) if (await this.metaApplies(run, meta, h, scope)) for (const k of Object.keys(h.facts)) delete h.facts[k];
        break;
      case 'clear_host_errors':
        for (const h of run.hosts) {
          if (h.unreachable) continue;
          h.failed = false;
          h.errorsCleared++;
        }
        break;
      default:
        break;
    }
  }

  /** A meta task's `when`, per host. */
  async metaApplies(run: PlayRun, meta: MetaDef, h: HostState, scope: Scope): Promise<boolean> {
    if (meta.when === undefined) return true;
    return this.x.s.templar.evaluate(meta.when, await this.x.vars.taskVars(run, h, scope, meta), meta.loc);
  }

  /**
   * Every handler a host was notified for runs once, in definition order: all the handlers that
   * `listen` to one topic, not just the first. A notification is consumed after the whole flush
   * (consuming it when the first listener ran hid it from the others). Handler names are
   * templated with the play's shared variables, as Ansible does, so `name: "{{ h }}"` matches
   * a `notify: "{{ h }}"`.
   */
  async flushHandlers(run: PlayRun, scope: Scope, only?: Set<HostState>): Promise<void> {
    const consumed = new Map<HostState, Map<string, number>>();
    // a notification by name reaches the first handler of that name only (Ansible: later
    // handlers with the same name never run by name); every `listen` of a topic hears it
    const claimed = new Set<string>();
    for (const handler of run.handlers) {
      await this.x.vars.renderTaskName(run, handler, scope);
      const name = renderedNames.get(handler) ?? handler.name;
      const names = new Set<string>(handler.listen ?? []);
      if (handler.role && name) names.add(instanceKey(handler.role, name));
      for (const n of name ? [name, ...(handler.role ? [`${handler.role.name} : ${name}`] : [])] : []) {
        if (!claimed.has(n)) names.add(n);
        claimed.add(n);
      }
      // force_handlers: a host that failed after being notified still runs them (not an unreachable one)
      const eligible = (h: HostState) => h.active || (run.forceHandlers === true && h.failed && !h.unreachable && !h.ended);
      const hosts = run.hosts.filter((h) => eligible(h) && (!only || only.has(h)) && [...names].some((n) => h.notified.has(n)));
      if (!hosts.length) continue;
      // what this handler answers, stamped before it runs: a notification made again later
      // (by this handler or a later one) is not consumed by this flush
      for (const h of hosts) {
        const stamps = consumed.get(h) ?? new Map<string, number>();
        for (const n of names) {
          const st = h.notified.stamp(n);
          if (st !== undefined) stamps.set(n, st);
        }
        consumed.set(h, stamps);
      }
      if (handler.include) {
        // force_handlers: a failed host runs the included tasks too (runItems takes only
        // active hosts), and is failed again afterwards
        const forced = hosts.filter((h) => h.failed);
        for (const h of forced) h.failed = false;
        try {
          await this.runInclude(run, handler.include, hosts, childScope({ ...scope, role: handler.role }, handler.include));
        } finally {
          for (const h of forced) h.failed = true;
        }
      } else await this.x.tasks.runTaskOnHosts(run, handler, hosts, childScope({ ...scope, role: handler.role }, handler), true);
    }
    for (const [h, stamps] of consumed) for (const [n, st] of stamps) h.notified.consume(n, st);
  }
}
