/**
 * service_facts: the host's systemd services as Ansible's service_facts shapes them, for roles
 * that test `ansible_facts.services['nginx.service'].state`. Its documentation is the
 * defineModule fields below (`tsplay doc service_facts`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export interface ServiceFact {
  name: string;
  state: string;
  status: string;
  source: 'systemd';
}

/** Unit states Ansible keeps as the status even when the unit file says enabled/disabled. */
const BAD = new Set(['not-found', 'masked', 'failed']);

export const SCRIPT = [
  'echo "units"; systemctl list-units --no-pager --type service --all --plain --no-legend || exit $?',
  'echo "files"; systemctl list-unit-files --no-pager --type service --plain --no-legend',
].join('\n');

export function parseServices(stdout: string): Record<string, ServiceFact> {
  const services: Record<string, ServiceFact> = {};
  let part = '';
  for (const line of stdout.split('\n')) {
    if (line === 'units' || line === 'files') {
      part = line;
      continue;
    }
    const f = line.trim().split(/\s+/);
    if (!f[0]?.endsWith('.service')) continue;
    if (part === 'units' && f.length >= 4) {
      // UNIT LOAD ACTIVE SUB DESCRIPTION: running only when SUB is; the status is LOAD when bad, else ACTIVE
      services[f[0]] = { name: f[0], state: f[3] === 'running' ? 'running' : 'stopped', status: BAD.has(f[1]) ? f[1] : f[2], source: 'systemd' };
    } else if (part === 'files' && f.length >= 2) {
      const s = services[f[0]];
      // a unit file no unit is loaded from: not running (a template, foo@.service, has no state at all)
      if (!s) services[f[0]] = { name: f[0], state: f[0].includes('@.') ? 'unknown' : 'inactive', status: f[1], source: 'systemd' };
      else if (!BAD.has(s.status)) s.status = f[1];
    }
  }
  return services;
}

export default defineModule<Record<string, never>>({
  name: 'service_facts',
  description: 'Set ansible_facts.services: every systemd service ("name.service" -> {name, state, status, source})',
  notes: [
    'One query: systemctl list-units --type service --all and list-unit-files --type service, read as',
    'Ansible does: state is running or stopped (inactive for a unit file that is not loaded, unknown',
    'for a template), status the unit file state (enabled, disabled, static, ...) unless the unit is',
    'not-found, masked or failed. systemd hosts only (no SysV/OpenRC listing).',
  ].join('\n'),
  returns: '{ ansible_facts: { services: { "NAME.service": { name, state, status, source: systemd } } } }',
  example: [
    '- name: which services there are',
    '  service_facts:',
    '- name: only when nginx runs',
    '  debug: { msg: nginx runs }',
    '  when: "ansible_facts.services[\'nginx.service\'] is defined and ansible_facts.services[\'nginx.service\'].state == \'running\'"',
  ].join('\n'),
  checkMode: 'The same read-only query as a real run; the facts are set in check mode too.',
  schema: { type: 'object', additionalProperties: false, properties: {} },

  async plan(_a, ctx) {
    const r = await ctx.remote.query(SCRIPT);
    if (r.rc === 127) throw new ModuleFailure(`service_facts: no systemctl on ${ctx.host} (systemd hosts only)`, { rc: r.rc });
    if (r.rc !== 0) throw new ModuleFailure(`service_facts: systemctl failed on ${ctx.host} (rc=${r.rc}): ${r.stderr.trim().split('\n').slice(-3).join('\n')}`, { rc: r.rc, stderr: r.stderr });
    return { changes: [], facts: { services: parseServices(r.stdout) } };
  },
});
