/**
 * What every part of one run shares: the services and options, each host's state, the
 * connection pool, the check-mode overlays, and the parts themselves (so the play runner, the
 * item runner, the task runner, the module step, the variables and the remotes can call each
 * other without one class holding all of it). Also the small rules every part applies the same
 * way: reading a boolean keyword, interruption, loop items, error outcomes.
 */

import { ConnectionPool } from '../connection/pool';
import { InterruptedError, ModuleFailure, TemplateError, TsplayError, UnreachableError, formatLocation, type SourceLocation } from '../errors';
import type { TaskDef } from '../loader/types';
import { BOOLEAN_SPELLINGS, parseBoolean } from '../booleans';
import { secrets } from '../secrets';
import { CheckOverlay } from './check-overlay';
import { HostState } from './host-state';
import type { ItemRunner } from './items';
import type { ModuleStep } from './module-step';
import type { Remotes } from './remotes';
import { expandLookup, renderTerms } from './loop-lookups';
import { OMIT, type TaskResult } from './scope';
import type { TaskRunner } from './task-runner';
import type { VarsBuilder } from './task-vars';
import type { RunOptions, Services } from './types';
import { hasTemplate, type Vars } from './vars';

export class RunContext {
  readonly hosts = new Map<string, HostState>();
  readonly pool = new ConnectionPool();
  private readonly overlays = new Map<string, CheckOverlay>();
  startAtFound: boolean;
  interrupted = false;
  // the parts, wired by PlaybookExecutor
  vars!: VarsBuilder;
  remotes!: Remotes;
  items!: ItemRunner;
  tasks!: TaskRunner;
  steps!: ModuleStep;

  constructor(
    readonly s: Services,
    readonly o: RunOptions,
  ) {
    this.startAtFound = !o.startAtTask;
  }

  overlayFor(host: string): CheckOverlay {
    let o = this.overlays.get(host);
    if (!o) {
      o = new CheckOverlay();
      this.overlays.set(host, o);
    }
    return o;
  }

  host(name: string): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = new HostState(name);
      this.hosts.set(name, h);
    }
    return h;
  }

  checkInterrupt(): void {
    if (this.o.signal.aborted) {
      this.interrupted = true;
      throw new InterruptedError();
    }
  }

  /**
   * A boolean keyword's value for one host. A template is rendered with the task's variables
   * (per host, as Ansible's post_validate does) and read with the one boolean rule; an absent
   * keyword or `omit` gives `dflt`. Anything else is an error at the task, never a silent false:
   * a `check_mode: "{{ dry }}"` read as false would run the task for real.
   */
  async keywordBool(keyword: string, raw: boolean | string | undefined, vars: Vars | (() => Promise<Vars>), loc: SourceLocation | undefined, dflt: boolean): Promise<boolean> {
    if (raw === undefined) return dflt;
    if (typeof raw === 'boolean') return raw;
    const value = hasTemplate(raw) ? await this.s.templar.renderValue(raw, typeof vars === 'function' ? await vars() : vars, loc) : raw;
    if (value === OMIT) return dflt;
    const b = parseBoolean(value);
    if (b === undefined) {
      const shown = typeof value === 'string' ? `'${value}'` : value === null ? 'none' : JSON.stringify(value);
      throw new TemplateError(`${keyword}: ${shown}${value !== raw ? ` (from '${raw}')` : ''} is not a boolean: write ${BOOLEAN_SPELLINGS}`, loc);
    }
    return b;
  }

  sleep(ms: number): Promise<void> {
    // the abort listener goes when the timer fires: a long until/retries loop must not pile them up
    return new Promise((resolve) => {
      const signal = this.o.signal;
      const onAbort = (): void => {
        clearTimeout(t);
        resolve();
      };
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async loopItems(task: Pick<TaskDef, 'loop' | 'loopLookup' | 'loc'> & { module?: string }, vars: Vars): Promise<unknown[]> {
    if (task.loopLookup) {
      try {
        const terms = renderTerms(this.s.templar, task.loopLookup, task.loop, vars, task.loc);
        return expandLookup(task.loopLookup, terms, vars, this.s.templar.strict, task.module);
      } catch (e) {
        if (e instanceof TemplateError && !e.location) e.location = task.loc;
        throw e;
      }
    }
    const v = await this.s.templar.renderValue(task.loop, vars, task.loc);
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) throw new TemplateError(`loop must be a list, got ${typeof v}`, task.loc);
    return v;
  }

  async allHold(conds: unknown[], vars: Vars, task: { loc: SourceLocation }): Promise<boolean> {
    for (const c of conds) if (!(await this.s.templar.evaluate(c, vars, task.loc))) return false;
    return true;
  }

  errorOutcome(e: unknown): TaskResult {
    const out = this.errorOutcomeRaw(e);
    if (typeof out.result.msg === 'string') out.result.msg = secrets.maskFragments(out.result.msg);
    return out;
  }

  errorOutcomeRaw(e: unknown): TaskResult {
    if (e instanceof UnreachableError) return { status: 'unreachable', result: { unreachable: true, msg: e.message, changed: false } };
    if (e instanceof ModuleFailure) return { status: 'failed', result: { changed: false, ...e.result, failed: true, msg: e.message } };
    if (e instanceof TsplayError) {
      const where = formatLocation(e.location);
      return { status: 'failed', result: { failed: true, changed: false, msg: `${where ? `${where}: ` : ''}${e.message}${e.hint ? ` (${e.hint})` : ''}` } };
    }
    // a bug of ours, not the playbook's: the stack only at -vvv (it names our files, not the user's)
    const err = e as Error;
    const text = this.o.verbosity >= 3 ? (err?.stack ?? String(e)) : `${err?.message ?? String(e)} (run with -vvv for the stack trace)`;
    return { status: 'failed', result: { failed: true, changed: false, msg: `internal error: ${text}` } };
  }
}
