/**
 * service: the systemd side of the deployment (unit state, enablement, masking). Each planned
 * change carries its `op`, and apply decides by it, never by a summary or command text.
 * Its documentation is the defineModule fields below (`tsplay doc service`).
 */

import { defineModule, type ModuleContext, type Remote } from '../runner/module-api';
import { applyUnit, planUnit, SYSTEM, type ServiceArgs } from './lib/units';

export { journalCommand, type ServiceArgs, type ServiceChange, type ServiceOp } from './lib/units';


/** init-script arguments that systemd has no use for (accepted so that roles load, and named in msg) */
const IGNORED = ['sleep', 'pattern', 'arguments', 'args', 'runlevel'] as const;

export default defineModule<ServiceArgs & { sleep?: number; pattern?: string; arguments?: string; args?: string; runlevel?: string }>({
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
      sleep: { type: 'integer', minimum: 0, description: 'seconds between stop and start of an init script; ignored: systemd restarts the unit itself' },
      pattern: { type: 'string', description: 'process pattern for init scripts without status; ignored: systemd knows the unit\'s state' },
      arguments: { type: 'string', description: 'arguments for the init script; ignored with systemd (set them in the unit)' },
      args: { type: 'string', description: 'same as arguments (ignored)' },
      runlevel: { type: 'string', description: 'OpenRC/SysV runlevel; ignored with systemd' },
      daemon_reload: {
        type: 'boolean',
        default: false,
        description: 'run systemctl daemon-reload first when systemd reports changed unit files (NeedDaemonReload) or the unit is not loaded yet',
      },
    },
  },

  async plan(args, ctx) {
    const p = await planUnit(args, ctx, SYSTEM, 'needed');
    // Ansible's service on a systemd host drops these too (with a warning): systemd has no use for them
    const ignored = IGNORED.filter((k) => (args as unknown as Record<string, unknown>)[k] !== undefined);
    if (!ignored.length) return p;
    const note = `ignored with systemd: ${ignored.join(', ')}`;
    return { ...p, msg: p.msg ? `${p.msg}; ${note}` : note };
  },

  apply(args, plan, ctx: ModuleContext<Remote>) {
    return applyUnit(args, plan, ctx, SYSTEM, true);
  },
});
