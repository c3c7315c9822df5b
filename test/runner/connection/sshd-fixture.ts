/**
 * A private OpenSSH server for tests (and the bench): 127.0.0.1, a random high port, its own host
 * keys, authorized_keys and client key in a temp dir. It runs in its own mount namespace with
 * Debian's stock dot.bashrc/dot.profile over /root's (this machine's .bashrc runs pyenv init,
 * which would add ~0.5 s to every channel and is not what a real server does). Started and
 * stopped by PID only.
 */

import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { ConnectionSpec } from '../../../runner/connection/types';

export interface Sshd {
  dir: string;
  port: number;
  pid: number;
  /** client private key (ed25519, in authorized_keys) */
  clientKey: string;
  /** the server's ed25519 host public key line ("ssh-ed25519 AAAA...") */
  hostKeyPub: string;
  /** everything sshd logged (-e) */
  log(): string;
  /** pids of sshd's per-connection children (to drop connections) */
  children(): number[];
  stop(): Promise<void>;
  spec(over?: Partial<ConnectionSpec>): ConnectionSpec;
}

/** Install openssh-server/sudo when missing, without starting the system's sshd. */
export function ensurePackages(): void {
  const missing = [
    ['/usr/sbin/sshd', 'openssh-server'],
    ['/usr/bin/sudo', 'sudo'],
  ].filter(([f]) => !fs.existsSync(f));
  if (missing.length === 0) return;
  // policy-rc.d exit 101: the package's postinst must not start the machine's own sshd
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = fs.existsSync(policy);
  if (!hadPolicy) fs.writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing.map(([, p]) => p)], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } finally {
    if (!hadPolicy) fs.rmSync(policy, { force: true });
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function keygen(file: string, type: string, extra: string[] = []): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'tsplay-test', '-f', file, ...extra], { stdio: 'ignore' });
}

async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('data', () => {
        c.destroy();
        resolve(true);
      });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`sshd did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startSshd(extraConfig = ''): Promise<Sshd> {
  ensurePackages();
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-sshd-'));
  keygen(path.join(dir, 'host_ed25519'), 'ed25519');
  keygen(path.join(dir, 'host_rsa'), 'rsa', ['-b', '2048']);
  keygen(path.join(dir, 'client_ed25519'), 'ed25519');
  fs.copyFileSync(path.join(dir, 'client_ed25519.pub'), path.join(dir, 'authorized_keys'));
  const port = await freePort();
  const cfg = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    cfg,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${dir}/host_ed25519`,
      `HostKey ${dir}/host_rsa`,
      `PidFile ${dir}/sshd.pid`,
      `AuthorizedKeysFile ${dir}/authorized_keys`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'MaxSessions 10',
      'LogLevel VERBOSE',
      extraConfig,
      '',
    ].join('\n'),
  );
  const script =
    'mount --bind /usr/share/base-files/dot.bashrc /root/.bashrc 2>/dev/null; ' +
    'mount --bind /usr/share/base-files/dot.profile /root/.profile 2>/dev/null; ' +
    'exec /usr/sbin/sshd -D -e -f "$0"';
  const child: ChildProcess = spawn('unshare', ['-m', 'sh', '-c', script, cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    await waitForPort(port, 10_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${log}`);
  }
  const pid = child.pid!;
  const children = (): number[] => {
    try {
      return fs
        .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  return {
    dir,
    port,
    pid,
    clientKey: path.join(dir, 'client_ed25519'),
    hostKeyPub: fs.readFileSync(path.join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' '),
    log: () => log,
    children,
    stop: async () => {
      for (const c of children()) {
        try {
          process.kill(c, 'SIGKILL');
        } catch {
          // gone
        }
      }
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
    spec: (over = {}) => ({
      name: 'sshtest',
      type: 'ssh',
      address: '127.0.0.1',
      port,
      user: 'root',
      privateKeyFile: path.join(dir, 'client_ed25519'),
      hostKeyChecking: 'accept-new',
      knownHostsFile: path.join(dir, 'known_hosts'),
      timeoutMs: 10_000,
      ...over,
    }),
  };
}
