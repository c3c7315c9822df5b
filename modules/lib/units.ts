/**
 * What the service and systemd modules share: one `systemctl show` survey of a unit, the steps
 * from its state to the wanted one (each carrying its op: apply decides by that, never by a
 * summary or command text), and the apply loop that plans again after a daemon-reload.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import { lastLines, ModuleFailure, raw, sh, type Change, type ModuleContext, type Plan, type Probe, type Remote } from '../../runner/module-api';

/** How systemctl is called: the manager (scope) and the flags of the systemd module. */
export interface Ctl {
  scope: 'system' | 'user' | 'global';
  /** --no-block on start/stop/restart/reload: queue the job, do not wait for it */
  noBlock: boolean;
  /** --force on enable/disable/mask: replace conflicting symlinks */
  force: boolean;
}

export const SYSTEM: Ctl = { scope: 'system', noBlock: false, force: false };

/** `systemctl` with the scope; a user manager is reached through the user's runtime dir, as Ansible sets it when unset. */
export function systemctl(ctl: Ctl): string {
  if (ctl.scope === 'user') return 'XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}" systemctl --user';
  return ctl.scope === 'global' ? 'systemctl --global' : 'systemctl';
}

export interface ServiceArgs {
  name: string;
  state?: 'started' | 'stopped' | 'restarted' | 'reloaded';
  enabled?: boolean;
  masked?: boolean;
  daemon_reload: boolean;
}

const PROPS = ['Id', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'NeedDaemonReload', 'CanReload', 'MainPID', 'FragmentPath', 'Description'];

/** Unit file states that count as "enabled" for `enabled: true`. */
const ENABLED = new Set(['enabled', 'enabled-runtime', 'alias', 'indirect', 'linked', 'linked-runtime']);
/** States that have no [Install] section: enabling is meaningless, disabling impossible. */
const STATIC = new Set(['static', 'generated', 'transient']);
const RUNNING = new Set(['active', 'reloading', 'refreshing']);

type Status = Record<string, string>;

export function parseShow(stdout: string): Status {
  const s: Status = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) s[line.slice(0, i)] = line.slice(i + 1);
  }
  return s;
}

export async function showUnit(remote: Probe, name: string, ctl: Ctl = SYSTEM): Promise<Status> {
  // the global scope has no running manager: only the unit file's state can be read
  const r = await remote.query(
    ctl.scope === 'global'
      ? sh`st=$(systemctl --global is-enabled -- ${name} 2>/dev/null); printf 'LoadState=%s\\nUnitFileState=%s\\nActiveState=inactive\\n' "$([ -n "$st" ] && echo loaded || echo not-found)" "$st"`
      : sh`${raw(systemctl(ctl))} show -p ${PROPS.join(',')} -- ${name}`,
  );
  if (r.rc === 127) throw new ModuleFailure('systemctl not found: the service module needs systemd on the host', { rc: r.rc, stderr: r.stderr });
  if (r.rc !== 0) {
    throw new ModuleFailure(`cannot query unit ${name}: ${lastLines(r.stderr || r.stdout, 3)}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
  }
  return parseShow(r.stdout);
}

function isEnabled(s: Status): boolean {
  return ENABLED.has(s.UnitFileState) || STATIC.has(s.UnitFileState);
}

export function resultOf(args: ServiceArgs, s: Status): Record<string, unknown> {
  return {
    name: args.name,
    state: RUNNING.has(s.ActiveState) ? 'started' : 'stopped',
    enabled: isEnabled(s),
    status: s,
  };
}

/** What a planned step does; apply decides by this, never by a change's summary or command. */
export type ServiceOp = 'unmask' | 'daemon-reload' | 'daemon-reexec' | 'enable' | 'disable' | 'start' | 'stop' | 'restart' | 'reload' | 'mask';

/** An exec change of this module: the step it does travels with it from plan to apply. */
export type ServiceChange = Extract<Change, { kind: 'exec' }> & { op: ServiceOp };

/** Steps after which the unit must be running: their failure shows the unit's journal. */
export const START_LIKE = new Set<ServiceOp>(['start', 'restart', 'reload']);

/** The command of one step: --no-block where systemd queues a job, --force where it writes symlinks. */
export function opCommand(op: ServiceOp, name: string, ctl: Ctl): string {
  const flags = [...(ctl.noBlock && ['start', 'stop', 'restart', 'reload'].includes(op) ? ['--no-block'] : []), ...(ctl.force && ['enable', 'disable', 'mask'].includes(op) ? ['--force'] : [])];
  if (op === 'daemon-reload' || op === 'daemon-reexec') return `${systemctl(ctl)} ${op}`;
  return sh`${raw(systemctl(ctl))} ${[...flags, op, '--', name]}`;
}

export interface Planned {
  changes: ServiceChange[];
  notes: string[];
}

/** The changes that take the unit from status `s` to what `args` asks for, in a safe order. */
export function changesFor(args: ServiceArgs, s: Status, withReload: boolean, ctl: Ctl = SYSTEM): Planned {
  const { name } = args;
  const changes: ServiceChange[] = [];
  const notes: string[] = [];
  const masked = s.UnitFileState === 'masked' || s.LoadState === 'masked';
  const running = RUNNING.has(s.ActiveState);
  const exec = (op: ServiceOp, summary: string, before?: string, after?: string): void => {
    const command = opCommand(op, name, ctl);
    changes.push({ kind: 'exec', op, summary, command, diff: before !== undefined ? { path: `unit ${name}`, before: `${before}\n`, after: `${after}\n` } : undefined });
  };

  if (args.masked === true && (args.state === 'started' || args.state === 'restarted' || args.state === 'reloaded')) {
    throw new ModuleFailure(`unit ${name}: masked: true contradicts state: ${args.state}`);
  }
  if (args.masked === false && masked) exec('unmask', `unmask ${name}`, 'masked: yes', 'masked: no');
  if (withReload) exec('daemon-reload', 'daemon-reload (unit files changed on disk)');

  if (args.enabled !== undefined && !(args.masked === true)) {
    const state = s.UnitFileState || '(none)';
    if (args.enabled && !isEnabled(s)) exec('enable', `enable ${name}`, `enabled: ${state}`, 'enabled: enabled');
    if (!args.enabled && STATIC.has(s.UnitFileState)) {
      throw new ModuleFailure(`unit ${name} is ${s.UnitFileState}: it cannot be disabled`, { status: s });
    }
    if (!args.enabled && ENABLED.has(s.UnitFileState)) exec('disable', `disable ${name}`, `enabled: ${state}`, 'enabled: disabled');
  }

  switch (args.state) {
    case 'started':
      if (!running) exec('start', `start ${name}`, `state: ${s.ActiveState}`, 'state: active');
      break;
    case 'stopped':
      // "deactivating" is still stopping: `stop` waits for it, which is what the task wants
      if (running || s.ActiveState === 'activating' || s.ActiveState === 'deactivating') {
        exec('stop', `stop ${name}`, `state: ${s.ActiveState}`, 'state: inactive');
      }
      break;
    case 'restarted':
      exec('restart', `restart ${name}`);
      break;
    case 'reloaded':
      // Ansible's meaning: a unit that is not running is started, not reloaded
      if (!running) {
        exec('start', `start ${name} (was not running)`, `state: ${s.ActiveState}`, 'state: active');
      } else if (s.CanReload === 'no') {
        throw new ModuleFailure(`unit ${name} cannot reload (CanReload=no)`, { status: s });
      } else {
        exec('reload', `reload ${name}`);
      }
      break;
    default:
      break;
  }

  if (args.masked === true && !masked) exec('mask', `mask ${name}`, 'masked: no', 'masked: yes');
  if (args.masked === true && args.enabled === true) notes.push('enabled: true is ignored for a masked unit');
  return { changes, notes };
}

/** The plan's changes as this module made them; a change without its op is a bug, not a guess. */
export function serviceChanges(plan: Plan): ServiceChange[] {
  return plan.changes.map((c) => {
    if (c.kind !== 'exec' || typeof (c as Partial<ServiceChange>).op !== 'string') {
      throw new Error(`service: a planned change carries no op (${c.summary ?? c.kind}); apply takes only plans made by service.plan`);
    }
    return c as ServiceChange;
  });
}

/**
 * The journal of the unit's latest run only: `journalctl -u` alone mixes in earlier starts and
 * stops (a restarted unit's old errors would read as the cause of this failure). The run is
 * found by its invocation id (systemd's own lines carry INVOCATION_ID, the service's output
 * _SYSTEMD_INVOCATION_ID); without one (no run yet, old systemd) the unit's last lines.
 */
export function journalCommand(name: string): string {
  return [
    sh`id=$(systemctl show -p InvocationID --value -- ${name} 2>/dev/null)`,
    `out=; if [ -n "$id" ]; then out=$(journalctl -q --no-pager -n 20 _SYSTEMD_INVOCATION_ID="$id" + INVOCATION_ID="$id" 2>/dev/null); fi`,
    sh`if [ -n "$out" ]; then printf '%s\\n' "$out"; else journalctl -u ${name} -n 20 --no-pager; fi`,
  ].join('\n');
}

export async function journalTail(remote: Probe, name: string): Promise<string> {
  const j = await remote.query(journalCommand(name));
  return (j.stdout || j.stderr).trimEnd();
}

export async function run(ctx: ModuleContext<Remote>, c: ServiceChange, name: string): Promise<void> {
  const r = await ctx.remote.exec(c.command, c.opts);
  if (r.rc === 0) return;
  const base = { rc: r.rc, stdout: r.stdout, stderr: r.stderr, cmd: c.command };
  if (START_LIKE.has(c.op)) {
    const journal = await journalTail(ctx.remote, name);
    throw new ModuleFailure(`${c.summary} failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}\n${journal}`, { ...base, journal });
  }
  throw new ModuleFailure(`${c.summary} failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}`, base);
}

/**
 * The plan for one unit. `reload`: "needed" runs daemon-reload only when systemd reports changed
 * unit files or the unit is not loaded yet (the service module); "always" runs it on every real
 * run and never in a dry run, as Ansible's systemd module does.
 */
export async function planUnit(args: ServiceArgs, ctx: ModuleContext<Probe>, ctl: Ctl, reloadWhen: 'needed' | 'always'): Promise<Plan> {
  const s = await showUnit(ctx.remote, args.name, ctl);
  const notes: string[] = [];
  let status = s;
  let reload = args.daemon_reload && (reloadWhen === 'always' ? !ctx.check : s.NeedDaemonReload === 'yes');
  if (s.LoadState === 'not-found') {
    if (!ctx.check && !args.daemon_reload) {
      throw new ModuleFailure(`unit ${args.name} does not exist`, { status: s });
    }
    if (args.daemon_reload && !ctx.check) reload = true;
    notes.push(`unit ${args.name} does not exist now; assuming ${ctx.check ? 'an earlier task creates it' : 'daemon-reload finds it'}`);
    status = { ...s, ActiveState: 'inactive', UnitFileState: 'disabled' };
  } else if (s.LoadState === 'error' || s.LoadState === 'bad-setting') {
    throw new ModuleFailure(`unit ${args.name} failed to load (LoadState=${s.LoadState}); see systemctl status ${args.name}`, { status: s });
  }
  const p = changesFor(args, status, reload, ctl);
  notes.push(...p.notes);
  return { changes: p.changes, result: resultOf(args, s), msg: notes.length ? notes.join('; ') : undefined };
}

/** Steps that only make systemd read its configuration again: with `reloadCounts` false they alone are no change (Ansible's systemd). */
const MANAGER_OPS = new Set<ServiceOp>(['daemon-reload', 'daemon-reexec']);

/** Run the planned steps; after a daemon-reload the rest is planned again from what systemd now says. */
export async function applyUnit(args: ServiceArgs, plan: Plan, ctx: ModuleContext<Remote>, ctl: Ctl, reloadCounts: boolean): Promise<Record<string, unknown>> {
  const done: ServiceChange[] = [];
  let todo = serviceChanges(plan);
  while (todo.length) {
    const c = todo.shift()!;
    await run(ctx, c, args.name);
    done.push(c);
    if (c.op === 'daemon-reload' && args.name) {
      const s = await showUnit(ctx.remote, args.name, ctl);
      if (s.LoadState === 'not-found') throw new ModuleFailure(`unit ${args.name} does not exist (even after daemon-reload)`, { status: s });
      todo = changesFor(args, s, false, ctl).changes;
    }
  }
  const changed = reloadCounts || done.some((c) => !MANAGER_OPS.has(c.op));
  if (!args.name) return { changed, msg: undefined };
  const after = await showUnit(ctx.remote, args.name, ctl);
  // a Type=simple unit whose process dies at once is "started" by systemctl, then failed; with
  // --no-block the job may still be queued, so there is nothing to judge yet
  const started = !ctl.noBlock && done.some((c) => START_LIKE.has(c.op));
  // (inactive is fine: a oneshot unit without RemainAfterExit ends inactive after success)
  if (started && after.ActiveState === 'failed') {
    const journal = await journalTail(ctx.remote, args.name);
    throw new ModuleFailure(`unit ${args.name} is ${after.ActiveState} after start:\n${journal}`, { ...resultOf(args, after), journal });
  }
  // the plan's note (e.g. "assuming daemon-reload finds it") is settled by now
  return { ...resultOf(args, after), changed, msg: undefined };
}
