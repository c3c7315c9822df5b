/**
 * fail: fail the task with a message (usually with `when`). Runs on the controller.
 *
 * Arguments:
 *   msg   the message (default "Failed as requested from task")
 *
 * Example:
 *   - fail:
 *       msg: "the etcd group must have an odd number of members"
 *     when: groups['etcd'] | length is even
 *
 * Check mode: the same as a normal run (it fails).
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
