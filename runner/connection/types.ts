/**
 * The Connection interface the executor talks to. local.ts and ssh.ts implement it; the
 * executor never knows which one it has. `remote.ts` builds the module-facing Probe/Remote on
 * top of a Connection (readFile, stat, atomic writeFile all go through `exec`).
 */

import type { ExecOptions } from '../module-api';

export interface BecomeSpec {
  /** target user, default root */
  user: string;
  method: 'sudo' | 'su';
  /** fed on stdin, never on a command line, never printed */
  password?: string;
  /** extra flags for sudo/su */
  flags?: string;
}

export type HostKeyPolicy = 'strict' | 'accept-new' | 'off';

export interface ConnectionSpec {
  /** inventory_hostname (used in every message) */
  name: string;
  type: 'local' | 'ssh';
  /** ansible_host or the name */
  address: string;
  port: number;
  user?: string;
  privateKeyFile?: string;
  password?: string;
  /** passphrase for an encrypted private key */
  passphrase?: string;
  hostKeyChecking: HostKeyPolicy;
  /** default ~/.ssh/known_hosts */
  knownHostsFile: string;
  /** connect timeout */
  timeoutMs: number;
  /** ms of silence between keepalives (0: none); default 15 s */
  keepaliveIntervalMs?: number;
  /** unanswered keepalives in a row after which the host is unreachable; default 3 */
  keepaliveCountMax?: number;
  /** jump host (ProxyJump): user@host:port */
  jump?: { address: string; port: number; user?: string };
}

export interface RawExecResult {
  rc: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface ConnExecOptions extends ExecOptions {
  become?: BecomeSpec;
}

export interface Connection {
  readonly name: string;
  /**
   * Run `cmd` with /bin/sh on the host as the login user, or as `opts.become`.
   * Throws UnreachableError when the host cannot be reached (after one reconnect attempt),
   * HostKeyError on a key mismatch. A non-zero rc is NOT an exception.
   */
  exec(cmd: string, opts?: ConnExecOptions): Promise<RawExecResult>;
  close(): Promise<void>;
}
