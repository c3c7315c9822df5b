/**
 * shell: run a script through a shell on the host (Ansible's `shell`): pipes, redirections,
 * variables and globs work. The script is handed to the shell as ONE quoted argument
 * (`/bin/sh -c '<script>'`), so it runs exactly as written, in its own shell process: `exit`,
 * `set -e` or `exec` in it cannot disturb the connection's own shell.
 *
 * Arguments:
 *   cmd (free form)    the script
 *   executable         shell to run it with (default /bin/sh), e.g. /bin/bash for `set -o pipefail`
 *   chdir              directory to run in
 *   creates / removes  skip when this path exists / does not exist (globs allowed)
 *   stdin              data for standard input; stdin_add_newline (default true)
 *   strip_empty_ends   strip trailing newlines from stdout/stderr (default true)
 *
 * Example:
 *   - shell: set -o pipefail; patronictl -c /etc/patroni/patroni.yml list | grep -c running
 *     args:
 *       executable: /bin/bash
 *     register: running
 *
 * Result: cmd, rc, stdout, stderr, stdout_lines, stderr_lines, start, end, delta. rc != 0 fails.
 *
 * Check mode: nothing runs. `creates`/`removes` are checked (read-only); otherwise the task
 * reports that it would run the script (changed) with no stdout.
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
