/**
 * fail: end the host's play with a message, usually under `when`, on the controller.
 * Its documentation is the defineModule fields below (`tsplay doc fail`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export interface FailArgs {
  msg?: string;
}

export default defineModule<FailArgs>({
  name: 'fail',
  description: 'Fail the task with a message.',
  local: true,
  schema: {
    type: 'object',
    properties: {
      msg: { type: 'string', default: 'Failed as requested from task', description: 'The failure message.' },
    },
    additionalProperties: false,
  },
  example: `- fail:
    msg: "unsupported distribution {{ ansible_distribution }}"
  when: ansible_os_family not in ['Debian', 'RedHat']`,
  checkMode: 'Same as a normal run: the task fails.',
  async plan(args) {
    throw new ModuleFailure(args.msg ?? 'Failed as requested from task');
  },
});
