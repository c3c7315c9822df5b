/**
 * SSH connection (node-ssh / ssh2): one TCP connection per host per run, opened on first use and
 * reused; persistent shells on exec channels over it (see shell-session.ts); host keys checked
 * against known_hosts before authentication; a dropped connection is reopened once.
 */

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { NodeSSH } from 'node-ssh';
import type { AnyAuthMethod, Client, ClientChannel, ConnectConfig } from 'ssh2';
import { utils as ssh2Utils } from 'ssh2';
import { HostKeyError, TsplayError, UnreachableError } from '../errors';
import { connectWithRetry, ShedError } from './connect-retry';
import { SessionDiedError } from './errors';
import { DEFAULT_KEEPALIVE_COUNT, DEFAULT_KEEPALIVE_INTERVAL_MS } from '../inventory/connection-vars';
import { knownKeyTypes, readKnownHosts, verifyHostKey } from './known-hosts';
import { DEFAULT_MAX_SESSIONS, SessionPool } from './session-pool';
import { interruptCommand, randomPrompt, SessionExecOptions, ShellChannel, ShellSession, shellCommand } from './shell-session';
import type { BecomeSpec, Connection, ConnExecOptions, ConnectionSpec, RawExecResult } from './types';

export type SshExecOptions = ConnExecOptions & SessionExecOptions;

export interface SshOptions {
  /** channels (persistent shells) per connection; OpenSSH allows 10 (MaxSessions) */
  maxSessions?: number;
  /** where the default keys live (tests) */
  homeDir?: string;
}

const RSA_ALGOS = ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
const DEFAULT_HOST_KEY_ALGOS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  ...RSA_ALGOS,
];

/** Algorithms to offer: the types known_hosts has for the host first (as OpenSSH does). */
export function hostKeyAlgorithms(knownTypes: string[]): string[] {
  const first = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? RSA_ALGOS : [t])).filter((a) => DEFAULT_HOST_KEY_ALGOS.includes(a));
  return [...new Set([...first, ...DEFAULT_HOST_KEY_ALGOS])];
}

interface Target {
  name: string;
  address: string;
  port: number;
  user: string;
}

/** A connect error in words an operator can act on. */
export function describeConnectError(t: Target, e: Error & { code?: string; level?: string }): string {
  const where = `${t.user}@${t.address}:${t.port}`;
  const code = e.code ?? '';
  if (code === 'ECONNREFUSED') return `connection refused by ${where} (is sshd running on that port?)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `cannot resolve host name ${t.address} (DNS)`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `no route to ${t.address}`;
  if (code === 'ETIMEDOUT' || e.level === 'client-timeout' || /Timed out/i.test(e.message)) return `timed out connecting to ${where}`;
  if (code === 'ECONNRESET') return `connection to ${where} reset by the peer`;
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(e.message)) {
    return `authentication failed for ${where} (permission denied)`;
  }
  return `cannot connect to ${where}: ${e.message}`;
}

interface KeySource {
  file: string;
  data: Buffer;
  passphrase?: string;
}

/** Keys to offer: the configured one, else the default ones that exist and we can open. */
function loadKeys(spec: ConnectionSpec, home: string): KeySource[] {
  const check = (file: string, explicit: boolean): KeySource | null => {
    let data: Buffer;
    try {
      data = fs.readFileSync(file);
    } catch (e) {
      if (!explicit) return null;
      throw new UnreachableError(spec.name, `${spec.name}: cannot read private key ${file}: ${(e as Error).message}`);
    }
    const parsed = ssh2Utils.parseKey(data, spec.passphrase);
    if (parsed instanceof Error) {
      if (!explicit) return null;
      if (/no passphrase given/i.test(parsed.message)) {
        const err = new UnreachableError(spec.name, `${spec.name}: private key ${file} is encrypted and needs a passphrase`);
        err.hint = 'give the passphrase for this key, or load the key into ssh-agent';
        throw err;
      }
      if (spec.passphrase !== undefined && /decrypt|bad passphrase|Unsupported state/i.test(parsed.message)) {
        throw new UnreachableError(spec.name, `${spec.name}: cannot decrypt private key ${file}: wrong passphrase?`);
      }
      throw new UnreachableError(spec.name, `${spec.name}: cannot use private key ${file}: ${parsed.message}`);
    }
    return { file, data, passphrase: spec.passphrase };
  };
  if (spec.privateKeyFile) return [check(spec.privateKeyFile, true)!];
  return ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => check(path.join(home, '.ssh', f), false)).filter((k): k is KeySource => k !== null);
}

function authMethods(spec: ConnectionSpec, user: string, home: string): AnyAuthMethod[] {
  const methods: AnyAuthMethod[] = [];
  const agent = process.env.SSH_AUTH_SOCK;
  // Like OpenSSH: an explicitly configured key goes before the agent's keys.
  const keys = loadKeys(spec, home);
  for (const k of keys) methods.push({ type: 'publickey', username: user, key: k.data, passphrase: k.passphrase } as unknown as AnyAuthMethod);
  if (agent) methods.push({ type: 'agent', username: user, agent } as unknown as AnyAuthMethod);
  if (spec.password !== undefined) {
    methods.push({ type: 'password', username: user, password: spec.password } as unknown as AnyAuthMethod);
    const password = spec.password;
    methods.push({
      type: 'keyboard-interactive',
      username: user,
      prompt: (_n: string, _i: string, _l: string, prompts: unknown[], finish: (r: string[]) => void) => finish(prompts.map(() => password)),
    } as unknown as AnyAuthMethod);
  }
  return methods;
}

function channelOf(ch: ClientChannel, client: Client): ShellChannel {
  const closed = new Promise<string>((resolve) => {
    let exit = 'channel closed';
    ch.on('exit', (code: number | null, signal?: string) => {
      exit = signal ? `killed by SIG${signal}` : `exit code ${code}`;
    });
    ch.on('close', () => resolve(exit));
  });
  ch.on('error', () => undefined);
  return {
    stdin: ch,
    stdout: ch,
    stderr: ch.stderr,
    kill: (pgid?: number) => {
      // Closing the channel does not stop a remote command (no pty: no SIGHUP) and OpenSSH
      // refuses "signal" requests here, so kill the shell's process group from another channel
      // (as the login user: enough for the login user's shells and when logging in as root).
      if (pgid && pgid > 1) {
        const killer = `kill -TERM -- -${pgid} 2>/dev/null; sleep 1; kill -KILL -- -${pgid} 2>/dev/null; true`;
        try {
          client.exec(killer, (err, k) => {
            if (!err) {
              k.on('error', () => undefined);
              k.resume();
              k.stderr.resume();
            }
          });
        } catch {
          // connection gone: so is the shell's input
        }
      }
      ch.close();
    },
    // Ctrl-C: SIGINT from another channel (OpenSSH refuses "signal" requests); the shell lives on
    interrupt: (pid: number, pgid: number) => runAside(client, interruptCommand(pid, pgid)),
    closed,
  };
}

/** Run a short command on its own channel without waiting for it (best effort). */
function runAside(client: Client, command: string): void {
  try {
    client.exec(command, (err, k) => {
      if (err) return;
      k.on('error', () => undefined);
      k.resume();
      k.stderr.resume();
    });
  } catch {
    // connection gone: so is the shell's input
  }
}

export class SshConnection implements Connection {
  readonly name: string;
  private client: Client | null = null;
  private jumpClient: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private fatal: UnreachableError | null = null;
  private closed = false;
  private readonly pool: SessionPool;
  private readonly home: string;
  /** number of TCP connections opened (tests, diagnostics) */
  connects = 0;
  /** connect attempts the server dropped before the handshake and that were retried (MaxStartups) */
  handshakeDrops = 0;

  constructor(readonly spec: ConnectionSpec, opts: SshOptions = {}) {
    this.name = spec.name;
    this.home = opts.homeDir ?? os.homedir();
    this.pool = new SessionPool(spec.name, (become) => this.openSession(become), opts.maxSessions ?? DEFAULT_MAX_SESSIONS);
  }

  /** shells open now (tests) */
  get sessions(): number {
    return this.pool.size;
  }

  /** Connect now (the pool does this on first use; exposed to fail fast and for tests). */
  async connect(): Promise<void> {
    await this.ensureClient();
  }

  async exec(cmd: string, opts: SshExecOptions = {}): Promise<RawExecResult> {
    await this.ensureClient();
    try {
      return await this.pool.exec(cmd, opts);
    } catch (e) {
      if (e instanceof SessionDiedError && this.client === null && !this.closed) {
        throw new UnreachableError(this.name, `${this.name}: connection lost while a command was running (its outcome is unknown)`);
      }
      throw e;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
    this.client?.end();
    this.jumpClient?.end();
    this.client = null;
    this.jumpClient = null;
  }

  private async ensureClient(): Promise<Client> {
    if (this.fatal) throw this.fatal;
    if (this.closed) throw new UnreachableError(this.name, `${this.name}: connection already closed`);
    if (this.client) return this.client;
    if (!this.connecting) {
      this.connecting = this.openClient().finally(() => (this.connecting = null));
    }
    try {
      return await this.connecting;
    } catch (e) {
      // A host whose key is wrong or that cannot be reached stays so for this run: no storm of retries.
      if (e instanceof UnreachableError) this.fatal = e;
      throw e;
    }
  }

  private async openSession(become: BecomeSpec | undefined): Promise<ShellSession> {
    const prompt = randomPrompt();
    const command = shellCommand(become, prompt);
    let client = await this.ensureClient();
    let ch: ClientChannel;
    try {
      ch = await execChannel(client, command);
    } catch (e) {
      const msg = (e as Error).message;
      // "open failed" is the server refusing one more channel (MaxSessions): the connection is fine.
      if (this.client === client && /open failed|administratively prohibited/i.test(msg)) {
        throw new SessionDiedError(`${this.name}: the server refused a new channel: ${msg}`);
      }
      // The connection dropped between commands (maybe not noticed yet): reopen it once.
      if (this.client === client) {
        this.client = null;
        this.pool.reset();
        client.end();
      }
      client = await this.ensureClient();
      ch = await execChannel(client, command);
    }
    return ShellSession.start(channelOf(ch, client), { host: this.name, become, prompt, startTimeoutMs: Math.max(this.spec.timeoutMs, 10_000) });
  }

  private async openClient(): Promise<Client> {
    const spec = this.spec;
    const user = spec.user ?? os.userInfo().username;
    const target: Target = { name: spec.name, address: spec.address, port: spec.port, user };
    let sock: NodeJS.ReadableStream | undefined;
    if (spec.jump) {
      const jumpUser = spec.jump.user ?? user;
      const jt: Target = { name: `${spec.name} (jump ${spec.jump.address})`, address: spec.jump.address, port: spec.jump.port, user: jumpUser };
      const jump = await this.dial(jt, [spec.jump.address], undefined);
      this.jumpClient = jump;
      sock = await new Promise((resolve, reject) => {
        jump.forwardOut('127.0.0.1', 0, spec.address, spec.port, (err, stream) => {
          if (err) reject(new UnreachableError(spec.name, `${spec.name}: jump host ${spec.jump!.address} cannot reach ${spec.address}:${spec.port}: ${err.message}`));
          else resolve(stream);
        });
      });
    }
    const client = await this.dial(target, [spec.name, spec.address], sock);
    this.client = client;
    this.connects++;
    const dropped = (): void => {
      if (this.client !== client) return;
      this.client = null;
      // shells on the dead connection are gone; their channels report it as they close
      this.pool.reset();
    };
    client.on('close', dropped);
    client.on('end', dropped);
    return client;
  }

  /** Open one authenticated ssh2 client through node-ssh, host key checked first. */
  private async dial(t: Target, names: string[], sock: NodeJS.ReadableStream | undefined): Promise<Client> {
    const spec = this.spec;
    let hostKeyError: HostKeyError | null = null;
    let knownTypes: string[] = [];
    try {
      if (spec.hostKeyChecking !== 'off') knownTypes = knownKeyTypes(readKnownHosts(spec.knownHostsFile), names, t.port);
    } catch (e) {
      // the host key cannot be checked: refuse before connecting, as a host key problem
      const err = new HostKeyError(spec.name, `${spec.name}: ${(e as Error).message}`);
      err.hint = (e as TsplayError).hint;
      throw err;
    }
    const uniqueNames = [...new Set(names)];
    const config: ConnectConfig = {
      username: t.user,
      port: t.port,
      readyTimeout: spec.timeoutMs,
      // A frozen host (SIGSTOP, a hung kernel) keeps the TCP connection open and answers
      // nothing: only unanswered keepalives tell. ssh2 sends one after each interval of
      // silence and gives up when `count` in a row went unanswered, i.e. after about
      // interval x (count + 1) of silence; interval 0 turns keepalives off.
      keepaliveInterval: spec.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: spec.keepaliveCountMax ?? DEFAULT_KEEPALIVE_COUNT,
      authHandler: authMethods(spec, t.user, this.home),
      algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes) as never },
      hostVerifier: (key: Buffer) => {
        try {
          verifyHostKey({ host: spec.name, names: uniqueNames, port: t.port, key, policy: spec.hostKeyChecking, file: spec.knownHostsFile });
          return true;
        } catch (e) {
          if (e instanceof HostKeyError) hostKeyError = e;
          else hostKeyError = new HostKeyError(spec.name, `${spec.name}: cannot check the host key: ${(e as Error).message}`);
          return false;
        }
      },
    };
    if (sock) (config as { sock?: unknown }).sock = sock;
    else config.host = t.address;
    const once = async (msLeft: number): Promise<Client> => {
      const ssh = new NodeSSH();
      try {
        await ssh.connect({ ...config, readyTimeout: msLeft } as never);
      } catch (e) {
        ssh.connection?.end();
        throw e;
      }
      return ssh.connection!;
    };
    let client: Client;
    try {
      // a forwarded stream through a jump host is used once; a direct TCP connect can be retried
      const r = sock ? { value: await once(spec.timeoutMs), drops: 0 } : await connectWithRetry(once, { timeoutMs: spec.timeoutMs });
      client = r.value;
      this.handshakeDrops += r.drops;
    } catch (e) {
      if (hostKeyError) throw hostKeyError;
      if (e instanceof ShedError) {
        this.handshakeDrops += e.drops;
        const err = new UnreachableError(
          spec.name,
          `${spec.name}: ${describeConnectError(t, e.last)}: the server dropped all ${e.drops} attempts before the SSH handshake within ${(e.elapsedMs / 1000).toFixed(1)} s`,
        );
        err.hint = "the server sheds connections (sshd's MaxStartups?): lower --forks, or raise MaxStartups or --timeout";
        throw err;
      }
      throw new UnreachableError(spec.name, `${spec.name}: ${describeConnectError(t, e as Error)}`);
    }
    // node-ssh stops listening for errors once connected; an unhandled 'error' would crash us.
    client.on('error', () => undefined);
    return client;
  }
}

function execChannel(client: Client, command: string): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    try {
      client.exec(command, (err, ch) => (err ? reject(err) : resolve(ch)));
    } catch (e) {
      reject(e as Error);
    }
  });
}
