/**
 * service: the systemd side of the deployment (unit state, enablement, masking). Each planned
 * change carries its `op`, and apply decides by it, never by a summary or command text.
 * Its documentation is the defineModule fields below (`tsplay doc service`).
 */

import { defineModule, lastLines, ModuleFailure, sh, type Change, type ModuleContext, type Plan, type Probe, type Remote } from '../runner/module-api';

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

function parseShow(stdout: string): Status {
  const s: Status = {};
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) s[line.slice(0, i)] = line.slice(i + 1);
  }
  return s;
}

async function showUnit(remote: Probe, name: string): Promise<Status> {
  const r = await remote.query(sh`systemctl show -p ${PROPS.join(',')} -- ${name}`);
  if (r.rc === 127) throw new ModuleFailure('systemctl not found: the service module needs systemd on the host', { rc: r.rc, stderr: r.stderr });
  if (r.rc !== 0) {
    throw new ModuleFailure(`cannot query unit ${name}: ${lastLines(r.stderr || r.stdout, 3)}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
  }
  return parseShow(r.stdout);
}

function isEnabled(s: Status): boolean {
  return ENABLED.has(s.UnitFileState) || STATIC.has(s.UnitFileState);
}

function resultOf(args: ServiceArgs, s: Status): Record<string, unknown> {
  return {
    name: args.name,
    state: RUNNING.has(s.ActiveState) ? 'started' : 'stopped',
    enabled: isEnabled(s),
    status: s,
  };
}

/** What a planned step does; apply decides by this, never by a change's summary or command. */
export type ServiceOp = 'unmask' | 'daemon-reload' | 'enable' | 'disable' | 'start' | 'stop' | 'restart' | 'reload' | 'mask';

/** An exec change of this module: the step it does travels with it from plan to apply. */
export type ServiceChange = Extract<Change, { kind: 'exec' }> & { op: ServiceOp };

/** Steps after which the unit must be running: their failure shows the unit's journal. */
const START_LIKE = new Set<ServiceOp>(['start', 'restart', 'reload']);

interface Planned {
  changes: ServiceChange[];
  notes: string[];
}

/** The changes that take the unit from status `s` to what `args` asks for, in a safe order. */
function changesFor(args: ServiceArgs, s: Status, withReload: boolean): Planned {
  const { name } = args;
  const changes: ServiceChange[] = [];
  const notes: string[] = [];
  const masked = s.UnitFileState === 'masked' || s.LoadState === 'masked';
  const running = RUNNING.has(s.ActiveState);
  const exec = (op: ServiceOp, summary: string, before?: string, after?: string): void => {
    const command = op === 'daemon-reload' ? 'systemctl daemon-reload' : sh`systemctl ${op} -- ${name}`;
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
function serviceChanges(plan: Plan): ServiceChange[] {
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

async function journalTail(remote: Probe, name: string): Promise<string> {
  const j = await remote.query(journalCommand(name));
  return (j.stdout || j.stderr).trimEnd();
}

export default defineModule<ServiceArgs>({
  name: 'service',
  description: 'Manage a systemd unit: started/stopped/restarted/reloaded, enabled, masked',
  notes: [
    'One `systemctl show` query gathers everything; the task changes only what differs, and says',
    'so ("start nginx", "disable nginx"). started/stopped/enabled/masked are idempotent;',
    'restarted/reloaded always change. A unit that fails to start (or dies right after its start)',
    'fails the task with the last lines of its journal from that start (not the unit\'s earlier runs).',
  ].join('\n'),
  returns: '{ name, state, enabled, status: { LoadState, ActiveState, SubState, UnitFileState, ... } }',
  example: [
    '- name: patroni runs and starts at boot',
    '  service:',
    '    name: patroni',
    '    state: started',
    '    enabled: true',
    '- name: nginx stays off on the slave app node',
    '  service: { name: nginx, state: stopped, enabled: false }',
  ].join('\n'),
  checkMode:
    'Queries the unit (one systemctl show) and reports what it would change; changes nothing. ' +
    'A unit that does not exist yet is assumed to be created by an earlier task (noted in msg), ' +
    'so a dry run of a fresh deployment shows the whole plan instead of stopping at the first service.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, description: 'unit name (nginx, patroni.service, postgresql@15-main); without a suffix systemd assumes .service' },
      state: {
        type: 'string',
        enum: ['started', 'stopped', 'restarted', 'reloaded'],
        description: 'started/stopped are idempotent; restarted/reloaded always act (reloaded starts a stopped unit)',
      },
      enabled: { type: 'boolean', description: 'whether the unit starts at boot' },
      masked: { type: 'boolean', description: 'mask (true) or unmask (false) the unit' },
      daemon_reload: {
        type: 'boolean',
        default: false,
        description: 'run systemctl daemon-reload first when systemd reports changed unit files (NeedDaemonReload) or the unit is not loaded yet',
      },
    },
  },

  async plan(args, ctx) {
    const s = await showUnit(ctx.remote, args.name);
    const notes: string[] = [];
    let status = s;
    let reload = args.daemon_reload && s.NeedDaemonReload === 'yes';
    if (s.LoadState === 'not-found') {
      if (!ctx.check && !args.daemon_reload) {
        throw new ModuleFailure(`unit ${args.name} does not exist`, { status: s });
      }
      if (args.daemon_reload) reload = true;
      notes.push(`unit ${args.name} does not exist now; assuming ${ctx.check ? 'an earlier task creates it' : 'daemon-reload finds it'}`);
      status = { ...s, ActiveState: 'inactive', UnitFileState: 'disabled' };
    } else if (s.LoadState === 'error' || s.LoadState === 'bad-setting') {
      throw new ModuleFailure(`unit ${args.name} failed to load (LoadState=${s.LoadState}); see systemctl status ${args.name}`, { status: s });
    }
    const p = changesFor(args, status, reload);
    notes.push(...p.notes);
    return { changes: p.changes, result: resultOf(args, s), msg: notes.length ? notes.join('; ') : undefined };
  },

  async apply(args, plan, ctx: ModuleContext<Remote>) {
    const done: ServiceChange[] = [];
    let todo = serviceChanges(plan);
    while (todo.length) {
      const c = todo.shift()!;
      await run(ctx, c, args.name);
      done.push(c);
      if (c.op === 'daemon-reload') {
        // after the reload the unit's state is what systemd now says, so plan the rest again
        const s = await showUnit(ctx.remote, args.name);
        if (s.LoadState === 'not-found') throw new ModuleFailure(`unit ${args.name} does not exist (even after daemon-reload)`, { status: s });
        todo = changesFor(args, s, false).changes;
      }
    }
    const after = await showUnit(ctx.remote, args.name);
    // a Type=simple unit whose process dies at once is "started" by systemctl, then failed
    const started = done.some((c) => START_LIKE.has(c.op));
    // (inactive is fine: a oneshot unit without RemainAfterExit ends inactive after success)
    if (started && after.ActiveState === 'failed') {
      const journal = await journalTail(ctx.remote, args.name);
      throw new ModuleFailure(`unit ${args.name} is ${after.ActiveState} after start:\n${journal}`, { ...resultOf(args, after), journal });
    }
    // the plan's note (e.g. "assuming daemon-reload finds it") is settled by now
    return { ...resultOf(args, after), msg: undefined };
  },
});

async function run(ctx: ModuleContext<Remote>, c: ServiceChange, name: string): Promise<void> {
  const r = await ctx.remote.exec(c.command, c.opts);
  if (r.rc === 0) return;
  const base = { rc: r.rc, stdout: r.stdout, stderr: r.stderr, cmd: c.command };
  if (START_LIKE.has(c.op)) {
    const journal = await journalTail(ctx.remote, name);
    throw new ModuleFailure(`${c.summary} failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}\n${journal}`, { ...base, journal });
  }
  throw new ModuleFailure(`${c.summary} failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}`, base);
}
