/**
 * pause: a fixed wait on the controller; tsplay never reads the terminal from a module, so there
 * is no interactive prompt. Its documentation is the defineModule fields below (`tsplay doc pause`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export interface PauseArgs {
  seconds?: number;
  minutes?: number;
  prompt?: string;
  echo?: boolean;
}

/** Resolve after `ms`, or reject as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new ModuleFailure('pause interrupted'));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ModuleFailure('pause interrupted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export default defineModule<PauseArgs>({
  name: 'pause',
  description: 'Wait for some seconds or minutes (Ctrl-C ends the wait).',
  notes: 'Ctrl-C ends the wait at once (the task then fails as interrupted).',
  returns: 'start, stop, delta (seconds), user_input (\'\')',
  local: true,
  schema: {
    type: 'object',
    properties: {
      seconds: { type: 'number', minimum: 0, description: 'Seconds to wait.' },
      minutes: { type: 'number', minimum: 0, description: 'Minutes to wait (added to seconds).' },
      prompt: { type: 'string', description: 'Shown for Ansible compatibility only: tsplay does not prompt; without a duration, pause continues at once and says so.' },
      echo: { type: 'boolean', default: true, description: 'Accepted and ignored.' },
    },
    additionalProperties: false,
  },
  example: `- pause:
    seconds: 15
    prompt: "waiting for the replica to catch up"`,
  checkMode: "Waits as in a normal run, as Ansible does: the wait is part of the playbook's timing.",
  async plan(args, ctx) {
    const ms = Math.round(((args.seconds ?? 0) + (args.minutes ?? 0) * 60) * 1000);
    const start = ctx.now();
    if (args.seconds === undefined && args.minutes === undefined) {
      return { changes: [], msg: 'no seconds/minutes given and tsplay does not prompt: continuing', result: { user_input: '' } };
    }
    ctx.log(2, `pausing for ${ms / 1000} s`);
    await sleep(ms, ctx.signal);
    const stop = ctx.now();
    return {
      changes: [],
      msg: `paused for ${((stop - start) / 1000).toFixed(1)} s`,
      result: {
        start: new Date(start).toISOString(),
        stop: new Date(stop).toISOString(),
        delta: Math.round((stop - start) / 1000),
        user_input: '',
      },
    };
  },
});
