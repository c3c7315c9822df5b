/**
 * Connection storms: a server under many simultaneous connects sheds some of them before the SSH
 * handshake (OpenSSH's MaxStartups closes the socket at once, "start:rate:full" drops randomly
 * from `start` unauthenticated connections up; an overflowing accept queue resets it). Such a
 * host is not unreachable, it is busy: back off and try again, all within the connect timeout
 * (--timeout), so a truly dead host still fails in the time the user asked for.
 */

/** The server closed or reset the socket before the handshake: load shedding, worth another try. */
export function isShedBeforeHandshake(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  if (!err) return false;
  if (err.code === 'ECONNRESET') return true;
  return /Connection lost before handshake/i.test(err.message ?? '');
}

export interface RetryOptions {
  /** the whole budget for every attempt and every pause */
  timeoutMs: number;
  /** first pause; doubled after each drop, up to maxDelayMs (jittered, so a fleet does not retry in lockstep) */
  firstDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
}

export interface Retried<T> {
  value: T;
  /** attempts the server shed before the one that got through */
  drops: number;
}

/** Thrown when every attempt within the budget was shed; `last` is the last attempt's error. */
export class ShedError extends Error {
  constructor(readonly drops: number, readonly elapsedMs: number, readonly last: Error) {
    super(last.message);
  }
}

/**
 * Run `attempt(msLeft)` until it succeeds, fails for another reason (rethrown as is), or the
 * budget is spent (ShedError). `msLeft` is what the attempt may use of the budget (its handshake timeout).
 */
export async function connectWithRetry<T>(attempt: (msLeft: number) => Promise<T>, o: RetryOptions): Promise<Retried<T>> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = o.random ?? Math.random;
  const maxDelay = o.maxDelayMs ?? 2000;
  const start = now();
  let delay = o.firstDelayMs ?? 100;
  for (let drops = 0; ; drops++) {
    const left = o.timeoutMs - (now() - start);
    try {
      return { value: await attempt(Math.max(left, 1)), drops };
    } catch (e) {
      if (!isShedBeforeHandshake(e)) throw e;
      // half to all of the current delay: spread, but never shorter than half
      const pause = Math.round(delay * (0.5 + random() / 2));
      const remaining = o.timeoutMs - (now() - start);
      // a try needs time for its own handshake too: keep a quarter of the pause for it at least
      if (pause * 1.25 >= remaining) throw new ShedError(drops + 1, now() - start, e as Error);
      await sleep(pause);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
