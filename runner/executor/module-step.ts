/**
 * One execution of a task's module on a host (one loop item): retries/until, changed_when and
 * failed_when, the arguments rendered, and the contexts the module runs with: delegate_to,
 * environment, check/diff mode and the check-mode overlay are decided here. The module contract
 * itself (validate -> plan -> apply) is runModule (run-module.ts), shared with the module tests.
 */

import fs from 'fs';
import path from 'path';
import { probeOnly } from '../connection/remote';
import { InterruptedError, ModuleFailure, ValidationError } from '../errors';
import { controllerFileCandidates, controllerSearchDirs } from '../loader/controller-files';
import { stripFqcn } from '../loader/keywords';
import type { PlayDef, TaskDef } from '../loader/types';
import type { TemplateFileOptions, TsplayModule } from '../module-api';
import { secrets } from '../secrets';
import type { CheckOverlay } from './check-overlay';
import type { RunContext } from './context';
import type { HostState } from './host-state';
import { interruptible } from './interruptible';
import { noRemote, withEnv } from './remotes';
import { runModule, type ModuleContexts } from './run-module';
import { stripOmit, taskDisplayName, type PlayRun, type Scope, type TaskResult } from './scope';
import { extendVars, hasTemplate, type Vars } from './vars';

export class ModuleStep {
  constructor(private readonly x: RunContext) {}

  /** One execution of a task (one loop item): retries, plan/apply, changed_when/failed_when/until. */
  async runOne(run: PlayRun, task: TaskDef, h: HostState, scope: Scope, vars: Vars, noLog: boolean): Promise<TaskResult> {
    const name0 = hasTemplate(task.module) ? stripFqcn(String(await this.x.s.templar.renderValue(task.module, vars, task.loc))) : task.module;
    const mod = this.x.s.modules.get(name0);
    if (!mod) throw new ValidationError(`unknown module '${name0}'${name0 !== task.module ? ` (from '${task.module}')` : ''}`, task.loc);
    const hasUntil = task.until !== undefined;
    const retries = hasUntil ? Number(task.retries !== undefined ? await this.x.s.templar.renderValue(task.retries, vars) : 3) : 0;
    const delay = Number(task.delay !== undefined ? await this.x.s.templar.renderValue(task.delay, vars) : 5);
    const name = taskDisplayName(task);
    let attempt = 0;
    for (;;) {
      this.x.checkInterrupt();
      let out: TaskResult;
      // a module that ran and failed (rc != 0) still has a result for changed_when to judge
      let ran = true;
      try {
        out = await this.attempt(run, task, mod, h, scope, vars);
      } catch (e) {
        if (e instanceof InterruptedError) throw e;
        ran = e instanceof ModuleFailure;
        out = this.x.errorOutcome(e);
      }
      if (out.status === 'unreachable') return out;
      // changed_when / failed_when see the result as `register` would
      const rv: Vars = extendVars(this.x.s.templar, vars, task.register ? { ...out.result, [task.register]: out.result } : out.result);
      // a condition that cannot be evaluated fails the task but keeps the module's result
      // (stdout, rc...), with the error under <keyword>_result, as Ansible does
      const condition = async (keyword: string, c: unknown): Promise<boolean | undefined> => {
        try {
          return await this.x.s.templar.evaluate(c, rv, task.loc);
        } catch (e) {
          if (e instanceof InterruptedError) throw e;
          out.status = 'failed';
          out.result.failed = true;
          out.result[`${keyword}_result`] = out.result.msg = e instanceof Error ? e.message : String(e);
          return undefined;
        }
      };
      // as Ansible: changed_when judges every result that ran, failed or not; if it cannot be
      // evaluated, failed_when is not looked at
      let judged = true;
      if (task.changedWhen !== undefined && ran) {
        const ch = await condition('changed_when', task.changedWhen);
        if (ch === undefined) judged = false;
        else {
          out.result.changed = ch;
          if (out.status !== 'failed') out.status = ch ? 'changed' : 'ok';
        }
      }
      if (task.failedWhen !== undefined && judged) {
        const fw = await condition('failed_when', task.failedWhen);
        if (fw !== undefined) {
          out.result.failed = out.result.failed_when_result = fw;
          if (fw) {
            out.status = 'failed';
            if (!out.result.msg) out.result.msg = 'failed_when condition was true';
          } else if (out.status === 'failed') out.status = out.result.changed ? 'changed' : 'ok';
        }
      }
      // every result of a task that ran says whether it failed (`'failed' in r` holds in Ansible)
      if (out.result.failed === undefined) out.result.failed = out.status === 'failed';
      if (!hasUntil) return out;
      const uv: Vars = extendVars(this.x.s.templar, vars, task.register ? { ...out.result, [task.register]: out.result } : out.result);
      let done = false;
      try {
        done = await this.x.s.templar.evaluate(task.until, uv, task.loc);
      } catch {
        done = false;
      }
      if (done) {
        out.result.attempts = attempt + 1;
        if (out.status === 'failed' && task.failedWhen === undefined) out.status = out.result.changed ? 'changed' : 'ok';
        return out;
      }
      attempt++;
      if (attempt > retries) {
        // Ansible makes retries + 1 attempts and reports `attempts: retries` once they are spent
        out.result.attempts = retries;
        out.status = 'failed';
        out.result.failed = true;
        if (!out.result.msg || typeof out.result.msg !== 'string') out.result.msg = 'Retries exhausted';
        else out.result.msg = `${out.result.msg} (retries exhausted: ${retries})`;
        return out;
      }
      this.x.s.emit({ type: 'retry', host: h.name, task: name, attempt, retries, msg: noLog ? undefined : (out.result.msg as string | undefined) });
      await this.x.sleep(delay * 1000);
    }
  }

  /** add_host / group_by change the in-memory inventory (the only modules that do). */
  private inventoryEffects(h: HostState, result: Record<string, unknown> | undefined): void {
    const add = result?.add_host as { host_name: string; groups: string[]; host_vars: Vars } | undefined;
    if (add) this.x.s.inventory.addRuntimeHost(add.host_name, add.groups, add.host_vars);
    if (typeof result?.add_group === 'string') this.x.s.inventory.addRuntimeGroup(h.name, result.add_group, result.parent_groups as string[]);
  }

  async attempt(run: PlayRun, task: TaskDef, mod: TsplayModule, h: HostState, scope: Scope, vars: Vars): Promise<TaskResult> {
    // args: templated except the module's raw (condition) args; `omit` removes a key
    const raw = new Set(mod.rawArgs ?? []);
    const args: Record<string, unknown> = {};
    for (const [k0, v] of Object.entries(task.args)) {
      const k = mod.templatedKeys && hasTemplate(k0) ? String(await this.x.s.templar.renderValue(k0, vars, task.loc)) : k0;
      args[k] = raw.has(k0) ? v : await this.x.s.templar.renderValue(v, vars, task.loc);
    }
    let opened: Opened | undefined;
    // delegate_facts: the facts a delegated task returns belong to the host it ran on
    const delegateFacts = (task.delegateTo ?? scope.delegateTo) !== undefined &&
      (await this.x.keywordBool('delegate_facts', task.delegateFacts ?? scope.delegateFacts, vars, task.loc, false));
    const out = await runModule(mod, stripOmit(args) as Record<string, unknown>, {
      registry: this.x.s.modules,
      loc: task.loc,
      contexts: async () => (opened = await this.open(run, task, mod, h, scope, vars)),
      onPlan: (plan) => {
        // Ansible's precedence: include_vars (18) below set_fact and register (19)
        const owner = delegateFacts && opened && opened.target !== h.name ? this.x.host(opened.target) : h;
        if (plan.facts) Object.assign(mod.name === 'setup' ? owner.facts : mod.name === 'include_vars' ? owner.included : owner.runtime, plan.facts);
        this.inventoryEffects(h, plan.result);
      },
      onCheck: (changes) => {
        // remember only what the real run would write: a task forcing check_mode is a probe
        const forced = (task.checkMode ?? scope.checkMode) !== undefined;
        if (this.x.o.check && !forced) opened?.overlay?.record(changes);
      },
    });
    const delegatedTo = opened && opened.target !== h.name ? opened.target : undefined;
    const { status, result, changes, diffs } = out;
    const check = opened?.probe.check;
    return changes ? { status, result, changes, diffs, delegatedTo, check } : { status, result, delegatedTo, check };
  }

  /** The task's contexts on its host (or its delegate): check/diff mode, environment, connection. */
  private async open(run: PlayRun, task: TaskDef, mod: TsplayModule, h: HostState, scope: Scope, vars: Vars): Promise<Opened> {
    const check = await this.x.keywordBool('check_mode', task.checkMode ?? scope.checkMode, vars, task.loc, this.x.o.check);
    const diff = await this.x.keywordBool('diff', task.diff ?? scope.diff, vars, task.loc, this.x.o.diff);

    // delegate_to: run on another host with this host's variables
    const delegateRaw = task.delegateTo ?? scope.delegateTo;
    let target = h.name;
    let connVars = vars;
    if (delegateRaw !== undefined) {
      target = String(await this.x.s.templar.renderValue(delegateRaw, vars, task.loc));
      const dh = this.x.s.inventory.hasHost(target) ? await this.x.vars.inventoryVars(target) : {};
      connVars = { ...(await this.x.s.templar.renderValue(dh, vars)) as Vars };
    }
    const env = await this.x.remotes.environment(scope, vars);
    const remote = mod.local ? undefined : await this.x.remotes.remoteFor(target, connVars, scope, task, vars);
    const wrapped = remote ? interruptible(withEnv(remote, env), this.x.o.signal) : undefined;
    const ctxBase = {
      host: h.name,
      vars,
      check,
      diff,
      render: (t: string, extra?: Vars, source?: string, file?: TemplateFileOptions) => {
        const v = extra ? extendVars(this.x.s.templar, vars, extra, false) : vars;
        // a template file: included ones are found beside it, then where its own was looked for
        if (file && source) return this.x.s.templar.renderFile(t, v, source, { ...file, searchPath: [path.dirname(source), ...controllerSearchDirs('templates', task, run.play)] });
        return this.x.s.templar.renderString(t, v, source ? { file: source } : task.loc);
      },
      evaluate: (c: unknown) => this.x.s.templar.evaluate(c, vars, task.loc),
      evaluateExpression: (e: string) => this.x.s.templar.evaluateExpression(e, vars, task.loc),
      readVarsFile: (p: string) => this.x.s.readVarsFile(p),
      findFile: (n: string, kind: 'templates' | 'files' | 'vars') => findFile(n, kind, task, run.play),
      log: (level: 1 | 2 | 3, message: string) => this.x.s.emit({ type: 'verbose', level, host: h.name, message: secrets.mask(message) }),
      signal: this.x.o.signal,
      now: () => Date.now(),
    };
    // in check mode the probe sees what earlier tasks of this run would have written
    const overlay = check ? this.x.overlayFor(target) : undefined;
    const probe = wrapped ? probeOnly(wrapped) : noRemote(mod.name);
    return {
      target,
      overlay,
      probe: { ...ctxBase, remote: overlay && wrapped ? overlay.wrap(probe) : probe },
      apply: wrapped ? { ...ctxBase, remote: wrapped } : undefined,
    };
  }
}

/** The contexts a task runs its module with, and what the step needs again afterwards. */
interface Opened extends ModuleContexts {
  target: string;
  overlay?: CheckOverlay;
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.promises.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Controller-side lookup of a role/playbook file, Ansible's order (loader/controller-files.ts). */
async function findFile(name: string, kind: 'templates' | 'files' | 'vars', task: TaskDef, play: PlayDef): Promise<string> {
  const candidates = controllerFileCandidates(name, kind, task, play);
  for (const c of candidates) if (await exists(c)) return c;
  if (path.isAbsolute(name)) throw new ValidationError(`${kind.slice(0, -1)} file not found: ${name}`, task.loc);
  throw new ValidationError(`${kind.slice(0, -1)} file '${name}' not found`, task.loc, `searched: ${candidates.join(', ')}`);
}
