/**
 * debug: show a message or a value in the output, on the controller. Its documentation is the defineModule fields below (`tsplay doc debug`).
 */

import { defineModule } from '../runner/module-api';

export interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity?: number;
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2) ?? String(v);
}

export default defineModule<DebugArgs>({
  name: 'debug',
  description: "Show a message or a variable's value.",
  returns: '{ msg } or { <var>: value }; an undefined `var` shows "VARIABLE IS NOT DEFINED!"',
  local: true,
  rawArgs: ['var'],
  schema: {
    type: 'object',
    properties: {
      msg: { description: 'The message to show (any value; templated by the engine); without msg and var: "Hello world!".' },
      var: { type: 'string', minLength: 1, description: 'A variable name or expression, written without {{ }} (not templated by the engine), shown with its value.' },
      verbosity: { type: 'integer', minimum: 0, default: 0, description: 'Show only when run with at least this many -v.' },
    },
    additionalProperties: false,
    not: { required: ['msg', 'var'] },
  },
  example: `- debug:
    msg: "{{ inventory_hostname }} runs {{ ansible_distribution }} {{ ansible_distribution_version }}"
- debug:
    var: patroni_members.json
    verbosity: 1`,
  checkMode: 'Same as a normal run.',
  async plan(args, ctx) {
    const level = Number(ctx.vars.ansible_verbosity ?? 0);
    if ((args.verbosity ?? 0) > level) {
      return { changes: [], skipped: true, msg: 'verbosity threshold not met', result: { skipped_reason: 'verbosity threshold not met' } };
    }
    if (args.var !== undefined) {
      let value: unknown;
      try {
        value = await ctx.evaluateExpression(args.var);
      } catch (e) {
        // Ansible shows an undefined variable instead of failing; a syntax error still fails
        if (!/undefined|not defined/i.test((e as Error).message)) throw e;
        value = 'VARIABLE IS NOT DEFINED!';
      }
      return { changes: [], msg: `${args.var}: ${show(value)}`, result: { [args.var]: value } };
    }
    const msg = args.msg === undefined ? 'Hello world!' : args.msg;
    return { changes: [], msg: show(msg), result: { msg } };
  },
});
