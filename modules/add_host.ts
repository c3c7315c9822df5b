/**
 * add_host: a host (new or known) joins groups of the in-memory inventory for the rest of the
 * run. Its documentation is the defineModule fields below (`tsplay doc add_host`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';
import { groupList, HOST_OR_GROUP_NAME } from './lib/inventory-names';

export type AddHostArgs = Record<string, unknown>;

const NAME_KEYS = ['name', 'host', 'hostname'];
const GROUP_KEYS = ['groups', 'group', 'groupname'];
export default defineModule<AddHostArgs>({
  name: 'add_host',
  description: 'Add a host (and its groups and variables) to the inventory for the rest of the run.',
  notes: [
    'As in Ansible, the task runs once per batch (on its first host), not once per host; in a loop,',
    'once per item. Arguments other than the name and groups become host variables.',
    'The host is only in memory: the inventory files are not changed.',
  ].join('\n'),
  returns: 'add_host: {host_name, groups, host_vars}',
  local: true,
  bypassHostLoop: true,
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'The host name (aliases: host, hostname); `name:port` sets ansible_port.' },
      host: { type: 'string', description: 'Same as name.' },
      hostname: { type: 'string', description: 'Same as name.' },
      groups: { description: 'Groups to add the host to: a list or comma-separated (aliases: group, groupname).' },
      group: { description: 'Same as groups.' },
      groupname: { description: 'Same as groups.' },
    },
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    additionalProperties: true,
  },
  example: `- add_host:
    name: "{{ new_db_ip }}"
    groups: db_replica
    ansible_user: deploy`,
  checkMode: 'Same as a normal run: the in-memory inventory changes (nothing on any host).',
  async plan(args) {
    const given = NAME_KEYS.filter((k) => args[k] !== undefined);
    if (given.length !== 1) throw new ModuleFailure(given.length ? `give one of ${NAME_KEYS.join(', ')}, not ${given.join(' and ')}` : 'missing required argument: name');
    let name = String(args[given[0]]).trim();
    const hostVars: Record<string, unknown> = {};
    const m = /^([^:[\]]+):(\d+)$/.exec(name);
    if (m) {
      name = m[1];
      hostVars.ansible_port = Number(m[2]);
    }
    if (!HOST_OR_GROUP_NAME.test(name)) throw new ModuleFailure(`'${name}' is not a valid host name`);
    const groups = GROUP_KEYS.flatMap((k) => groupList(args[k], k));
    for (const [k, v] of Object.entries(args)) if (!NAME_KEYS.includes(k) && !GROUP_KEYS.includes(k)) hostVars[k] = v;
    return { changes: [], changed: true, result: { add_host: { host_name: name, groups, host_vars: hostVars } } };
  },
});
