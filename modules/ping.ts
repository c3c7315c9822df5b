/**
 * ping: proves that the host is reachable and runs commands, in one trivial round trip.
 * Its documentation is the defineModule fields below (`tsplay doc ping`).
 */

import { defineModule, ModuleFailure, sh } from '../runner/module-api';

export interface PingArgs {
  data?: string;
}

export default defineModule<PingArgs>({
  name: 'ping',
  description: 'Check that the host answers a trivial command; returns ping: pong.',
  returns: 'ping: pong (or data)',
  schema: {
    type: 'object',
    properties: {
      data: { type: 'string', default: 'pong', description: "Value returned as 'ping'; 'crash' fails the task (for testing)." },
    },
    additionalProperties: false,
  },
  example: `- ping:`,
  checkMode: 'Same as a normal run: it changes nothing.',
  async plan(args, ctx) {
    const data = args.data ?? 'pong';
    if (data === 'crash') throw new ModuleFailure('boom (ping data=crash)');
    const r = await ctx.remote.query(sh`printf %s ${data}`);
    // the echo proves a round trip through the host's shell, not just an open connection
    if (r.rc !== 0 || r.stdout !== data) {
      throw new ModuleFailure(`ping failed: rc=${r.rc} ${r.stderr.trim()}`, { rc: r.rc, stdout: r.stdout, stderr: r.stderr });
    }
    return { changes: [], result: { ping: data } };
  },
});
