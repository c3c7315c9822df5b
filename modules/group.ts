/**
 * group: a local group with a given gid, one query and at most one command.
 * Its documentation is the defineModule fields below (`tsplay doc group`).
 */

import { ACCOUNT_NAME_MAX, ACCOUNT_NAME_PATTERN, defineModule, lastLines, ModuleFailure, sh, type Change } from '../runner/module-api';

export interface GroupArgs {
  name: string;
  state: 'present' | 'absent';
  gid?: number;
  system: boolean;
}

export default defineModule<GroupArgs>({
  name: 'group',
  description: 'Manage a local group (present/absent, gid)',
  notes: [
    'One query (`getent group NAME`); the change is one groupadd / groupmod (a gid that differs) /',
    'groupdel.',
  ].join('\n'),
  returns: '{ name, state, gid }',
  example: ['- name: the failover user has its own group', '  group:', '    name: motadata', '    gid: 1500'].join('\n'),
  checkMode: 'Reads the group database and reports what it would change; changes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: ACCOUNT_NAME_PATTERN, maxLength: ACCOUNT_NAME_MAX, description: 'group name' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'present or absent' },
      gid: { type: 'integer', minimum: 0, description: 'numeric group id' },
      system: { type: 'boolean', default: false, description: 'create as a system group (only when creating)' },
    },
  },

  async plan(a, ctx) {
    const r = await ctx.remote.query(sh`getent group -- ${a.name}`);
    // getent: 0 found, 2 not found; anything else is a real problem
    if (r.rc !== 0 && r.rc !== 2) throw new ModuleFailure(`cannot read group ${a.name}: ${lastLines(r.stderr, 3)}`, { rc: r.rc });
    const fields = r.rc === 0 ? r.stdout.trim().split('\n')[0].split(':') : undefined;
    const gid = fields ? Number(fields[2]) : undefined;
    const changes: Change[] = [];
    if (a.state === 'absent') {
      if (fields) changes.push({ kind: 'exec', summary: `remove group ${a.name}`, command: sh`groupdel -- ${a.name}`, diff: { path: `group ${a.name}`, before: `gid: ${gid}\n`, after: 'state: absent\n' } });
      return { changes, result: { name: a.name, state: a.state } };
    }
    if (!fields) {
      const cmd = ['groupadd'];
      if (a.system) cmd.push('-r');
      if (a.gid !== undefined) cmd.push(sh`-g ${a.gid}`);
      changes.push({
        kind: 'exec',
        summary: `create group ${a.name}${a.gid !== undefined ? ` (gid ${a.gid})` : ''}`,
        command: `${cmd.join(' ')} ${sh`-- ${a.name}`}`,
        diff: { path: `group ${a.name}`, before: 'state: absent\n', after: `state: present\n${a.gid !== undefined ? `gid: ${a.gid}\n` : ''}` },
      });
    } else if (a.gid !== undefined && gid !== a.gid) {
      changes.push({ kind: 'exec', summary: `change gid of group ${a.name}: ${gid} -> ${a.gid}`, command: sh`groupmod -g ${a.gid} -- ${a.name}`, diff: { path: `group ${a.name}`, before: `gid: ${gid}\n`, after: `gid: ${a.gid}\n` } });
    }
    return { changes, result: { name: a.name, state: a.state, gid: a.gid ?? gid } };
  },
});
