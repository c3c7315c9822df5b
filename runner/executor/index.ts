/**
 * playbook -> play (serial batches, strategy, handlers) -> items (blocks, includes, tasks)
 * -> task on a host (when, loop, retries, plan/apply, register, notify).
 *
 * Linear strategy: each task runs on every active host of the batch concurrently (limited by
 * --forks) and the next task starts when all are done. Free: each host walks the task list on
 * its own. A failed or unreachable host leaves the play; the others go on, unless
 * any_errors_fatal or max_fail_percentage say otherwise.
 *
 * This file is the play runner; the parts it drives: items.ts (task lists, blocks, includes,
 * handlers), task-runner.ts (a task on hosts, loops, register/notify), module-step.ts (one
 * module execution: plan/apply, retries, conditions), task-vars.ts (variables), remotes.ts
 * (connections and become), context.ts (what they share), scope.ts (the types).
 */

import pLimit from 'p-limit';
import { EXIT, InterruptedError, ValidationError } from '../errors';
import type { PlayDef, Playbook, TaskDef, TaskItem } from '../loader/types';
import { HOST_ORDERS } from '../loader/keywords';
import { emptyCounters, type HostCounters } from '../output/events';
import { RunContext } from './context';
import { ItemRunner } from './items';
import { ModuleStep } from './module-step';
import { Remotes } from './remotes';
import { OMIT, playScope, type PlayRun, type Scope } from './scope';
import { TaskRunner } from './task-runner';
import { VarsBuilder } from './task-vars';
import type { RunOptions, Services } from './types';
import { hasTemplate } from './vars';

export interface RunSummary {
  exitCode: number;
  counters: Record<string, HostCounters>;
  interrupted: boolean;
  durationMs: number;
}

export class PlaybookExecutor {
  private readonly x: RunContext;

  constructor(s: Services, o: RunOptions) {
    const x = (this.x = new RunContext(s, o));
    x.vars = new VarsBuilder(x);
    x.remotes = new Remotes(x);
    x.items = new ItemRunner(x);
    x.tasks = new TaskRunner(x);
    x.steps = new ModuleStep(x);
  }

  async run(pb: Playbook): Promise<RunSummary> {
    const t0 = Date.now();
    this.x.s.emit({ type: 'run_start', playbook: pb.file, check: this.x.o.check, diff: this.x.o.diff, version: this.x.o.version });
    let fatal: unknown;
    try {
      for (const play of pb.plays) {
        this.x.checkInterrupt();
        await this.runPlay(play);
      }
    } catch (e) {
      if (e instanceof InterruptedError) this.x.interrupted = true;
      else fatal = e;
    } finally {
      await this.x.pool.closeAll().catch(() => undefined);
    }
    // Ctrl-C during the last task leaves no later check point to throw: the signal decides
    if (this.x.o.signal.aborted) this.x.interrupted = true;
    const counters: Record<string, HostCounters> = {};
    for (const [n, h] of this.x.hosts) if (h.targeted) counters[n] = h.counters;
    let exitCode: number = EXIT.OK;
    const states = [...this.x.hosts.values()].filter((h) => h.targeted);
    // from the hosts' final state, as Ansible does: a result ignored by ignore_unreachable, or a
    // failure cleared by meta: clear_host_errors, is counted in the recap but does not fail the run
    if (states.some((h) => h.unreachable)) exitCode = EXIT.UNREACHABLE;
    else if (states.some((h) => h.failed)) exitCode = EXIT.HOST_FAILED;
    if (this.x.interrupted) exitCode = EXIT.INTERRUPTED;
    const durationMs = Date.now() - t0;
    this.x.s.emit({ type: 'recap', hosts: counters, duration_ms: durationMs, exit_code: fatal ? EXIT.ERROR : exitCode, interrupted: this.x.interrupted });
    if (fatal) throw fatal;
    return { exitCode, counters, interrupted: this.x.interrupted, durationMs };
  }

  private async playPattern(play: PlayDef): Promise<string> {
    if (!hasTemplate(play.hosts)) return play.hosts;
    const v = await this.x.s.templar.renderValue(play.hosts, { ...play.vars, ...this.x.o.extraVars }, play.loc);
    return Array.isArray(v) ? v.join(',') : String(v);
  }

  private async runPlay(play: PlayDef): Promise<void> {
    const pattern = await this.playPattern(play);
    let names = this.x.s.inventory.select(pattern, play.loc);
    if (this.x.o.limit) {
      const limited = new Set(this.x.s.inventory.select(this.x.o.limit));
      names = names.filter((n) => limited.has(n));
    }
    // hosts that failed in an earlier play stay out, as in Ansible
    const eligible = await this.ordered(play, names.filter((n) => this.x.host(n).active));
    const playName = play.name ?? pattern;
    this.x.s.emit({ type: 'play_start', name: playName, pattern, hosts: eligible, file: play.loc.file, line: play.loc.line });
    if (eligible.length === 0) {
      this.x.s.emit({ type: 'play_end', name: playName });
      return;
    }
    for (const n of eligible) {
      const h = this.x.host(n);
      h.notified.clear();
      h.targeted = true;
    }
    const batches = await this.batches(play, eligible);
    for (const batch of batches) {
      this.x.checkInterrupt();
      const run: PlayRun = {
        play,
        hosts: batch.map((n) => this.x.host(n)),
        allNames: eligible,
        batchNames: batch,
        varsFiles: new Map(),
        aborted: false,
        seenRoles: new Set(),
        handlers: [...play.handlers],
      };
      run.forceHandlers = await this.x.keywordBool('force_handlers', play.forceHandlers, { ...play.vars, ...this.x.o.extraVars }, play.loc, this.x.o.forceHandlers ?? false);
      await this.runBatch(run);
      const active = run.hosts.filter((h) => h.active);
      if (active.length === 0 && batches.length > 1) break; // a batch that failed entirely stops the play
      if (run.aborted && !run.batchEnded) break;
    }
    this.x.s.emit({ type: 'play_end', name: playName });
  }

  /**
   * A play keyword given as a template (`strategy: "{{ s | default('linear') }}"`), rendered
   * with the play's vars and extra vars as Ansible does; `omit` means not given.
   */
  private async playKeyword(play: PlayDef, keyword: 'strategy' | 'serial' | 'order', raw: unknown): Promise<unknown> {
    if (!hasTemplate(raw)) return raw;
    const v = await this.x.s.templar.renderValue(raw, { ...play.vars, ...this.x.o.extraVars, omit: OMIT }, play.loc);
    if (v === OMIT) return undefined;
    if (keyword === 'strategy' && v !== 'linear' && v !== 'free') throw new ValidationError(`strategy: '${String(v)}' (from '${String(raw)}') is not a strategy (linear or free)`, play.loc);
    if (keyword === 'order' && !(HOST_ORDERS as readonly unknown[]).includes(v)) throw new ValidationError(`order: '${String(v)}' (from '${String(raw)}') is not one of ${HOST_ORDERS.join(', ')}`, play.loc);
    return v;
  }

  /** The play's `order` keyword applied to its hosts (inventory order by default). */
  private async ordered(play: PlayDef, names: string[]): Promise<string[]> {
    const order = await this.playKeyword(play, 'order', play.order);
    switch (order) {
      case 'reverse_inventory':
        return [...names].reverse();
      case 'sorted':
        return [...names].sort();
      case 'reverse_sorted':
        return [...names].sort().reverse();
      case 'shuffle': {
        const out = [...names];
        for (let i = out.length - 1; i > 0; i--) {
          const j = Math.floor(Math.random() * (i + 1));
          [out[i], out[j]] = [out[j], out[i]];
        }
        return out;
      }
      default:
        return names;
    }
  }

  private async batches(play: PlayDef, hosts: string[]): Promise<string[][]> {
    const serial: unknown[] = [];
    for (const s of play.serial ?? []) {
      const v = await this.playKeyword(play, 'serial', s);
      if (Array.isArray(v)) serial.push(...v);
      else if (v !== undefined && v !== null) serial.push(v);
    }
    if (serial.length === 0) return [hosts];
    const sizes = serial.map((s) => {
      const str = String(s).trim();
      const n = str.endsWith('%') ? Math.floor((hosts.length * parseFloat(str)) / 100) : parseInt(str, 10);
      if (!Number.isFinite(n)) throw new ValidationError(`serial: '${str}' is not a number or a percentage`, play.loc);
      return Math.max(1, n);
    });
    const out: string[][] = [];
    let i = 0;
    let k = 0;
    while (i < hosts.length) {
      const size = sizes[Math.min(k, sizes.length - 1)];
      out.push(hosts.slice(i, i + size));
      i += size;
      k++;
    }
    return out;
  }

  private async runBatch(run: PlayRun): Promise<void> {
    const scope = playScope(run.play);
    await this.x.vars.loadVarsFiles(run, scope);
    const gather = await this.x.keywordBool('gather_facts', run.play.gatherFacts, { ...run.play.vars, ...this.x.o.extraVars }, run.play.loc, true);
    if (gather) await this.gatherFacts(run, scope);
    const sections: TaskItem[][] = [run.play.preTasks, run.play.roleTasks, run.play.tasks, run.play.postTasks];
    const strategyFree = (await this.playKeyword(run.play, 'strategy', run.play.strategy)) === 'free';
    for (let i = 0; i < sections.length; i++) {
      if (run.aborted) break;
      if (strategyFree) {
        const limit = pLimit(this.x.o.forks);
        await Promise.all(run.hosts.filter((h) => h.active).map((h) => limit(() => this.x.items.runItems(run, sections[i], [h], scope))));
      } else {
        await this.x.items.runItems(run, sections[i], run.hosts, scope);
      }
      // Ansible flushes handlers after pre_tasks, after roles+tasks, and after post_tasks
      if (i === 0 || i === 2 || i === 3) await this.x.items.flushHandlers(run, scope);
    }
  }

  private async gatherFacts(run: PlayRun, scope: Scope): Promise<void> {
    const setup = this.x.s.modules.get('setup');
    if (!setup) return;
    const task: TaskDef = {
      kind: 'task',
      name: 'Gathering Facts',
      module: 'setup',
      args: {},
      loc: run.play.loc,
      tags: ['always'],
      effectiveTags: ['always'],
      dir: run.play.dir,
    };
    await this.x.tasks.runTaskOnHosts(run, task, run.hosts.filter((h) => h.active), scope, false);
  }
}

export { emptyCounters };
