/**
 * One task on the hosts of a batch (run_once, forks, any_errors_fatal, max_fail_percentage),
 * and on one host: when, loop (items, labels, per-item results), then register, notify,
 * ignore_errors/ignore_unreachable and the events and recap counters.
 */

import pLimit from 'p-limit';
import { InterruptedError, TemplateError } from '../errors';
import type { IncludeDef, TaskDef } from '../loader/types';
import type { DiffText } from '../module-api';
import type { HostStatus } from '../output/events';
import { MASK, secrets } from '../secrets';
import type { RunContext } from './context';
import type { HostState } from './host-state';
import { instanceKey, NO_LOG_MSG, renderedNames, taskDisplayName, type PlayRun, type Scope, type TaskResult } from './scope';
import { itemVars, loopShape } from './loop-vars';
import { extendVars, type Vars } from './vars';

export class TaskRunner {
  constructor(private readonly x: RunContext) {}

  async runTaskOnHosts(run: PlayRun, task: TaskDef, hosts: HostState[], scope: Scope, handler: boolean): Promise<void> {
    await this.x.vars.renderTaskName(run, task, scope);
    this.x.s.emit({
      type: 'task_start',
      name: taskDisplayName(task),
      role: task.role?.name,
      handler,
      file: task.loc.file,
      line: task.loc.line,
      hosts: hosts.length,
    });
    // run_once is decided once for the batch, with the first host's variables (as Ansible does)
    const runOnce = hosts.length > 0 && (await this.x.keywordBool('run_once', task.runOnce ?? scope.runOnce, () => this.x.vars.taskVars(run, hosts[0], scope, task), task.loc, false));
    // add_host runs once per batch, on its first host, and only that host reports it (Ansible's bypass)
    const bypass = this.x.s.modules.get(task.module)?.bypassHostLoop === true;
    const targets = runOnce || bypass ? hosts.slice(0, 1) : hosts;
    const limit = pLimit(Math.max(1, this.x.o.forks));
    const outcomes = await Promise.all(targets.map((h) => limit(() => this.runTaskOnHost(run, task, h, scope))));
    if (runOnce && outcomes[0]) {
      // run_once: the result counts for every host of the batch (register included)
      for (const h of hosts.slice(1)) {
        if (task.register && outcomes[0].result) h.runtime[task.register] = outcomes[0].result;
      }
    }
    const failedNow = targets.filter((_h, i) => outcomes[i]?.status === 'failed' && !outcomes[i]?.ignored);
    await this.afterFailures(run, scope, failedNow, task);
  }

  /**
   * What failures on some hosts do to the play: any_errors_fatal fails every host and stops it
   * (outside a block with rescue), max_fail_percentage stops it. For tasks and includes alike.
   */
  async afterFailures(run: PlayRun, scope: Scope, failedNow: HostState[], item: TaskDef | IncludeDef): Promise<void> {
    const fatal = failedNow.length > 0 && (await this.x.keywordBool('any_errors_fatal', item.anyErrorsFatal ?? scope.anyErrorsFatal, () => this.x.vars.taskVars(run, failedNow[0], scope, item), item.loc, false));
    if (fatal && !scope.inRescuable) {
      for (const h of run.hosts) if (h.active) h.failed = true;
      run.aborted = run.failedAbort = true;
    }
    const mfp = run.play.maxFailPercentage;
    if (mfp !== undefined) {
      const failed = run.hosts.filter((h) => h.failed || h.unreachable).length;
      if ((failed * 100) / run.hosts.length > mfp) {
        this.x.s.emit({ type: 'warning', message: `max_fail_percentage ${mfp}% exceeded (${failed}/${run.hosts.length} hosts failed): stopping the play` });
        run.aborted = run.failedAbort = true;
      }
    }
  }

  recordResult(h: HostState, taskName: string, out: TaskResult, ms: number, extra: Partial<{ item: string; diff: DiffText[]; msg: string; delegated_to: string; show: boolean }> = {}): void {
    const c = h.counters;
    switch (out.status) {
      case 'ok':
        c.ok++;
        break;
      case 'changed':
        c.changed++;
        c.ok++;
        break;
      case 'skipped':
        c.skipped++;
        break;
      case 'failed':
        // as Ansible's stats: an ignored failure is ok + ignored, and changed when its result says so
        if (out.ignored) {
          c.ignored++;
          c.ok++;
          if (out.result.changed === true) c.changed++;
        } else c.failed++;
        break;
      case 'unreachable':
        c.unreachable++;
        break;
    }
    this.x.s.emit({
      type: 'host_result',
      host: h.name,
      task: taskName,
      status: out.status,
      ignored: out.ignored,
      result: secrets.maskValue(out.result),
      duration_ms: ms,
      ...extra,
      msg: extra.msg !== undefined ? secrets.mask(extra.msg) : undefined,
    });
  }

  /** Runs a task (all its loop items) on one host and records the outcome. */
  async runTaskOnHost(run: PlayRun, task: TaskDef, h: HostState, scope: Scope): Promise<TaskResult> {
    const t0 = Date.now();
    const name = taskDisplayName(task);
    let vars: Vars;
    const noLogOf = async (v: Vars) => {
      const raw = task.noLog ?? scope.noLog;
      return this.x.keywordBool('no_log', raw, v, task.loc, false);
    };
    let noLog = false;
    const skipped = (): TaskResult => {
      const out: TaskResult = { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' } };
      if (task.register) h.runtime[task.register] = out.result;
      this.recordResult(h, name, out, Date.now() - t0);
      return out;
    };
    try {
      vars = await this.x.vars.taskVars(run, h, scope, task);
      noLog = await noLogOf(vars);
      const conds = [...scope.conditions];
      let loop: unknown[] | undefined;
      try {
        loop = task.loop !== undefined ? await this.x.loopItems(task, vars) : undefined;
      } catch (e) {
        // as Ansible: a loop that cannot be rendered is an error only if the task would run;
        // `when: x is defined` guarding `loop: "{{ x }}"` skips (a `when` needing item fails)
        if (!(e instanceof TemplateError)) throw e;
        const guard = [...conds, ...(task.when !== undefined ? [task.when] : [])];
        if (guard.length && !(await this.x.allHold(guard, vars, task).catch(() => true))) return skipped();
        throw e;
      }
      if (loop === undefined) {
        if (task.when !== undefined) conds.push(task.when);
        if (!(await this.x.allHold(conds, vars, task))) return skipped();
        const out = await this.x.steps.runOne(run, task, h, scope, vars, noLog);
        return this.finish(run, task, h, scope, out, t0, noLog);
      }
      // loop: parent conditions once, task `when` per item
      if (!(await this.x.allHold(conds, vars, task))) return skipped();
      const shape = await loopShape(this.x, task.loopControl, vars, task.loc);
      const loopVar = shape.loopVar;
      const results: Record<string, unknown>[] = [];
      let anyChanged = false;
      let anyFailed = false;
      let allSkipped = loop.length > 0;
      for (let i = 0; i < loop.length; i++) {
        this.x.checkInterrupt();
        const item = loop[i];
        const iv = extendVars(this.x.s.templar, vars, itemVars(shape, loop, i));
        const label = task.loopControl?.label !== undefined ? String(await this.x.s.templar.renderValue(task.loopControl.label, iv, task.loc)) : typeof item === 'object' ? JSON.stringify(item) : String(item);
        const ti = Date.now();
        let out: TaskResult;
        if (task.when !== undefined && !(await this.x.s.templar.evaluate(task.when, iv, task.loc))) {
          out = { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' } };
        } else {
          out = await this.x.steps.runOne(run, task, h, scope, iv, noLog);
          allSkipped = false;
        }
        if (out.status === 'unreachable') return this.finish(run, task, h, scope, out, t0, noLog);
        // facts set by this item (set_fact, include_vars) are seen by the next one
        if (out.result.ansible_facts) vars = await this.x.vars.taskVars(run, h, scope, task);
        const r: Record<string, unknown> = { ...out.result, [loopVar]: item, ansible_loop_var: loopVar };
        // Ansible registers the index and ansible_loop in each item's result too
        if (shape.indexVar) r[shape.indexVar] = i;
        if (shape.extended) r.ansible_loop = itemVars(shape, loop, i).ansible_loop;
        results.push(r);
        if (out.status === 'changed') anyChanged = true;
        if (out.status === 'failed') anyFailed = true;
        this.emitItem(h, name, out, noLog ? MASK : label, Date.now() - ti, noLog);
        if (task.loopControl?.pause) await this.x.sleep(task.loopControl.pause * 1000);
      }
      const status: HostStatus = anyFailed ? 'failed' : allSkipped ? 'skipped' : anyChanged ? 'changed' : 'ok';
      const result: Record<string, unknown> = { changed: anyChanged, failed: anyFailed, skipped: allSkipped, results, msg: anyFailed ? 'One or more items failed' : 'All items completed' };
      return this.finish(run, task, h, scope, { status, result }, t0, noLog, true);
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      const out = this.x.errorOutcome(e);
      return this.finish(run, task, h, scope, out, t0, noLog);
    }
  }

  emitItem(h: HostState, name: string, out: TaskResult, label: string, ms: number, noLog: boolean): void {
    const result = noLog ? { censored: NO_LOG_MSG } : out.result;
    this.x.s.emit({
      type: 'host_result',
      host: h.name,
      task: name,
      status: out.status,
      item: label,
      result: secrets.maskValue(result),
      msg: noLog ? undefined : typeof out.result.msg === 'string' ? secrets.mask(out.result.msg) : undefined,
      diff: noLog ? undefined : out.diffs?.map((d) => secrets.maskValue(d)),
      duration_ms: ms,
    });
  }

  /** Record the final outcome: register, notify, failure handling, event. */
  async finish(run: PlayRun, task: TaskDef, h: HostState, scope: Scope, out: TaskResult, t0: number, noLog: boolean, loopDone = false): Promise<TaskResult> {
    const name = taskDisplayName(task);
    const { diffs, changes } = out;
    // an unreachable result is registered too: with ignore_unreachable the play goes on and
    // can test it (`r is unreachable`); without, the host leaves the play anyway
    if (task.register) h.runtime[task.register] = out.result;
    if (out.status === 'failed') {
      const vars = () => this.x.vars.taskVars(run, h, scope, task);
      const ie = task.ignoreErrors ?? scope.ignoreErrors;
      const ignore = await this.x.keywordBool('ignore_errors', ie, vars, task.loc, false);
      if (ignore) out.ignored = true;
      else {
        h.failed = true;
        // a block's rescue sees what failed, and so does the rest of the play (Ansible sets
        // them as non-persistent facts when the host enters the rescue)
        if (scope.inRescuable) {
          Object.assign(h.runtime, {
            ansible_failed_task: { name: renderedNames.get(task) ?? task.name ?? '', action: task.module, args: noLog ? {} : task.args, ...(task.loc ? { path: `${task.loc.file}:${task.loc.line}` } : {}) },
            ansible_failed_result: noLog ? { censored: NO_LOG_MSG, failed: true } : out.result,
          });
        }
      }
    } else if (out.status === 'unreachable') {
      const iu = task.ignoreUnreachable ?? scope.ignoreUnreachable;
      if (!(await this.x.keywordBool('ignore_unreachable', iu, () => this.x.vars.taskVars(run, h, scope, task), task.loc, false))) h.unreachable = true;
    }
    if (out.status === 'changed' && task.notify?.length) {
      const vars = await this.x.vars.taskVars(run, h, scope, task);
      for (const n of task.notify) {
        // `notify: "{{ names }}"` may render to a list of handler names
        const v = await this.x.s.templar.renderValue(n, vars, task.loc);
        for (const x of Array.isArray(v) ? v : [v]) {
          const name = String(x);
          // a handler notifying itself is not run again (Ansible ignores it: no endless loop)
          if (run.handlers.includes(task) && (name === (renderedNames.get(task) ?? task.name) || task.listen?.includes(name))) continue;
          // the notifying role instance's own handler of that name, if it has one
          // (its templated handler names rendered first: an included role's are not yet)
          let own = false;
          for (const hd of task.role ? run.handlers.filter((x) => x.role === task.role) : []) {
            await this.x.vars.renderTaskName(run, hd, scope);
            if ((renderedNames.get(hd) ?? hd.name) === name) own = true;
          }
          h.notified.add(own ? instanceKey(task.role!, name) : name);
        }
      }
    }
    const msg = noLog ? undefined : typeof out.result.msg === 'string' ? out.result.msg : undefined;
    const shown: Record<string, unknown> = noLog ? { censored: NO_LOG_MSG } : out.result;
    const show = task.module === 'debug' && !noLog;
    const extra: Parameters<TaskRunner['recordResult']>[4] = { msg: loopDone && out.status !== 'failed' ? undefined : msg, show };
    if (!noLog && diffs?.length && !loopDone) extra.diff = diffs;
    if (!noLog && changes?.length && !loopDone && (this.x.o.diff || this.x.o.verbosity > 0 || this.x.o.check) && extra.msg === undefined) {
      extra.msg = `${out.check ? 'would: ' : ''}${changes.join('; ')}`;
    }
    if (task.delegateTo ?? scope.delegateTo) extra.delegated_to = String(out.delegatedTo ?? task.delegateTo ?? scope.delegateTo);
    this.recordResult(h, name, { ...out, result: shown }, Date.now() - t0, extra);
    return out;
  }
}
