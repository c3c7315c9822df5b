/**
 * The persistent shells of one host: one per become spec (method, user, flags) at least, more
 * when the executor runs commands for the host concurrently (async loops). A session runs one command at a time; the
 * pool caps the sessions per host (OpenSSH's MaxSessions defaults to 10 channels per connection,
 * and we keep a margin for forwarding and reconnect), queueing commands beyond the cap.
 */

import { SessionDiedError } from './errors';
import { becomeKey, type SessionExecOptions, type ShellSession } from './shell-session';
import type { BecomeSpec, RawExecResult } from './types';

export { becomeKey };

export const DEFAULT_MAX_SESSIONS = 8;

/** Opens a new shell as the login user or the become user. */
export type SessionFactory = (become: BecomeSpec | undefined) => Promise<ShellSession>;

export class SessionPool {
  private readonly idle: ShellSession[] = [];
  private readonly leased = new Set<ShellSession>();
  private starting = 0;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly factory: SessionFactory,
    readonly maxSessions = DEFAULT_MAX_SESSIONS,
  ) {
    if (maxSessions < 1) throw new RangeError('maxSessions must be at least 1');
  }

  /** sessions open or being opened (for tests and the channel cap) */
  get size(): number {
    return this.idle.length + this.leased.size + this.starting;
  }

  async exec(cmd: string, opts: SessionExecOptions & { become?: BecomeSpec } = {}): Promise<RawExecResult> {
    const session = await this.acquire(opts.become);
    try {
      return await session.run(cmd, opts);
    } finally {
      this.release(session);
    }
  }

  private async acquire(become: BecomeSpec | undefined): Promise<ShellSession> {
    const key = becomeKey(become);
    for (;;) {
      if (this.closed) throw new SessionDiedError(`${this.host}: connection closed`);
      this.dropDead();
      const i = this.idle.findIndex((s) => s.becomeKey === key);
      if (i >= 0) {
        const s = this.idle.splice(i, 1)[0];
        this.leased.add(s);
        return s;
      }
      if (this.size >= this.maxSessions && this.idle.length > 0) {
        // At the cap with a shell idle for another user: trade it for one we need.
        const other = this.idle.shift()!;
        void other.close();
      }
      if (this.size < this.maxSessions) {
        this.starting++;
        try {
          const s = await this.factory(become);
          this.leased.add(s);
          return s;
        } finally {
          this.starting--;
          // a failed start frees a slot someone may be waiting for
          this.wakeOne();
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private release(s: ShellSession): void {
    this.leased.delete(s);
    if (s.alive && !this.closed) this.idle.push(s);
    this.wakeOne();
  }

  private wakeOne(): void {
    const w = this.waiters.shift();
    if (w) w();
  }

  private dropDead(): void {
    for (let i = this.idle.length - 1; i >= 0; i--) if (!this.idle[i].alive) this.idle.splice(i, 1);
  }

  /** Forget every shell without waiting for them (the transport under them is gone). */
  reset(): void {
    this.idle.length = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.leased];
    this.idle.length = 0;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
    await Promise.all(all.map((s) => s.close().catch(() => undefined)));
  }
}
