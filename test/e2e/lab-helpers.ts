/**
 * Helpers for test/e2e/01-ssh.test.ts: throw-away inventories and playbooks that point at the
 * staging lab (test/lab), tsplay runs of the real CLI, and checks made from OUTSIDE tsplay
 * through `test/lab/lab exec` (so a bug in tsplay cannot hide itself by misreporting).
 */
import { spawnSync } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { quote } from '../../runner/shell-quote';
import { BIN, ROOT } from '../helpers/run-tsplay';

export const LAB = path.join(ROOT, 'test', 'lab', 'lab');
export const LAB_STATE = path.join(ROOT, 'test', 'lab', '.state');
export const LAB_KEY = path.join(LAB_STATE, 'id_lab');
export const LAB_KNOWN_HOSTS = path.join(LAB_STATE, 'known_hosts');
/** where the lab keeps each host's mounted root on this machine (see test/lab/README.md) */
export const LAB_RUN = process.env.LAB_RUN ?? '/run/tsplay-lab';
export const LAB_HOSTS = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5'];
export const labIp = (host: string): string => `198.18.0.${10 + Number(host.replace('lab', ''))}`;

/** The lab's non-root sudo user and its (lab-only, deliberately public) sudo password. */
export const DEPLOY_USER = 'deploy';
export const DEPLOY_PASSWORD = 'deploy-lab-pw';

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** A shell command on a lab host (`[user@]labN`), through `lab exec` (strict host key checking). */
export function labExec(target: string, cmd: string, timeoutMs = 60_000): Exec {
  const r = spawnSync(LAB, ['exec', target, cmd], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like labExec, but a non-zero exit is an error that shows what the host said. */
export function labSh(target: string, cmd: string, timeoutMs?: number): string {
  const r = labExec(target, cmd, timeoutMs);
  if (r.code !== 0) throw new Error(`${target}: \`${cmd}\` exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** A `lab` subcommand on this machine (regen-hostkey, trust, poweroff, start, status). */
export function labCommand(args: string[], timeoutMs = 240_000): Exec {
  const r = spawnSync(LAB, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) throw r.error;
  const res = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if (res.code !== 0) throw new Error(`lab ${args.join(' ')} exited ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  return res;
}

/** Every lab host up with ssh working, as `lab status` reports it. */
export function labIsUp(): boolean {
  const r = spawnSync(LAB, ['status'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 && LAB_HOSTS.every((h) => new RegExp(`^${h}\\s+up\\s.*ssh=ok`, 'm').test(r.stdout));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `lab exec HOST true` works (a host that was just started). */
export async function waitForSsh(host: string, seconds = 120): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (labExec(host, 'true', 20_000).code === 0) return (Date.now() - t0) / 1000;
    if (Date.now() - t0 > seconds * 1000) throw new Error(`${host}: ssh does not work ${seconds} s after start`);
    await sleep(1000);
  }
}

/**
 * Runs a disruptive step (host key change, poweroff) alone: the lab is shared during development,
 * so wait until no other `tsplay run` is going and announce it in /tmp/lab-busy meanwhile. In
 * `npm test` the suites run one after the other and this returns at once.
 */
export async function exclusiveLab<T>(what: string, fn: () => Promise<T> | T, waitSeconds = 240): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const r = spawnSync('pgrep', ['-af', 'tsplay run'], { encoding: 'utf8' });
    const others = (r.stdout ?? '').split('\n').filter((l) => l.trim() && !l.startsWith(`${process.pid} `));
    if (others.length === 0 && !fs.existsSync('/tmp/lab-busy')) break;
    if (Date.now() - t0 > waitSeconds * 1000) throw new Error(`the lab stayed busy for ${waitSeconds} s:\n${others.join('\n')}`);
    await sleep(3000);
  }
  fs.writeFileSync('/tmp/lab-busy', `01-ssh e2e (pid ${process.pid}): ${what}\n`);
  try {
    return await fn();
  } finally {
    fs.rmSync('/tmp/lab-busy', { force: true });
  }
}

/** A temp project directory with the given files (paths relative to it). */
export function makeDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-ssh-e2e-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return dir;
}

export interface InventoryOptions {
  hosts?: string[];
  /** login user (default root) */
  user?: string;
  /** extra group vars (become settings, ...) */
  vars?: Record<string, unknown>;
}

/**
 * An inventory (YAML; written as JSON, which YAML reads) for the lab hosts: their IPs, the lab
 * key, the lab's known_hosts and STRICT host key checking, so a run can never append to the
 * shared known_hosts file and a changed key is always refused.
 */
export function inventoryYaml(opts: InventoryOptions = {}): string {
  const hosts = Object.fromEntries((opts.hosts ?? LAB_HOSTS).map((h) => [h, { ansible_host: labIp(h) }]));
  const vars = {
    ansible_user: opts.user ?? 'root',
    ansible_ssh_private_key_file: LAB_KEY,
    tsplay_known_hosts_file: LAB_KNOWN_HOSTS,
    tsplay_host_key_checking: 'strict',
    ...opts.vars,
  };
  return JSON.stringify({ all: { hosts, vars } }, null, 2) + '\n';
}

export interface Run extends Exec {
  events: Array<Record<string, any>>;
  seconds: number;
}

/**
 * `tsplay run PLAYBOOK -i INVENTORY ARGS --format json` in `dir`. It runs under setsid, without
 * a controlling terminal, as in CI: a -K prompt then reads stdin (given by `input`) instead of
 * the developer's terminal.
 */
export function tsplayRun(dir: string, playbook: string, inventory: string, args: string[] = [], opts: { input?: string; timeoutMs?: number } = {}): Run {
  const t0 = Date.now();
  const r = spawnSync('setsid', ['-w', process.execPath, BIN, 'run', playbook, '-i', inventory, ...args, '--format', 'json'], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1' },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 180_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const seconds = (Date.now() - t0) / 1000;
  const events: Array<Record<string, any>> = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.trim()) continue;
    try {
      events.push(JSON.parse(line));
    } catch {
      throw new Error(`not a JSON event line: ${line}\nstderr: ${r.stderr}`);
    }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, events, seconds };
}

/** The recap's counters per host. */
export function recapOf(run: Run): Record<string, { ok: number; changed: number; failed: number; unreachable: number; skipped: number }> {
  const r = run.events.find((e) => e.type === 'recap');
  if (!r) throw new Error(`no recap event\n${describeRun(run)}`);
  return r.hosts;
}

export function hostResults(run: Run, host?: string, status?: string): Array<Record<string, any>> {
  return run.events.filter((e) => e.type === 'host_result' && (host === undefined || e.host === host) && (status === undefined || e.status === status));
}

/** Exit code, failures and output of a run, for assertion messages. */
export function describeRun(run: Run): string {
  const bad = run.events
    .filter((e) => e.type === 'host_result' && (e.status === 'failed' || e.status === 'unreachable'))
    .map((e) => `${e.status.toUpperCase()} ${e.host} [${e.task}]: ${e.msg ?? ''}`);
  return [`exit ${run.code} after ${run.seconds.toFixed(1)} s`, ...bad, `stderr: ${run.stderr.slice(-3000)}`, `stdout (end): ${run.stdout.slice(-5000)}`].join('\n');
}

export const sha256 = (data: string | Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

/** sha256 of a file on a host, from outside tsplay (null when it does not exist). */
export function remoteSha256(host: string, file: string): string | null {
  const r = labExec(host, `if [ -f ${quote(file)} ]; then sha256sum < ${quote(file)}; else echo absent; fi`);
  if (r.code !== 0) throw new Error(`${host}: sha256 of ${file}: ${r.stderr}`);
  const out = r.stdout.trim();
  return out === 'absent' ? null : out.split(/\s+/)[0];
}

/** `owner:group mode` of a path on a host (null when absent). */
export function remoteStat(host: string, file: string): string | null {
  const r = labExec(host, `stat -c '%U:%G %a %F' -- ${quote(file)} 2>/dev/null || echo absent`);
  const out = r.stdout.trim();
  return out === 'absent' ? null : out;
}

export function remoteExists(host: string, file: string): boolean {
  const r = labExec(host, `test -e ${quote(file)} || test -L ${quote(file)}`);
  if (r.code > 1) throw new Error(`${host}: test -e ${file}: ${r.stderr}`);
  return r.code === 0;
}

/**
 * One sha256 over every entry below `dirs` on a host: path, type, mode, owner, group, link
 * target, and the content of regular files ("absent" for a missing dir). Mtimes are left out:
 * check mode must not change what is there; the atime/mtime of a read file is not a change.
 */
export function hostTreeHash(host: string, dirs: string[]): string {
  const list = dirs.map((d) => quote(d)).join(' ');
  const script = [
    `for d in ${list}; do [ -e "$d" ] || echo "absent $d"; done`,
    `find ${list} -xdev -printf '%p %y %m %u %g %l\\n' 2>/dev/null | LC_ALL=C sort`,
    `find ${list} -xdev -type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0r sha256sum`,
  ].join('\n');
  return labSh(host, `(${script}) | sha256sum | cut -d' ' -f1`, 180_000).trim();
}

/** SHA256 fingerprints (OpenSSH format) of the public keys in known_hosts lines or .pub files. */
export function fingerprintsOf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /(?:^|\s)((?:ssh|ecdsa)-[\w-]+)\s+([A-Za-z0-9+/=]+)/.exec(line);
    if (!m) continue;
    out.push('SHA256:' + crypto.createHash('sha256').update(Buffer.from(m[2], 'base64')).digest('base64').replace(/=+$/, ''));
  }
  return out;
}
