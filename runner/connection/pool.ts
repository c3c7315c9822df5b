/**
 * One Connection per host name for the whole run: opened on first use, shared by every task,
 * closed at the end. Concurrent first uses share one connect.
 */

import { LocalConnection } from './local';
import type { Connection, ConnectionSpec } from './types';
import { DEFAULT_MAX_SESSIONS } from './session-pool';

export class ConnectionPool {
  private readonly conns = new Map<string, Promise<Connection>>();
  private readonly maxChannelsPerHost: number;

  constructor(opts: { maxChannelsPerHost?: number } = {}) {
    this.maxChannelsPerHost = opts.maxChannelsPerHost ?? DEFAULT_MAX_SESSIONS;
  }

  get(spec: ConnectionSpec): Promise<Connection> {
    let c = this.conns.get(spec.name);
    if (!c) {
      c = this.open(spec);
      this.conns.set(spec.name, c);
      // an unreachable host is remembered by its connection (it throws the same error on use)
    }
    return c;
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
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.close().catch(() => undefined)));
  }
}
