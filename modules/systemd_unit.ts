/**
 * systemd_unit: a unit file in /etc/systemd/system that systemd sees. Kept small on purpose:
 * starting and enabling the unit is the service module's job (the next task).
 * Its documentation is the defineModule fields below (`tsplay doc systemd_unit`).
 */

import { defineModule, type Change } from '../runner/module-api';
import { modeArg, OCTAL_MODE_SCHEMA } from './lib/attrs';

export interface SystemdUnitArgs {
  name: string;
  content: string;
  mode: string | number;
  daemon_reload: boolean;
}

const DIR = '/etc/systemd/system';

export default defineModule<SystemdUnitArgs>({
  name: 'systemd_unit',
  description: 'Write a unit file to /etc/systemd/system and daemon-reload when it changed',
  notes: [
    'The file is read, compared, and written atomically only when it differs; daemon-reload runs',
    'only then.',
  ].join('\n'),
  returns: '{ path, name }',
  example: [
    '- name: patroni unit',
    '  systemd_unit:',
    '    name: patroni.service',
    '    content: |',
    '      [Unit]',
    '      Description=Patroni',
    '      After=network-online.target',
    '      [Service]',
    '      User=postgres',
    '      ExecStart=/usr/bin/patroni /etc/patroni/config.yml',
    '      [Install]',
    '      WantedBy=multi-user.target',
  ].join('\n'),
  checkMode: 'Reads the current unit file; shows the diff and the daemon-reload it would run; writes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'content'],
    properties: {
      name: {
        type: 'string',
        // systemd's unit name characters, no slash: the name is a file name in /etc/systemd/system
        pattern: '^[A-Za-z0-9:_.@\\\\-]+\\.(service|socket|timer|target|path|mount|automount|swap|slice|scope|device)$',
        maxLength: 255,
        description: 'unit file name with its type suffix, e.g. patroni.service',
      },
      content: { type: 'string', minLength: 1, description: 'the unit file text (a trailing newline is added when missing)' },
      mode: { ...OCTAL_MODE_SCHEMA, default: '0644', description: 'file mode' },
      daemon_reload: { type: 'boolean', default: true, description: 'run systemctl daemon-reload when the file changed' },
    },
  },

  async plan(a, ctx) {
    const path = `${DIR}/${a.name}`;
    const want = a.content.endsWith('\n') ? a.content : `${a.content}\n`;
    const mode = modeArg(a.mode);
    const cur = await ctx.remote.readFile(path);
    const changes: Change[] = [];
    if (cur === null || cur.toString() !== want) {
      changes.push({ kind: 'write', summary: `${cur === null ? 'create' : 'update'} ${path}`, path, before: cur === null ? null : cur.toString(), after: want, mode, owner: 'root', group: 'root' });
      if (a.daemon_reload) changes.push({ kind: 'exec', summary: 'systemctl daemon-reload', command: 'systemctl daemon-reload' });
    }
    return { changes, result: { path, name: a.name } };
  },
});
