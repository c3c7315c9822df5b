/**
 * shell: Ansible's `shell`, for pipes, redirections, variables and globs. The script is one quoted
 * argument of its own shell process, so `exit`, `set -e` or `exec` in it cannot disturb the
 * connection's persistent shell. Its documentation is the defineModule fields below (`tsplay doc shell`).
 */

import { defineModule, sh } from '../runner/module-api';
import { applyCommand, COMMON_COMMAND_SCHEMA, planCommand, type CommandArgs } from './lib/run-command';

export interface ShellArgs extends CommandArgs {
  cmd: string;
  executable?: string;
}

function build(args: ShellArgs): string {
  return sh`${args.executable ?? '/bin/sh'} -c ${args.cmd}`;
}

export default defineModule<ShellArgs>({
  name: 'shell',
  description: 'Run a script through a shell on the host (pipes, redirections, variables).',
  notes: [
    'The script is handed to the shell as ONE quoted argument (`/bin/sh -c \'<script>\'`), so it runs',
    'exactly as written, in its own shell process. Use executable: /bin/bash for `set -o pipefail`.',
    'rc != 0 fails the task.',
  ].join('\n'),
  returns: 'cmd, rc, stdout, stderr, stdout_lines, stderr_lines, start, end, delta',
  freeForm: 'cmd',
  schema: {
    type: 'object',
    properties: {
      cmd: { type: 'string', minLength: 1, description: 'The shell script to run.' },
      executable: {
        type: 'string',
        minLength: 1,
        description: 'The shell to run the script with (default /bin/sh).',
      },
      ...COMMON_COMMAND_SCHEMA,
    },
    required: ['cmd'],
    additionalProperties: false,
  },
  example: `- shell: ls /etc/patroni/*.yml | wc -l
  register: configs
- shell: set -o pipefail; journalctl -u patroni -n 50 | grep -q 'leader'
  args:
    executable: /bin/bash
    creates: /var/lib/tsplay/patroni.ok`,
  checkMode:
    'Runs nothing. creates/removes are checked; otherwise reports the script as a change it would run (no stdout).',
  async plan(args, ctx) {
    return planCommand(args, ctx, build(args), args.cmd);
  },
  async apply(args, plan, ctx) {
    return applyCommand(args, plan, ctx, args.cmd);
  },
});
