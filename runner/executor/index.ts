/**
 * playbook -> play (serial batches, strategy, handlers) -> items (blocks, includes, tasks)
 * -> task on a host (when, loop, retries, plan/apply, register, notify).
 *
 * Linear strategy: each task runs on every active host of the batch concurrently (limited by
 * --forks) and the next task starts when all are done. Free: each host walks the task list on
 * its own. A failed or unreachable host leaves the play; the others go on, unless
 * any_errors_fatal or max_fail_percentage say otherwise.
 */

import os from 'os';
import path from 'path';
import pLimit from 'p-limit';
import { ConnectionPool } from '../connection/pool';
import { createRemote, probeOnly } from '../connection/remote';
import { becomeKey } from '../connection/session-pool';
import { checkBecomeUser } from '../names';
import type { BecomeSpec, Connection, ConnectionSpec, HostKeyPolicy } from '../connection/types';
import {
  EXIT,
  InterruptedError,
  ModuleFailure,
  TemplateError,
  TsplayError,
  UnreachableError,
  ValidationError,
  formatLocation,
  type SourceLocation,
} from '../errors';
import { stripFqcn } from '../loader/keywords';
import type { BlockDef, IncludeDef, MetaDef, PlayDef, Playbook, RoleRef, TaskDef, TaskItem } from '../loader/types';
import {
  applyChanges,
  type Change,
  type DiffText,
  type ExecOptions,
  type ModuleContext,
  type Plan,
  type Remote,
  type TsplayModule,
} from '../module-api';
import { emptyCounters, type HostCounters, type HostStatus } from '../output/events';
import { MASK, secrets } from '../secrets';
import { CheckOverlay } from './check-overlay';
import { HostState } from './host-state';
import { nestInclude } from './include-depth';
import { interruptible } from './interruptible';
import type { RunOptions, Services } from './types';
import { extendVars, hasTemplate, lazyVars, mergeLayers, type Vars } from './vars';
import { BOOLEAN_SPELLINGS, parseBoolean } from '../booleans';

const OMIT = '__omit_place_holder__tsplay';
const NO_LOG_MSG = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";
const MAGIC = new Set([
  'inventory_hostname',
  'inventory_hostname_short',
  'group_names',
  'groups',
  'hostvars',
  'play_hosts',
  'ansible_play_hosts',
  'ansible_play_hosts_all',
  'ansible_play_batch',
  'ansible_check_mode',
  'ansible_diff_mode',
  'ansible_verbosity',
  'playbook_dir',
  'inventory_dir',
  'inventory_file',
  'role_name',
  'role_path',
  'omit',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_facts',
]);

/** Keywords inherited from play -> role -> block -> task. */
interface Scope {
  role?: RoleRef;
  /** block vars, outer to inner */
  vars: Vars[];
  conditions: unknown[];
  become?: boolean | string;
  becomeUser?: string;
  becomeMethod?: string;
  becomeFlags?: string;
  environment: Array<Record<string, unknown> | string>;
  checkMode?: boolean | string;
  diff?: boolean | string;
  noLog?: boolean | string;
  ignoreErrors?: boolean | string;
  ignoreUnreachable?: boolean | string;
  anyErrorsFatal?: boolean | string;
  delegateTo?: string;
  runOnce?: boolean | string;
  /** inside a block that has a rescue: a failure goes there instead of ending the host */
  inRescuable: boolean;
}

interface PlayRun {
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
  handlers: TaskDef[];
}

export interface RunSummary {
  exitCode: number;
  counters: Record<string, HostCounters>;
  interrupted: boolean;
  durationMs: number;
}

interface TaskOutcome {
  status: HostStatus;
  result: Record<string, unknown>;
  /** a failure ignored by ignore_errors */
  ignored?: boolean;
}


/** A role and the roles it is a dependency of, outermost first. */
function roleChain(role: RoleRef | undefined): RoleRef[] {
  const out: RoleRef[] = [];
  for (let r = role; r; r = r.parent) out.unshift(r);
  return out;
}

/** Task names rendered with play-level variables (see renderTaskName). */
const renderedNames = new WeakMap<object, string>();

function taskDisplayName(t: { name?: string; module?: string; role?: RoleRef; kind: string; target?: string }): string {
  const base = renderedNames.get(t) ?? t.name ?? (t.kind === 'task' ? t.module : t.kind === 'include_tasks' || t.kind === 'include_role' ? `${t.kind}: ${t.target}` : t.kind);
  return t.role ? `${t.role.name} : ${base}` : String(base);
}

function asList(v: unknown): unknown[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v : [v];
}

function stripOmit(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== OMIT).map(stripOmit);
  if (v && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== OMIT) out[k] = stripOmit(x);
    return out;
  }
  return v;
}

export class PlaybookExecutor {
  private readonly hosts = new Map<string, HostState>();
  private readonly pool: ConnectionPool;
  private readonly remotes = new Map<string, Promise<Remote>>();
  private readonly resolvedInventory = new Map<string, Promise<Vars>>();
  private startAtFound: boolean;
  private interrupted = false;

  constructor(
    private readonly s: Services,
    private readonly o: RunOptions,
  ) {
    this.pool = new ConnectionPool();
    this.startAtFound = !o.startAtTask;
  }

  private readonly overlays = new Map<string, CheckOverlay>();

  private overlayFor(host: string): CheckOverlay {
    let o = this.overlays.get(host);
    if (!o) {
      o = new CheckOverlay();
      this.overlays.set(host, o);
    }
    return o;
  }

  private host(name: string): HostState {
    let h = this.hosts.get(name);
    if (!h) {
      h = new HostState(name);
      this.hosts.set(name, h);
    }
    return h;
  }

  private checkInterrupt(): void {
    if (this.o.signal.aborted) {
      this.interrupted = true;
      throw new InterruptedError();
    }
  }

  async run(pb: Playbook): Promise<RunSummary> {
    const t0 = Date.now();
    this.s.emit({ type: 'run_start', playbook: pb.file, check: this.o.check, diff: this.o.diff, version: this.o.version });
    let fatal: unknown;
    try {
      for (const play of pb.plays) {
        this.checkInterrupt();
        await this.runPlay(play, pb);
      }
    } catch (e) {
      if (e instanceof InterruptedError) this.interrupted = true;
      else fatal = e;
    } finally {
      await this.pool.closeAll().catch(() => undefined);
    }
    // Ctrl-C during the last task leaves no later check point to throw: the signal decides
    if (this.o.signal.aborted) this.interrupted = true;
    const counters: Record<string, HostCounters> = {};
    for (const [n, h] of this.hosts) if (h.targeted) counters[n] = h.counters;
    let exitCode: number = EXIT.OK;
    const states = [...this.hosts.values()].filter((h) => h.targeted);
    // from the hosts' final state, as Ansible does: a result ignored by ignore_unreachable, or a
    // failure cleared by meta: clear_host_errors, is counted in the recap but does not fail the run
    if (states.some((h) => h.unreachable)) exitCode = EXIT.UNREACHABLE;
    else if (states.some((h) => h.failed)) exitCode = EXIT.HOST_FAILED;
    if (this.interrupted) exitCode = EXIT.INTERRUPTED;
    const durationMs = Date.now() - t0;
    this.s.emit({ type: 'recap', hosts: counters, duration_ms: durationMs, exit_code: fatal ? EXIT.ERROR : exitCode, interrupted: this.interrupted });
    if (fatal) throw fatal;
    return { exitCode, counters, interrupted: this.interrupted, durationMs };
  }

  // ---------------------------------------------------------------- plays

  private async playPattern(play: PlayDef): Promise<string> {
    if (!hasTemplate(play.hosts)) return play.hosts;
    const v = await this.s.templar.renderValue(play.hosts, { ...play.vars, ...this.o.extraVars }, play.loc);
    return Array.isArray(v) ? v.join(',') : String(v);
  }

  private async runPlay(play: PlayDef, pb: Playbook): Promise<void> {
    const pattern = await this.playPattern(play);
    let names = this.s.inventory.select(pattern, play.loc);
    if (this.o.limit) {
      const limited = new Set(this.s.inventory.select(this.o.limit));
      names = names.filter((n) => limited.has(n));
    }
    // hosts that failed in an earlier play stay out, as in Ansible
    const eligible = names.filter((n) => this.host(n).active);
    const playName = play.name ?? pattern;
    this.s.emit({ type: 'play_start', name: playName, pattern, hosts: eligible, file: play.loc.file, line: play.loc.line });
    if (eligible.length === 0) {
      this.s.emit({ type: 'play_end', name: playName });
      return;
    }
    for (const n of eligible) {
      const h = this.host(n);
      h.notified.clear();
      h.targeted = true;
    }
    const batches = await this.batches(play, eligible);
    for (const batch of batches) {
      this.checkInterrupt();
      const run: PlayRun = {
        play,
        hosts: batch.map((n) => this.host(n)),
        allNames: eligible,
        batchNames: batch,
        varsFiles: new Map(),
        aborted: false,
        seenRoles: new Set(),
        handlers: [...play.handlers],
      };
      await this.runBatch(run, pb);
      const active = run.hosts.filter((h) => h.active);
      if (active.length === 0 && batches.length > 1) break; // a batch that failed entirely stops the play
      if (run.aborted) break;
    }
    this.s.emit({ type: 'play_end', name: playName });
  }

  /**
   * A play keyword given as a template (`strategy: "{{ s | default('linear') }}"`), rendered
   * with the play's vars and extra vars as Ansible does; `omit` means not given.
   */
  private async playKeyword(play: PlayDef, keyword: 'strategy' | 'serial', raw: unknown): Promise<unknown> {
    if (!hasTemplate(raw)) return raw;
    const v = await this.s.templar.renderValue(raw, { ...play.vars, ...this.o.extraVars, omit: OMIT }, play.loc);
    if (v === OMIT) return undefined;
    if (keyword === 'strategy' && v !== 'linear' && v !== 'free') throw new ValidationError(`strategy: '${String(v)}' (from '${String(raw)}') is not a strategy (linear or free)`, play.loc);
    return v;
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

  private playScope(play: PlayDef): Scope {
    return {
      vars: [],
      conditions: [],
      become: play.become,
      becomeUser: play.becomeUser,
      becomeMethod: play.becomeMethod,
      becomeFlags: play.becomeFlags,
      environment: play.environment ? [play.environment] : [],
      checkMode: play.checkMode,
      diff: play.diff,
      noLog: play.noLog,
      ignoreErrors: play.ignoreErrors,
      ignoreUnreachable: play.ignoreUnreachable,
      anyErrorsFatal: play.anyErrorsFatal,
      inRescuable: false,
    };
  }

  private async runBatch(run: PlayRun, pb: Playbook): Promise<void> {
    const scope = this.playScope(run.play);
    await this.loadVarsFiles(run, scope);
    const gather = await this.keywordBool('gather_facts', run.play.gatherFacts, { ...run.play.vars, ...this.o.extraVars }, run.play.loc, true);
    if (gather) await this.gatherFacts(run, scope);
    const sections: TaskItem[][] = [run.play.preTasks, run.play.roleTasks, run.play.tasks, run.play.postTasks];
    const strategyFree = (await this.playKeyword(run.play, 'strategy', run.play.strategy)) === 'free';
    for (let i = 0; i < sections.length; i++) {
      if (run.aborted) break;
      if (strategyFree) {
        const limit = pLimit(this.o.forks);
        await Promise.all(run.hosts.filter((h) => h.active).map((h) => limit(() => this.runItems(run, sections[i], [h], scope))));
      } else {
        await this.runItems(run, sections[i], run.hosts, scope);
      }
      // Ansible flushes handlers after pre_tasks, after roles+tasks, and after post_tasks
      if (i === 0 || i === 2 || i === 3) await this.flushHandlers(run, scope);
    }
    void pb;
  }

  private async loadVarsFiles(run: PlayRun, scope: Scope): Promise<void> {
    // vars_files may be templated per host; files are read once per distinct path
    const cache = new Map<string, Promise<Vars>>();
    for (const h of run.hosts) {
      const merged: Vars = {};
      for (const entry of run.play.varsFiles) {
        const candidates = Array.isArray(entry) ? entry : [entry];
        let loaded = false;
        let lastErr: unknown;
        for (const c of candidates) {
          const ctx = await this.taskVars(run, h, scope, undefined);
          const rendered = String(await this.s.templar.renderValue(c, ctx, run.play.loc));
          const file = path.resolve(run.play.dir, rendered);
          try {
            let p = cache.get(file);
            if (!p) {
              p = this.s.readVarsFile(file);
              cache.set(file, p);
            }
            Object.assign(merged, await p);
            loaded = true;
            break;
          } catch (e) {
            lastErr = e;
          }
        }
        if (!loaded) throw lastErr instanceof TsplayError ? lastErr : new ValidationError(`vars_files: cannot load ${String(entry)}`, run.play.loc);
      }
      run.varsFiles.set(h.name, merged);
    }
  }

  // ---------------------------------------------------------------- variables

  private async inventoryVars(name: string): Promise<Vars> {
    let p = this.resolvedInventory.get(name);
    if (!p) {
      p = (async () => {
        const v = { ...this.s.inventory.hostVars(name) };
        return v;
      })();
      this.resolvedInventory.set(name, p);
    }
    return p;
  }

  /** hostvars: a lazily filled view of every host's inventory vars + facts + runtime facts. */
  private hostvarsProxy(): Vars {
    const cache = new Map<string, Vars>();
    const known = (key: string) => this.s.inventory.hasHost(key) || this.hosts.has(key);
    const lookup = (key: string): Vars | undefined => {
      if (!known(key)) return undefined;
      let v = cache.get(key);
      if (!v) {
        const h = this.host(key);
        const raw = { ...this.s.inventory.hostVars(key), ...h.facts, ...h.runtime, inventory_hostname: key, group_names: this.groupNames(key) };
        const literal = new Set([...Object.keys(h.facts), ...Object.keys(h.runtime), 'inventory_hostname', 'group_names']);
        v = lazyVars(this.s.templar, raw, literal);
        cache.set(key, v);
      }
      return v;
    };
    return new Proxy({} as Vars, {
      get: (_t, key) => (typeof key === 'string' ? lookup(key) : undefined),
      has: (_t, key) => typeof key === 'string' && known(key),
      ownKeys: () => this.s.inventory.hostNames(),
      getOwnPropertyDescriptor: (_t, key) =>
        typeof key === 'string' && known(key) ? { enumerable: true, configurable: true, value: lookup(key) } : undefined,
    });
  }

  private groupNames(host: string): string[] {
    if (!this.s.inventory.hasHost(host)) return [];
    return this.s.inventory.groupsOf(host).filter((g) => g !== 'all' && g !== 'ungrouped').sort();
  }

  private async taskVars(run: PlayRun, h: HostState, scope: Scope, task: { vars?: Vars } | undefined, extra?: Vars): Promise<Vars> {
    const play = run.play;
    const role = scope.role;
    const src = this.s.inventory.hasHost(h.name) ? this.s.inventory.hostSource(h.name) : undefined;
    const ctx = mergeLayers([
      ...play.roles.map((r) => r.defaults),
      role?.defaults,
      await this.inventoryVars(h.name),
      h.facts,
      play.vars,
      run.varsFiles.get(h.name),
      // the vars of every static role of the play are public to the whole play (Ansible's
      // default, private_role_vars off), also to tasks before an import_role
      ...play.roles.map((r) => r.vars),
      // a meta dependency sees the vars, then the params, of the roles depending on it (Ansible's
      // dep_chain), its own last
      ...roleChain(role).map((r) => r.vars),
      ...roleChain(role).map((r) => r.params),
      ...scope.vars,
      task?.vars,
      h.runtime,
      extra,
      this.o.extraVars,
    ]);
    Object.assign(ctx, {
      inventory_hostname: h.name,
      inventory_hostname_short: h.name.split('.')[0],
      group_names: this.groupNames(h.name),
      groups: this.s.inventory.groupsDict(),
      hostvars: this.hostvarsProxy(),
      play_hosts: run.hosts.filter((x) => x.active).map((x) => x.name),
      // as Ansible: failed and unreachable hosts leave both; play_hosts spans every batch
      ansible_play_hosts: run.allNames.filter((n) => this.host(n).active),
      ansible_play_batch: run.hosts.filter((x) => x.active).map((x) => x.name),
      ansible_play_hosts_all: run.allNames,
      ansible_check_mode: this.o.check,
      ansible_diff_mode: this.o.diff,
      ansible_verbosity: this.o.verbosity,
      ansible_run_tags: this.o.tags.length ? this.o.tags : ['all'],
      ansible_skip_tags: this.o.skipTags,
      playbook_dir: play.dir,
      inventory_dir: src?.dir ?? null,
      inventory_file: src?.file ?? null,
      omit: OMIT,
      ansible_facts: (h.facts.ansible_facts as Vars) ?? {},
    });
    if (role) Object.assign(ctx, { role_name: role.name, role_path: role.path });
    // the address a connection uses: the inventory name unless set (Ansible's task vars have it)
    if (ctx.ansible_host === undefined) ctx.ansible_host = h.name;
    // registered results, set_fact values and facts are data: never rendered again
    const literal = new Set(MAGIC);
    for (const layer of [h.runtime, h.facts]) for (const k of Object.keys(layer)) if (ctx[k] === layer[k]) literal.add(k);
    return lazyVars(this.s.templar, ctx, literal);
  }

  // ---------------------------------------------------------------- connections

  private async connectionSpec(name: string, vars: Vars): Promise<ConnectionSpec> {
    const str = (k: string[]): string | undefined => {
      for (const key of k) {
        const v = vars[key];
        if (v !== undefined && v !== null && v !== '') return String(v);
      }
      return undefined;
    };
    let type = str(['ansible_connection', 'tsplay_connection']) ?? (name === 'localhost' && !this.s.inventory.hasHost(name) ? 'local' : 'ssh');
    if (type === 'smart' || type === 'paramiko') type = 'ssh';
    if (type !== 'local' && type !== 'ssh') throw new TsplayError(`${name}: ansible_connection '${type}' is not supported (local or ssh)`);
    const hkc = str(['tsplay_host_key_checking', 'ansible_host_key_checking', 'ansible_ssh_host_key_checking']);
    let policy: HostKeyPolicy = this.o.hostKeyChecking ?? 'accept-new';
    if (hkc !== undefined && !this.o.hostKeyChecking) {
      if (['strict', 'accept-new', 'off'].includes(hkc)) policy = hkc as HostKeyPolicy;
      else if (['false', 'no', 'off', '0'].includes(hkc.toLowerCase())) policy = 'off';
      else policy = 'strict';
    }
    const password = str(['ansible_password', 'ansible_ssh_pass', 'tsplay_password']) ?? this.o.connPassword;
    if (password) secrets.add(password);
    const jumpRaw = str(['tsplay_jump']) ?? /ProxyJump[= ]\s*(\S+)/.exec(str(['ansible_ssh_common_args']) ?? '')?.[1];
    let jump: ConnectionSpec['jump'];
    if (jumpRaw) {
      const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(jumpRaw);
      if (!m) throw new TsplayError(`${name}: cannot parse jump host '${jumpRaw}' (user@host:port)`);
      jump = { user: m[1], address: m[2], port: m[3] ? parseInt(m[3], 10) : 22 };
    }
    const home = os.homedir();
    const expand = (p: string | undefined) => (p ? p.replace(/^~(?=$|\/)/, home) : p);
    return {
      name,
      type,
      address: str(['ansible_host', 'tsplay_host']) ?? name,
      ...(await import('../inventory/connection-vars')).sshSettings(name, vars, this.o),
      user: str(['ansible_user', 'ansible_ssh_user', 'tsplay_user']) ?? (type === 'local' ? undefined : os.userInfo().username),
      privateKeyFile: expand(str(['ansible_ssh_private_key_file', 'ansible_private_key_file', 'tsplay_private_key_file'])),
      password,
      passphrase: str(['tsplay_key_passphrase']),
      hostKeyChecking: policy,
      knownHostsFile: expand(this.o.knownHostsFile ?? str(['tsplay_known_hosts_file', 'ansible_ssh_known_hosts_file'])) ?? path.join(home, '.ssh', 'known_hosts'),
      timeoutMs: this.o.timeoutMs,
      jump,
    };
  }

  private async becomeSpec(scope: Scope, task: TaskDef | undefined, vars: Vars, spec: ConnectionSpec): Promise<BecomeSpec | undefined> {
    const pick = <T>(t: T | undefined, s: T | undefined, v: unknown): T | undefined => (t !== undefined ? t : s !== undefined ? s : (v as T | undefined));
    const becomeRaw = pick(task?.become, scope.become, vars.ansible_become);
    const become = await this.keywordBool('become', becomeRaw as boolean | string | undefined, vars, task?.loc, false);
    if (!become) return undefined;
    const render = async (x: unknown) => (x === undefined ? undefined : String(await this.s.templar.renderValue(x, vars)));
    const user = checkBecomeUser((await render(pick(task?.becomeUser, scope.becomeUser, vars.ansible_become_user))) ?? 'root', task?.loc);
    const method = (await render(pick(task?.becomeMethod, scope.becomeMethod, vars.ansible_become_method))) ?? 'sudo';
    if (method !== 'sudo' && method !== 'su') throw new TsplayError(`become_method '${method}' is not supported (sudo or su)`);
    const flags = await render(pick(task?.becomeFlags, scope.becomeFlags, vars.ansible_become_flags));
    const pwRaw = vars.ansible_become_password ?? vars.ansible_become_pass ?? this.o.becomePassword;
    const password = pwRaw === undefined || pwRaw === null ? undefined : String(await this.s.templar.renderValue(pwRaw, vars));
    if (password) secrets.add(password);
    // already that user: no become needed
    if (spec.type === 'ssh' && spec.user === user) return undefined;
    if (spec.type === 'local' && os.userInfo().username === user) return undefined;
    return { user, method, password, flags };
  }

  private async remoteFor(hostName: string, vars: Vars, scope: Scope, task: TaskDef | undefined): Promise<Remote> {
    const spec = await this.connectionSpec(hostName, vars);
    const become = await this.becomeSpec(scope, task, vars, spec);
    const key = `${hostName}\0${becomeKey(become)}`;
    let p = this.remotes.get(key);
    if (!p) {
      p = (async () => {
        const conn: Connection = await this.pool.get(spec);
        return createRemote(conn, become);
      })();
      this.remotes.set(key, p);
      p.catch(() => this.remotes.delete(key));
    }
    return p;
  }

  // ---------------------------------------------------------------- facts

  private async gatherFacts(run: PlayRun, scope: Scope): Promise<void> {
    const setup = this.s.modules.get('setup');
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
    await this.runTaskOnHosts(run, task, run.hosts.filter((h) => h.active), scope, false);
  }

  // ---------------------------------------------------------------- items

  /**
   * Ansible's evaluate_tags, rule for rule: a task without tags is 'untagged'; 'always' runs
   * unless skipped by name; 'never' runs only when one of its other tags is asked for by name
   * (not by 'all' or 'tagged'); a skip of any of a task's tags wins, even over 'always'.
   */
  private tagSelected(taskTags: string[], play?: PlayRun): boolean {
    if (play && taskTags.some((t) => hasTemplate(t))) taskTags = this.renderTags(taskTags, play);
    const untagged = taskTags.length === 0;
    const tags = new Set(untagged ? ['untagged'] : taskTags);
    const only = this.o.tags.length ? this.o.tags : ['all'];
    const skip = this.o.skipTags;
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

  /** Templated tags are rendered with the play's variables, as Ansible does (a list or "a,b"). */
  private renderTags(tags: string[], run: PlayRun): string[] {
    const out: string[] = [];
    for (const t of tags) {
      let v: unknown = t;
      try {
        if (hasTemplate(t)) v = this.s.templar.renderValueSync(t, { ...run.play.vars, ...this.o.extraVars });
      } catch {
        v = t; // a tag that needs host variables stays as written: it selects nothing
      }
      for (const x of Array.isArray(v) ? v : String(v).split(',')) if (String(x).trim()) out.push(String(x).trim());
    }
    return out;
  }

  private childScope(scope: Scope, item: BlockDef | TaskDef | IncludeDef | MetaDef): Scope {
    return {
      ...scope,
      role: item.role ?? scope.role,
      vars: item.kind === 'block' && item.vars ? [...scope.vars, item.vars] : scope.vars,
      conditions: item.when !== undefined && item.kind === 'block' ? [...scope.conditions, item.when] : scope.conditions,
      become: item.become ?? scope.become,
      becomeUser: item.becomeUser ?? scope.becomeUser,
      becomeMethod: item.becomeMethod ?? scope.becomeMethod,
      becomeFlags: item.becomeFlags ?? scope.becomeFlags,
      environment: item.environment ? [...scope.environment, item.environment] : scope.environment,
      checkMode: item.checkMode ?? scope.checkMode,
      diff: item.diff ?? scope.diff,
      noLog: item.noLog ?? scope.noLog,
      ignoreErrors: item.ignoreErrors ?? scope.ignoreErrors,
      ignoreUnreachable: item.ignoreUnreachable ?? scope.ignoreUnreachable,
      anyErrorsFatal: item.anyErrorsFatal ?? scope.anyErrorsFatal,
      delegateTo: item.delegateTo ?? scope.delegateTo,
      runOnce: item.runOnce ?? scope.runOnce,
    };
  }

  private async runItems(run: PlayRun, items: TaskItem[], hosts: HostState[], scope: Scope): Promise<void> {
    for (const item of items) {
      this.checkInterrupt();
      if (run.aborted) return;
      const active = hosts.filter((h) => h.active);
      if (active.length === 0) return;
      switch (item.kind) {
        case 'task':
          if (!this.tagSelected(item.effectiveTags, run)) continue;
          if (!this.startAtFound) {
            const n = taskDisplayName(item);
            if (n === this.o.startAtTask || item.name === this.o.startAtTask) this.startAtFound = true;
            else continue;
          }
          await this.runTaskOnHosts(run, item, active, this.childScope(scope, item), false);
          break;
        case 'block':
          await this.runBlock(run, item, active, scope);
          break;
        case 'include_tasks':
        case 'include_role':
          if (!this.tagSelected(item.effectiveTags, run)) continue;
          await this.runInclude(run, item, active, this.childScope(scope, item));
          break;
        case 'meta':
          if (!this.tagSelected(item.effectiveTags, run) && item.action !== 'flush_handlers') continue;
          await this.runMeta(run, item, active, this.childScope(scope, item));
          break;
      }
    }
  }

  private async runBlock(run: PlayRun, block: BlockDef, hosts: HostState[], scope: Scope): Promise<void> {
    const inner = this.childScope(scope, block);
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
      if (run.failedAbort) run.aborted = false;
      await this.runItems(run, block.always, alwaysHosts, { ...inner, inRescuable: scope.inRescuable });
      run.aborted ||= aborted;
      for (const { h, cleared } of stillFailed) if (h.errorsCleared === cleared) h.failed = true;
    }
  }

  private async runInclude(run: PlayRun, inc: IncludeDef, hosts: HostState[], scope: Scope): Promise<void> {
    // resolve per host and loop item (when + templated target/tasks_from/params), then group the
    // hosts by what they include: one group per distinct include, in order of first appearance
    const groups = new Map<string, { target: string; tasksFrom?: string; hosts: HostState[]; params: Vars; loopVars?: Vars }>();
    const name = inc.name ?? `${inc.kind}: ${inc.target}`;
    for (const h of hosts) {
      const vars = await this.taskVars(run, h, scope, inc);
      try {
        if (!(await this.allHold(scope.conditions, vars, inc))) {
          this.recordResult(run, h, name, { status: 'skipped', result: { skipped: true } }, 0);
          continue;
        }
        let items: Array<Vars | undefined> = [undefined];
        if (inc.loop !== undefined) {
          const loop = await this.loopItems(inc, vars);
          const loopVar = inc.loopControl?.loopVar ?? 'item';
          items = loop.map((item, i) => ({
            [loopVar]: item,
            ansible_loop_var: loopVar,
            ansible_loop: { index: i + 1, index0: i, first: i === 0, last: i === loop.length - 1, length: loop.length },
            ...(inc.loopControl?.indexVar ? { [inc.loopControl.indexVar]: i } : {}),
          }));
        }
        let included = false;
        for (const loopVars of items) {
          const iv = loopVars ? extendVars(this.s.templar, vars, loopVars) : vars;
          if (inc.when !== undefined && !(await this.s.templar.evaluate(inc.when, iv, inc.loc))) continue;
          included = true;
          const target = String(await this.s.templar.renderValue(inc.target, iv, inc.loc));
          const tf = inc.tasksFrom === undefined ? undefined : await this.s.templar.renderValue(inc.tasksFrom, iv, inc.loc);
          const tasksFrom = tf === undefined || tf === null || tf === OMIT ? undefined : String(tf);
          const params = stripOmit(await this.s.templar.renderValue(inc.params ?? {}, iv, inc.loc)) as Vars;
          const key = JSON.stringify([target, tasksFrom ?? null, params, loopVars ?? null]);
          let g = groups.get(key);
          if (!g) {
            g = { target, tasksFrom, hosts: [], params, loopVars };
            groups.set(key, g);
          }
          g.hosts.push(h);
        }
        if (!included) this.recordResult(run, h, name, { status: 'skipped', result: { skipped: true } }, 0);
      } catch (e) {
        // a target that cannot be rendered fails this host, as a task would
        if (!(e instanceof TsplayError) || e instanceof InterruptedError) throw e;
        const out = this.errorOutcome(e);
        const ignored = await this.keywordBool('ignore_errors', inc.ignoreErrors ?? scope.ignoreErrors, vars, inc.loc, false);
        if (!ignored) h.failed = true;
        this.recordResult(run, h, name, { ...out, ignored }, 0, { msg: String(out.result.msg) });
      }
    }
    for (const g of groups.values()) {
      const target = g.target;
      // the loop variables are seen by every included task
      const extra = g.loopVars ? [g.loopVars] : [];
      let loaded: { items: TaskItem[]; scope: Scope };
      try {
        if (inc.kind === 'include_tasks') {
          const items = await this.s.loader.loadTasksFile(target, inc.dir, scope.role ?? inc.role, inc.parentTags, inc.loc);
          loaded = { items, scope: { ...scope, vars: [...scope.vars, g.params, ...extra] } };
        } else {
          const r = await this.s.loader.loadRole(target, inc.dir, g.params, g.tasksFrom, inc.parentTags, inc.loc, run.seenRoles);
          run.handlers.push(...r.handlers);
          loaded = { items: r.tasks, scope: { ...scope, role: r.role, vars: [...scope.vars, ...extra] } };
        }
        nestInclude(inc, loaded.items);
      } catch (e) {
        if (!(e instanceof TsplayError) || e instanceof InterruptedError) throw e;
        // a missing or invalid included file fails the hosts that include it, as a task would
        const out = this.errorOutcome(e);
        const ie = inc.ignoreErrors ?? scope.ignoreErrors;
        for (const h of g.hosts) {
          const ignored = await this.keywordBool('ignore_errors', ie, () => this.taskVars(run, h, scope, inc), inc.loc, false);
          if (!ignored) h.failed = true;
          this.recordResult(run, h, inc.name ?? `${inc.kind}: ${target}`, { ...out, ignored }, 0, { msg: String(out.result.msg) });
        }
        continue;
      }
      for (const h of g.hosts) this.s.emit({ type: 'include', host: h.name, file: target });
      await this.runItems(run, loaded.items, g.hosts, loaded.scope);
    }
  }

  private async runMeta(run: PlayRun, meta: MetaDef, hosts: HostState[], scope: Scope): Promise<void> {
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

  // ---------------------------------------------------------------- handlers

  /**
   * Every handler a host was notified for runs once, in definition order: all the handlers that
   * `listen` to one topic, not just the first. A notification is consumed after the whole flush
   * (consuming it when the first listener ran hid it from the others). Handler names are
   * templated with the play's shared variables, as Ansible does, so `name: "{{ h }}"` matches
   * a `notify: "{{ h }}"`.
   */
  private async metaApplies(run: PlayRun, meta: MetaDef, h: HostState, scope: Scope): Promise<boolean> {
    if (meta.when === undefined) return true;
    return this.s.templar.evaluate(meta.when, await this.taskVars(run, h, scope, meta), meta.loc);
  }

  private async flushHandlers(run: PlayRun, scope: Scope, only?: Set<HostState>): Promise<void> {
    const consumed = new Map<HostState, Set<string>>();
    for (const handler of run.handlers) {
      await this.renderTaskName(run, handler, scope);
      const name = renderedNames.get(handler) ?? handler.name;
      const names = new Set<string>([...(name ? [name] : []), ...(handler.listen ?? [])]);
      if (handler.role && name) names.add(`${handler.role.name} : ${name}`);
      const hosts = run.hosts.filter((h) => h.active && (!only || only.has(h)) && [...names].some((n) => h.notified.has(n)));
      if (!hosts.length) continue;
      await this.runTaskOnHosts(run, handler, hosts, this.childScope({ ...scope, role: handler.role }, handler), true);
      for (const h of hosts) {
        const set = consumed.get(h) ?? new Set<string>();
        for (const n of names) if (h.notified.has(n)) set.add(n);
        consumed.set(h, set);
      }
    }
    for (const [h, names] of consumed) for (const n of names) h.notified.delete(n);
  }

  // ---------------------------------------------------------------- tasks

  /**
   * As Ansible: a templated task name is rendered with what every host shares (play vars, role
   * defaults/vars, extra vars); one that needs host variables keeps its text.
   */
  private async renderTaskName(run: PlayRun, task: TaskDef, scope: Scope): Promise<void> {
    if (!task.name || !hasTemplate(task.name) || renderedNames.has(task)) return;
    const role = task.role ?? scope.role;
    const shared = mergeLayers([role?.defaults, run.play.vars, role?.vars, role?.params, ...scope.vars, this.o.extraVars]);
    try {
      renderedNames.set(task, await this.s.templar.renderString(task.name, lazyVars(this.s.templar, shared, new Set()), task.loc));
    } catch {
      renderedNames.set(task, task.name);
    }
  }

  private async runTaskOnHosts(run: PlayRun, task: TaskDef, hosts: HostState[], scope: Scope, handler: boolean): Promise<void> {
    await this.renderTaskName(run, task, scope);
    this.s.emit({
      type: 'task_start',
      name: taskDisplayName(task),
      role: task.role?.name,
      handler,
      file: task.loc.file,
      line: task.loc.line,
      hosts: hosts.length,
    });
    // run_once is decided once for the batch, with the first host's variables (as Ansible does)
    const runOnce = hosts.length > 0 && (await this.keywordBool('run_once', task.runOnce ?? scope.runOnce, () => this.taskVars(run, hosts[0], scope, task), task.loc, false));
    const targets = runOnce ? hosts.slice(0, 1) : hosts;
    const limit = pLimit(Math.max(1, this.o.forks));
    const outcomes = await Promise.all(targets.map((h) => limit(() => this.runTaskOnHost(run, task, h, scope))));
    if (runOnce && outcomes[0]) {
      // run_once: the result counts for every host of the batch (register included)
      for (const h of hosts.slice(1)) {
        if (task.register && outcomes[0].result) h.runtime[task.register] = outcomes[0].result;
      }
    }
    const failedNow = targets.filter((h, i) => outcomes[i]?.status === 'failed' && !outcomes[i]?.ignored);
    const fatal = failedNow.length > 0 && (await this.keywordBool('any_errors_fatal', task.anyErrorsFatal ?? scope.anyErrorsFatal, () => this.taskVars(run, failedNow[0], scope, task), task.loc, false));
    if (fatal && !scope.inRescuable) {
      for (const h of run.hosts) if (h.active) h.failed = true;
      run.aborted = run.failedAbort = true;
    }
    const mfp = run.play.maxFailPercentage;
    if (mfp !== undefined) {
      const failed = run.hosts.filter((h) => h.failed || h.unreachable).length;
      if ((failed * 100) / run.hosts.length > mfp) {
        this.s.emit({ type: 'warning', message: `max_fail_percentage ${mfp}% exceeded (${failed}/${run.hosts.length} hosts failed): stopping the play` });
        run.aborted = run.failedAbort = true;
      }
    }
  }

  private recordResult(run: PlayRun, h: HostState, taskName: string, out: TaskOutcome, ms: number, extra: Partial<{ item: string; diff: DiffText[]; msg: string; delegated_to: string; show: boolean }> = {}): void {
    void run;
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
    this.s.emit({
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
  private async runTaskOnHost(run: PlayRun, task: TaskDef, h: HostState, scope: Scope): Promise<TaskOutcome> {
    const t0 = Date.now();
    const name = taskDisplayName(task);
    let vars: Vars;
    const noLogOf = async (v: Vars) => {
      const raw = task.noLog ?? scope.noLog;
      return this.keywordBool('no_log', raw, v, task.loc, false);
    };
    let noLog = false;
    const skipped = (): TaskOutcome => {
      const out: TaskOutcome = { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' } };
      if (task.register) h.runtime[task.register] = out.result;
      this.recordResult(run, h, name, out, Date.now() - t0);
      return out;
    };
    try {
      vars = await this.taskVars(run, h, scope, task);
      noLog = await noLogOf(vars);
      const conds = [...scope.conditions];
      let loop: unknown[] | undefined;
      try {
        loop = task.loop !== undefined ? await this.loopItems(task, vars) : undefined;
      } catch (e) {
        // as Ansible: a loop that cannot be rendered is an error only if the task would run;
        // `when: x is defined` guarding `loop: "{{ x }}"` skips (a `when` needing item fails)
        if (!(e instanceof TemplateError)) throw e;
        const guard = [...conds, ...(task.when !== undefined ? [task.when] : [])];
        if (guard.length && !(await this.allHold(guard, vars, task).catch(() => true))) return skipped();
        throw e;
      }
      if (loop === undefined) {
        if (task.when !== undefined) conds.push(task.when);
        if (!(await this.allHold(conds, vars, task))) return skipped();
        const out = await this.runOne(run, task, h, scope, vars, noLog);
        return this.finish(run, task, h, scope, out, t0, noLog);
      }
      // loop: parent conditions once, task `when` per item
      if (!(await this.allHold(conds, vars, task))) return skipped();
      const loopVar = task.loopControl?.loopVar ?? 'item';
      const results: Record<string, unknown>[] = [];
      let anyChanged = false;
      let anyFailed = false;
      let allSkipped = loop.length > 0;
      for (let i = 0; i < loop.length; i++) {
        this.checkInterrupt();
        const item = loop[i];
        const extra: Vars = { [loopVar]: item, ansible_loop_var: loopVar, ansible_loop: { index: i + 1, index0: i, first: i === 0, last: i === loop.length - 1, length: loop.length } };
        if (task.loopControl?.indexVar) extra[task.loopControl.indexVar] = i;
        const iv = extendVars(this.s.templar, vars, extra);
        const label = task.loopControl?.label !== undefined ? String(await this.s.templar.renderValue(task.loopControl.label, iv, task.loc)) : typeof item === 'object' ? JSON.stringify(item) : String(item);
        const ti = Date.now();
        let out: TaskOutcome;
        if (task.when !== undefined && !(await this.s.templar.evaluate(task.when, iv, task.loc))) {
          out = { status: 'skipped', result: { changed: false, skipped: true, skip_reason: 'Conditional result was False' } };
        } else {
          out = await this.runOne(run, task, h, scope, iv, noLog);
          allSkipped = false;
        }
        if (out.status === 'unreachable') return this.finish(run, task, h, scope, out, t0, noLog);
        // facts set by this item (set_fact, include_vars) are seen by the next one
        if (out.result.ansible_facts) vars = await this.taskVars(run, h, scope, task);
        const r = { ...out.result, [loopVar]: item, ansible_loop_var: loopVar };
        results.push(r);
        if (out.status === 'changed') anyChanged = true;
        if (out.status === 'failed') anyFailed = true;
        this.emitItem(h, name, out, noLog ? MASK : label, Date.now() - ti, noLog);
        if (task.loopControl?.pause) await this.sleep(task.loopControl.pause * 1000);
      }
      const status: HostStatus = anyFailed ? 'failed' : allSkipped ? 'skipped' : anyChanged ? 'changed' : 'ok';
      const result: Record<string, unknown> = { changed: anyChanged, failed: anyFailed, skipped: allSkipped, results, msg: anyFailed ? 'One or more items failed' : 'All items completed' };
      return this.finish(run, task, h, scope, { status, result }, t0, noLog, true);
    } catch (e) {
      if (e instanceof InterruptedError) throw e;
      const out = this.errorOutcome(e);
      return this.finish(run, task, h, scope, out, t0, noLog);
    }
  }

  private async allHold(conds: unknown[], vars: Vars, task: { loc: SourceLocation }): Promise<boolean> {
    for (const c of conds) if (!(await this.s.templar.evaluate(c, vars, task.loc))) return false;
    return true;
  }

  private errorOutcome(e: unknown): TaskOutcome {
    const out = this.errorOutcomeRaw(e);
    if (typeof out.result.msg === 'string') out.result.msg = secrets.maskFragments(out.result.msg);
    return out;
  }

  private errorOutcomeRaw(e: unknown): TaskOutcome {
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

  private emitItem(h: HostState, name: string, out: TaskOutcome, label: string, ms: number, noLog: boolean): void {
    const result = noLog ? { censored: NO_LOG_MSG } : out.result;
    this.s.emit({
      type: 'host_result',
      host: h.name,
      task: name,
      status: out.status,
      item: label,
      result: secrets.maskValue(result),
      msg: noLog ? undefined : typeof out.result.msg === 'string' ? secrets.mask(out.result.msg) : undefined,
      diff: noLog ? undefined : (out.result.__diff as DiffText[] | undefined)?.map((d) => secrets.maskValue(d)),
      duration_ms: ms,
    });
  }

  /** Record the final outcome: register, notify, failure handling, event. */
  private async finish(run: PlayRun, task: TaskDef, h: HostState, scope: Scope, out: TaskOutcome, t0: number, noLog: boolean, loopDone = false): Promise<TaskOutcome> {
    const name = taskDisplayName(task);
    const diffs = out.result.__diff as DiffText[] | undefined;
    const changes = out.result.__changes as string[] | undefined;
    delete out.result.__diff;
    delete out.result.__changes;
    if (out.result.results) for (const r of out.result.results as Record<string, unknown>[]) {
      delete r.__diff;
      delete r.__changes;
    }
    // an unreachable result is registered too: with ignore_unreachable the play goes on and
    // can test it (`r is unreachable`); without, the host leaves the play anyway
    if (task.register) h.runtime[task.register] = out.result;
    if (out.status === 'failed') {
      const vars = () => this.taskVars(run, h, scope, task);
      const ie = task.ignoreErrors ?? scope.ignoreErrors;
      const ignore = await this.keywordBool('ignore_errors', ie, vars, task.loc, false);
      if (ignore) out.ignored = true;
      else h.failed = true;
    } else if (out.status === 'unreachable') {
      const iu = task.ignoreUnreachable ?? scope.ignoreUnreachable;
      if (!(await this.keywordBool('ignore_unreachable', iu, () => this.taskVars(run, h, scope, task), task.loc, false))) h.unreachable = true;
    }
    if (out.status === 'changed' && task.notify?.length) {
      for (const n of task.notify) {
        const vars = await this.taskVars(run, h, scope, task);
        h.notified.add(String(await this.s.templar.renderValue(n, vars, task.loc)));
      }
    }
    const msg = noLog ? undefined : typeof out.result.msg === 'string' ? out.result.msg : undefined;
    const shown: Record<string, unknown> = noLog ? { censored: NO_LOG_MSG } : out.result;
    const show = task.module === 'debug' && !noLog;
    const extra: Parameters<PlaybookExecutor['recordResult']>[5] = { msg: loopDone && out.status !== 'failed' ? undefined : msg, show };
    if (!noLog && diffs?.length && !loopDone) extra.diff = diffs;
    if (!noLog && changes?.length && !loopDone && (this.o.diff || this.o.verbosity > 0 || this.o.check) && extra.msg === undefined) {
      const check = await this.keywordBool('check_mode', task.checkMode ?? scope.checkMode, () => this.taskVars(run, h, scope, task), task.loc, this.o.check);
      extra.msg = `${check ? 'would: ' : ''}${changes.join('; ')}`;
    }
    if (task.delegateTo ?? scope.delegateTo) extra.delegated_to = String(out.result.__delegated_to ?? task.delegateTo ?? scope.delegateTo);
    delete out.result.__delegated_to;
    this.recordResult(run, h, name, { ...out, result: shown }, Date.now() - t0, extra);
    return out;
  }

  /**
   * A boolean keyword's value for one host. A template is rendered with the task's variables
   * (per host, as Ansible's post_validate does) and read with the one boolean rule; an absent
   * keyword or `omit` gives `dflt`. Anything else is an error at the task, never a silent false:
   * a `check_mode: "{{ dry }}"` read as false would run the task for real.
   */
  private async keywordBool(keyword: string, raw: boolean | string | undefined, vars: Vars | (() => Promise<Vars>), loc: SourceLocation | undefined, dflt: boolean): Promise<boolean> {
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

  private async loopItems(task: Pick<TaskDef, 'loop' | 'loc'>, vars: Vars): Promise<unknown[]> {
    const v = await this.s.templar.renderValue(task.loop, vars, task.loc);
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) throw new TemplateError(`loop must be a list, got ${typeof v}`, task.loc);
    return v;
  }

  private sleep(ms: number): Promise<void> {
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

  /** One execution of a task (one loop item): retries, plan/apply, changed_when/failed_when/until. */
  private async runOne(run: PlayRun, task: TaskDef, h: HostState, scope: Scope, vars: Vars, noLog: boolean): Promise<TaskOutcome> {
    const name0 = hasTemplate(task.module) ? stripFqcn(String(await this.s.templar.renderValue(task.module, vars, task.loc))) : task.module;
    const mod = this.s.modules.get(name0);
    if (!mod) throw new ValidationError(`unknown module '${name0}'${name0 !== task.module ? ` (from '${task.module}')` : ''}`, task.loc);
    const hasUntil = task.until !== undefined;
    const retries = hasUntil ? Number(task.retries !== undefined ? await this.s.templar.renderValue(task.retries, vars) : 3) : 0;
    const delay = Number(task.delay !== undefined ? await this.s.templar.renderValue(task.delay, vars) : 5);
    const name = taskDisplayName(task);
    let attempt = 0;
    for (;;) {
      this.checkInterrupt();
      let out: TaskOutcome;
      try {
        out = await this.attempt(run, task, mod, h, scope, vars);
      } catch (e) {
        if (e instanceof InterruptedError) throw e;
        out = this.errorOutcome(e);
      }
      if (out.status === 'unreachable') return out;
      // changed_when / failed_when see the result as `register` would
      const rv: Vars = extendVars(this.s.templar, vars, task.register ? { ...out.result, [task.register]: out.result } : out.result);
      // a condition that cannot be evaluated fails the task but keeps the module's result
      // (stdout, rc...), with the error under <keyword>_result, as Ansible does
      const condition = async (keyword: string, c: unknown): Promise<boolean | undefined> => {
        try {
          return await this.s.templar.evaluate(c, rv, task.loc);
        } catch (e) {
          if (e instanceof InterruptedError) throw e;
          out.status = 'failed';
          out.result.failed = true;
          out.result[`${keyword}_result`] = out.result.msg = e instanceof Error ? e.message : String(e);
          return undefined;
        }
      };
      if (task.changedWhen !== undefined && out.status !== 'failed') {
        const ch = await condition('changed_when', task.changedWhen);
        if (ch !== undefined) {
          out.result.changed = ch;
          out.status = ch ? 'changed' : 'ok';
        }
      }
      if (task.failedWhen !== undefined && !(out.status === 'failed' && out.result.__hardFail)) {
        const fw = await condition('failed_when', task.failedWhen);
        if (fw !== undefined) {
          out.result.failed = out.result.failed_when_result = fw;
          if (fw) {
            out.status = 'failed';
            if (!out.result.msg) out.result.msg = 'failed_when condition was true';
          } else if (out.status === 'failed') out.status = out.result.changed ? 'changed' : 'ok';
        }
      }
      delete out.result.__hardFail;
      // every result of a task that ran says whether it failed (`'failed' in r` holds in Ansible)
      if (out.result.failed === undefined) out.result.failed = out.status === 'failed';
      if (!hasUntil) return out;
      const uv: Vars = extendVars(this.s.templar, vars, task.register ? { ...out.result, [task.register]: out.result } : out.result);
      let done = false;
      try {
        done = await this.s.templar.evaluate(task.until, uv, task.loc);
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
      this.s.emit({ type: 'retry', host: h.name, task: name, attempt, retries, msg: noLog ? undefined : (out.result.msg as string | undefined) });
      await this.sleep(delay * 1000);
    }
  }

  private async attempt(run: PlayRun, task: TaskDef, mod: TsplayModule, h: HostState, scope: Scope, vars: Vars): Promise<TaskOutcome> {
    // args: templated except the module's raw (condition) args; `omit` removes a key
    const raw = new Set(mod.rawArgs ?? []);
    const args: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(task.args)) {
      args[k] = raw.has(k) ? v : await this.s.templar.renderValue(v, vars, task.loc);
    }
    const cleaned = stripOmit(args) as Record<string, unknown>;
    const { args: valid, problems } = this.s.modules.validate(mod.name, cleaned);
    if (problems.length) {
      throw new ValidationError(`${mod.name}: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`, task.loc);
    }
    const check = await this.keywordBool('check_mode', task.checkMode ?? scope.checkMode, vars, task.loc, this.o.check);
    const diff = await this.keywordBool('diff', task.diff ?? scope.diff, vars, task.loc, this.o.diff);

    // delegate_to: run on another host with this host's variables
    const delegateRaw = task.delegateTo ?? scope.delegateTo;
    let target = h.name;
    let connVars = vars;
    if (delegateRaw !== undefined) {
      target = String(await this.s.templar.renderValue(delegateRaw, vars, task.loc));
      const dh = this.s.inventory.hasHost(target) ? await this.inventoryVars(target) : {};
      connVars = { ...(await this.s.templar.renderValue(dh, vars)) as Vars };
    } else {
      // connection variables may be templated ({{ inventory_dir }}/key)
      connVars = vars;
    }
    const env = await this.environment(scope, vars);
    const remote = mod.local ? undefined : await this.remoteFor(target, connVars, scope, task);
    const wrapped = remote ? interruptible(withEnv(remote, env), this.o.signal) : undefined;
    const ctxBase = {
      host: h.name,
      vars,
      check,
      diff,
      render: (t: string, extra?: Vars, source?: string) => this.s.templar.renderString(t, extra ? extendVars(this.s.templar, vars, extra, false) : vars, source ? { file: source } : task.loc),
      evaluate: (c: unknown) => this.s.templar.evaluate(c, vars, task.loc),
      evaluateExpression: (e: string) => this.s.templar.evaluateExpression(e, vars, task.loc),
      readVarsFile: (p: string) => this.s.readVarsFile(p),
      findFile: (n: string, kind: 'templates' | 'files' | 'vars') => findFile(n, kind, task, run.play),
      log: (level: 1 | 2 | 3, message: string) => this.s.emit({ type: 'verbose', level, host: h.name, message: secrets.mask(message) }),
      signal: this.o.signal,
      now: () => Date.now(),
    };
    const overlay = check ? this.overlayFor(target) : undefined;
    const probe = wrapped ? probeOnly(wrapped) : noRemote(mod.name);
    const probeCtx: ModuleContext = { ...ctxBase, remote: overlay && wrapped ? overlay.wrap(probe) : probe };
    const plan: Plan = await mod.plan(valid as never, probeCtx);
    const result: Record<string, unknown> = { changed: false, ...(plan.result ?? {}) };
    if (plan.msg !== undefined) result.msg = plan.msg;
    if (plan.facts) {
      if (mod.name === 'setup') Object.assign(h.facts, plan.facts);
      else Object.assign(h.runtime, plan.facts);
      if (mod.name !== 'setup') result.ansible_facts = plan.facts;
    }
    if (target !== h.name) result.__delegated_to = target;
    if (plan.skipped) {
      return { status: 'skipped', result: { ...result, skipped: true } };
    }
    if (plan.changes.length === 0) return { status: 'ok', result };
    result.changed = true;
    result.__changes = plan.changes.map(summaryOf);
    if (diff) result.__diff = plan.changes.map(diffOf).filter((d): d is DiffText => d !== undefined);
    if (check) {
      // remember only what the real run would write: a task forcing check_mode is a probe
      const forced = (task.checkMode ?? scope.checkMode) !== undefined;
      if (this.o.check && !forced) overlay?.record(plan.changes);
      return { status: 'changed', result };
    }
    if (!wrapped) throw new TsplayError(`${mod.name}: a controller-side module planned changes on the host`);
    const applyCtx: ModuleContext<Remote> = { ...ctxBase, remote: wrapped };
    const applied = mod.apply ? await mod.apply(valid as never, plan, applyCtx) : await applyChanges(plan, applyCtx);
    if (applied) Object.assign(result, applied);
    for (const k of ['stdout', 'stderr'] as const) {
      if (typeof result[k] === 'string' && result[`${k}_lines`] === undefined) result[`${k}_lines`] = (result[k] as string).split('\n').filter((l, i, a) => !(i === a.length - 1 && l === ''));
    }
    return { status: result.changed === false ? 'ok' : 'changed', result };
  }

  private async environment(scope: Scope, vars: Vars): Promise<Record<string, string> | undefined> {
    if (!scope.environment.length) return undefined;
    const env: Record<string, string> = {};
    for (const e of scope.environment) {
      const v = await this.s.templar.renderValue(e, vars);
      if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (x !== OMIT) env[k] = String(x);
    }
    return env;
  }
}

function summaryOf(c: Change): string {
  return c.kind === 'exec' ? c.summary : c.summary ?? `write ${c.path}`;
}

function diffOf(c: Change): DiffText | undefined {
  if (c.kind === 'write') return { path: c.path, before: c.before ?? '', after: c.after };
  return c.diff;
}

function withEnv(remote: Remote, env: Record<string, string> | undefined): Remote {
  if (!env) return remote;
  const merge = (o?: ExecOptions): ExecOptions => ({ ...(o ?? {}), env: { ...env, ...(o?.env ?? {}) } });
  return {
    query: (cmd, o) => remote.query(cmd, merge(o)),
    exec: (cmd, o) => remote.exec(cmd, merge(o)),
    readFile: (p) => remote.readFile(p),
    stat: (p, o) => remote.stat(p, o),
    writeFile: (p, d, o) => remote.writeFile(p, d, o),
  };
}

function noRemote(module: string): Remote {
  const fail = () => {
    throw new TsplayError(`${module} runs on the controller and has no host connection`);
  };
  return { query: fail, exec: fail, readFile: fail, stat: fail, writeFile: fail } as unknown as Remote;
}

async function exists(p: string): Promise<boolean> {
  try {
    await (await import('fs')).promises.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Controller-side lookup of a role/playbook file, Ansible's order. */
async function findFile(name: string, kind: 'templates' | 'files' | 'vars', task: TaskDef, play: PlayDef): Promise<string> {
  if (path.isAbsolute(name)) {
    if (await exists(name)) return name;
    throw new ValidationError(`${kind.slice(0, -1)} file not found: ${name}`, task.loc);
  }
  const candidates: string[] = [];
  if (task.role) candidates.push(path.join(task.role.path, kind, name), path.join(task.role.path, name));
  candidates.push(path.join(task.dir, kind, name), path.join(task.dir, name), path.join(play.dir, kind, name), path.join(play.dir, name));
  for (const c of candidates) if (await exists(c)) return c;
  throw new ValidationError(`${kind.slice(0, -1)} file '${name}' not found`, task.loc, `searched: ${[...new Set(candidates)].join(', ')}`);
}

export { emptyCounters };
