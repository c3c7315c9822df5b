/**
 * systemd: Ansible's systemd module (scope, no_block, force, daemon_reload/daemon_reexec), on the
 * service module's unit survey and steps (modules/lib/units.ts).
 * Its documentation is the defineModule fields below (`tsplay doc systemd`).
 */

import { defineModule, ModuleFailure, type ModuleContext, type Plan, type Probe, type Remote, type TsplayModule } from '../runner/module-api';
import { applyUnit, opCommand, planUnit, type Ctl, type ServiceArgs, type ServiceChange } from './lib/units';

export interface SystemdArgs {
  name?: string;
  service?: string;
  unit?: string;
  state?: ServiceArgs['state'];
  enabled?: boolean;
  masked?: boolean;
  force: boolean;
  daemon_reload: boolean;
  daemon_reexec: boolean;
  scope: Ctl['scope'];
  no_block: boolean;
}

const NAME = { type: 'string', minLength: 1, pattern: '^[^-]' };

function unitArgs(a: SystemdArgs): { name?: string; args: ServiceArgs; ctl: Ctl } {
  const name = a.name ?? a.service ?? a.unit;
  if (name !== undefined && /[*?[]/.test(name)) throw new ModuleFailure(`systemd: glob patterns are not supported in a unit name (${JSON.stringify(name)})`, { invalid_argument: 'name' });
  if (name === undefined && (a.state !== undefined || a.enabled !== undefined || a.masked !== undefined)) throw new ModuleFailure('systemd: state, enabled and masked need name', { invalid_argument: 'name' });
  if (name === undefined && !a.daemon_reload && !a.daemon_reexec) throw new ModuleFailure('systemd: give one of state, enabled, masked, daemon_reload, daemon_reexec');
  if (a.scope === 'global' && a.state !== undefined) throw new ModuleFailure('systemd: scope global has no running manager: state cannot be used with it (enabled and masked can)', { invalid_argument: 'state' });
  const ctl: Ctl = { scope: a.scope, noBlock: a.no_block, force: a.force };
  return { name, ctl, args: { name: name ?? '', state: a.state, enabled: a.enabled, masked: a.masked, daemon_reload: a.daemon_reload } };
}

/** daemon-reexec (and, without a unit, daemon-reload): real runs only, as Ansible runs them; never a change by themselves. */
function managerSteps(a: SystemdArgs, ctl: Ctl, withReload: boolean, check: boolean): ServiceChange[] {
  if (check) return [];
  const out: ServiceChange[] = [];
  if (a.daemon_reexec) out.push({ kind: 'exec', op: 'daemon-reexec', summary: 'daemon-reexec', command: opCommand('daemon-reexec', '', ctl) });
  if (withReload && a.daemon_reload) out.push({ kind: 'exec', op: 'daemon-reload', summary: 'daemon-reload', command: opCommand('daemon-reload', '', ctl) });
  return out;
}

const systemd: TsplayModule<SystemdArgs> = defineModule<SystemdArgs>({
  name: 'systemd',
  description: 'Manage a systemd unit (system, user or global scope) and the manager: daemon-reload, daemon-reexec',
  notes: [
    'The service module\'s survey and steps (one systemctl show; only what differs changes; a unit',
    'that fails right after its start fails the task with its journal), with Ansible\'s systemd',
    'arguments: scope user runs `systemctl --user` (XDG_RUNTIME_DIR set to /run/user/UID when',
    'unset), scope global `systemctl --global` (unit files only: enabled, masked); no_block adds',
    '--no-block to start/stop/restart/reload; force adds --force to enable/disable/mask.',
    'daemon_reload and daemon_reexec run on every real run before the unit\'s steps, as in Ansible,',
    'and are not a change by themselves (a dry run does not plan them).',
  ].join('\n'),
  returns: '{ name, state, enabled, status: { LoadState, ActiveState, SubState, UnitFileState, ... } }',
  example: [
    '- name: reload unit files, then nginx runs',
    '  systemd:',
    '    name: nginx',
    '    state: started',
    '    enabled: true',
    '    daemon_reload: true',
    '- name: a user unit',
    '  systemd: { name: syncthing, scope: user, state: started, no_block: true }',
  ].join('\n'),
  checkMode: 'Queries the unit (one systemctl show) and reports what it would change; changes nothing; daemon-reload/daemon-reexec are not run. A unit that does not exist yet is assumed to be created by an earlier task.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: { ...NAME, description: 'unit name (nginx, patroni.service); without a suffix systemd assumes .service' },
      service: { ...NAME, description: 'same as name' },
      unit: { ...NAME, description: 'same as name' },
      state: { type: 'string', enum: ['started', 'stopped', 'restarted', 'reloaded'], description: 'started/stopped are idempotent; restarted/reloaded always act (reloaded starts a stopped unit)' },
      enabled: { type: 'boolean', description: 'whether the unit starts at boot' },
      masked: { type: 'boolean', description: 'mask (true) or unmask (false) the unit' },
      force: { type: 'boolean', default: false, description: 'enable/disable/mask with --force (replace conflicting symlinks)' },
      daemon_reload: { type: 'boolean', default: false, description: 'systemctl daemon-reload before anything else (every real run)' },
      daemon_reexec: { type: 'boolean', default: false, description: 'systemctl daemon-reexec before anything else (every real run)' },
      scope: { type: 'string', enum: ['system', 'user', 'global'], default: 'system', description: 'the system manager, the calling user\'s manager, or every user\'s unit files' },
      no_block: { type: 'boolean', default: false, description: 'do not wait for start/stop/restart/reload jobs to finish' },
    },
  },

  async plan(a, ctx: ModuleContext<Probe>): Promise<Plan> {
    const { name, args, ctl } = unitArgs(a);
    if (name === undefined) return { changes: managerSteps(a, ctl, true, ctx.check), result: { name: null, status: {} } };
    const p = await planUnit(args, ctx, ctl, 'always');
    // the unit's daemon-reload is among its steps (planned again after it); the reexec goes first
    return { ...p, changes: [...managerSteps(a, ctl, false, ctx.check), ...p.changes] };
  },

  apply(a, plan, ctx: ModuleContext<Remote>) {
    const { name, args, ctl } = unitArgs(a);
    return applyUnit({ ...args, name: name ?? '' }, plan, ctx, ctl, false);
  },
});

export default systemd;
