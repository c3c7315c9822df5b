/**
 * assert: preconditions of a play, checked on the controller before anything changes.
 * Its documentation is the defineModule fields below (`tsplay doc assert`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export interface AssertArgs {
  that: string | boolean | Array<string | boolean>;
  fail_msg?: string;
  msg?: string;
  success_msg?: string;
  quiet?: boolean;
}

const condition = { anyOf: [{ type: 'string', minLength: 1 }, { type: 'boolean' }] };

export default defineModule<AssertArgs>({
  name: 'assert',
  description: 'Fail unless every condition holds.',
  returns: '{ assertion, evaluated_to } on failure; { msg } on success',
  local: true,
  rawArgs: ['that'],
  schema: {
    type: 'object',
    properties: {
      that: {
        anyOf: [condition, { type: 'array', items: condition, minItems: 1 }],
        description: 'A condition or list of conditions (when syntax, without {{ }}); all must hold. Not templated by the engine: the module evaluates them.',
      },
      fail_msg: { type: 'string', description: 'Message when a condition is false.' },
      msg: { type: 'string', description: 'Alias of fail_msg.' },
      success_msg: { type: 'string', description: 'Message when every condition holds.' },
      quiet: { type: 'boolean', default: false, description: 'Do not show the success message.' },
    },
    required: ['that'],
    additionalProperties: false,
  },
  example: `- assert:
    that:
      - groups['db'] | length == 2
      - patroni_superuser_password is defined
    fail_msg: "two db hosts and a superuser password are required"
- assert:
    that:
      - groups['etcd'] | length in [3, 5]
      - ansible_memtotal_mb >= 2048
    fail_msg: "etcd needs 3 or 5 members and 2 GiB of memory"`,
  checkMode: 'Same as a normal run: a false condition fails the task.',
  async plan(args, ctx) {
    const conditions = Array.isArray(args.that) ? args.that : [args.that];
    for (const c of conditions) {
      // one at a time, so the failure names the condition that did not hold
      if (!(await ctx.evaluate(c))) {
        throw new ModuleFailure(args.fail_msg ?? args.msg ?? `Assertion failed: ${String(c)}`, {
          assertion: c,
          evaluated_to: false,
        });
      }
    }
    if (args.quiet) return { changes: [] };
    const msg = args.success_msg ?? 'All assertions passed';
    return { changes: [], msg, result: { msg } };
  },
});
