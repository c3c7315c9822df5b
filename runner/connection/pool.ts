/**
 * One Connection per host name for the whole run: opened on first use, shared by every task,
 * closed at the end. Concurrent first uses share one connect.
 */

import { LocalConnection } from './local';
import type { Connection, ConnectionSpec } from './types';
import { DEFAULT_MAX_SESSIONS } from './session-pool';

/** One connection per host and way of reaching it (a play's `connection: local` is another one). */
export function connectionKey(spec: ConnectionSpec): string {
  return [spec.name, spec.type, spec.user ?? '', spec.address, spec.port].join('\0');
}

export class ConnectionPool {
  private readonly conns = new Map<string, { name: string; conn: Promise<Connection> }>();
  private readonly maxChannelsPerHost: number;

  constructor(opts: { maxChannelsPerHost?: number } = {}) {
    this.maxChannelsPerHost = opts.maxChannelsPerHost ?? DEFAULT_MAX_SESSIONS;
  }

  get(spec: ConnectionSpec): Promise<Connection> {
    const key = connectionKey(spec);
    let c = this.conns.get(key);
    if (!c) {
      c = { name: spec.name, conn: this.open(spec) };
      this.conns.set(key, c);
      // an unreachable host is remembered by its connection (it throws the same error on use)
    }
    return c.conn;
  }

  /** `meta: reset_connection`: close the host's connections; the next task opens new ones. */
  async reset(name: string): Promise<void> {
    const mine = [...this.conns].filter(([, c]) => c.name === name);
    for (const [k] of mine) this.conns.delete(k);
    await Promise.all(mine.map(async ([, c]) => (await c.conn.catch(() => null))?.close().catch(() => undefined)));
  }

  private async open(spec: ConnectionSpec): Promise<Connection> {
    if (spec.type === 'local') return new LocalConnection(spec.name, { maxSessions: this.maxChannelsPerHost });
    // ssh2 is loaded on first SSH use only: it is most of start-up time, and local runs never need it
    const { SshConnection } = await import('./ssh');
    const conn = new SshConnection(spec, { maxSessions: this.maxChannelsPerHost });
    await conn.connect();
    return conn;
  }

  async closeAll(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map(async (c) => (await c.conn.catch(() => null))?.close().catch(() => undefined)));
  }
}
