/**
 * Ctrl-C over real SSH (the loopback sshd of sshd-fixture.ts): an aborted command gets SIGINT
 * on the host, as on a terminal, through a separate channel; `timeout` commands (their own
 * process group) too; one that ignores SIGINT is killed after the grace period. The host is this
 * machine, so `ps` here sees the remote processes.
 */

import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { InterruptedError } from '../../../runner/errors';
import { INTERRUPT_GRACE_MS } from '../../../runner/connection/shell-session';
import { SshConnection } from '../../../runner/connection/ssh';
import { startSshd, Sshd } from './sshd-fixture';
import { BIN } from '../../helpers/run-tsplay';

jest.setTimeout(60_000);

let sshd: Sshd;
const opened: SshConnection[] = [];
const connect = (): SshConnection => {
  const c = new SshConnection(sshd.spec());
  opened.push(c);
  return c;
};

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await Promise.all(opened.map((c) => c.close().catch(() => undefined)));
  await sshd?.stop();
});

/** a sleep duration of about 30 s that nothing else runs */
const tag = (): string => `30.${process.pid % 1000}${Date.now() % 10000}`;

function running(args: string): number {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.trim() === args).length;
}

/** Abort `afterMs` into the command; resolves with the error and ms from abort to rejection. */
async function interrupt(conn: SshConnection, cmd: string, opts: { timeoutMs?: number } = {}, afterMs = 400): Promise<{ err: unknown; ms: number }> {
  const ac = new AbortController();
  let abortedAt = 0;
  setTimeout(() => {
    abortedAt = Date.now();
    ac.abort();
  }, afterMs);
  const err = await conn.exec(cmd, { ...opts, signal: ac.signal }).then(
    () => null,
    (e) => e,
  );
  return { err, ms: Date.now() - abortedAt };
}

test('sleep 30 is interrupted within 2 s and is gone from the host; the connection goes on', async () => {
  const conn = connect();
  await conn.exec('true');
  const t = tag();
  const { err, ms } = await interrupt(conn, `sleep ${t}`);
  expect(err).toBeInstanceOf(InterruptedError);
  expect(ms).toBeLessThan(2000);
  await new Promise((r) => setTimeout(r, 200));
  expect(running(`sleep ${t}`)).toBe(0);
  expect((await conn.exec('echo after')).stdout.toString()).toBe('after\n');
  expect(conn.connects).toBe(1);
});

test('the command gets SIGINT, not a kill: its own INT trap runs its cleanup', async () => {
  const conn = connect();
  const t = tag();
  const file = path.join(sshd.dir, `cleaned-${t}`);
  const { err, ms } = await interrupt(conn, `trap 'echo cleaned > ${file}; exit 3' INT; sleep ${t}; echo not-reached`);
  expect(err).toBeInstanceOf(InterruptedError);
  expect(ms).toBeLessThan(2000);
  expect(fs.readFileSync(file, 'utf8')).toBe('cleaned\n');
});

test('a command run under timeout (its own process group) is interrupted too', async () => {
  const conn = connect();
  const t = tag();
  const { err, ms } = await interrupt(conn, `sleep ${t}`, { timeoutMs: 25_000 });
  expect(err).toBeInstanceOf(InterruptedError);
  expect(ms).toBeLessThan(2000);
  await new Promise((r) => setTimeout(r, 200));
  expect(running(`sleep ${t}`)).toBe(0);
});

test('a command that ignores SIGINT is killed after the grace period', async () => {
  const conn = connect();
  const t = tag();
  const { err, ms } = await interrupt(conn, `trap '' INT; sleep ${t}`);
  expect(err).toBeInstanceOf(InterruptedError);
  expect(ms).toBeGreaterThanOrEqual(INTERRUPT_GRACE_MS - 50);
  expect(ms).toBeLessThan(INTERRUPT_GRACE_MS + 2000);
  // the kill from another channel TERMs, then KILLs after 1 s
  await new Promise((r) => setTimeout(r, 1500));
  expect(running(`sleep ${t}`)).toBe(0);
  expect((await conn.exec('echo fresh')).stdout.toString()).toBe('fresh\n');
});

test('an idle shell that gets a late SIGINT lives on (the interrupt may arrive after the command ended)', async () => {
  const conn = connect();
  // ($$ in the command's subshell is the shell's pid) the pid/pgid of the current shell, then a SIGINT to its group while it waits for a line
  const ids = (await conn.exec('read -r a b c d g r </proc/$$/stat; echo "$$ $g"')).stdout.toString().trim().split(' ');
  spawnSync('kill', ['-INT', '--', `-${ids[1]}`]);
  await new Promise((r) => setTimeout(r, 200));
  expect((await conn.exec('echo $$')).stdout.toString().trim()).toBe(ids[0]);
});

test('the CLI over SSH: Ctrl-C during a long command exits 130 at once and the remote sleep is gone', async () => {
  const t = tag();
  const dir = fs.mkdtempSync(path.join(sshd.dir, 'cli-'));
  fs.writeFileSync(
    path.join(dir, 'hosts'),
    `sshhost ansible_host=127.0.0.1 ansible_port=${sshd.port} ansible_user=root ansible_ssh_private_key_file=${sshd.clientKey} tsplay_known_hosts_file=${path.join(dir, 'known_hosts')}\n`,
  );
  fs.writeFileSync(path.join(dir, 'site.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n    - shell: touch ${dir}/started && exec sleep ${t}\n    - shell: touch ${dir}/later\n`);
  const child = spawn(process.execPath, [BIN, 'run', 'site.yml', '-i', 'hosts'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  let sentAt = 0;
  const code = await new Promise<number>((resolve) => {
    const poll = setInterval(() => {
      if (fs.existsSync(path.join(dir, 'started'))) {
        clearInterval(poll);
        sentAt = Date.now();
        child.kill('SIGINT');
      }
    }, 20);
    child.on('exit', (c) => {
      clearInterval(poll);
      resolve(c ?? -1);
    });
  });
  const ms = Date.now() - sentAt;
  expect({ code, output }).toEqual({ code: 130, output: expect.stringMatching(/interrupted after/) });
  expect(sentAt).toBeGreaterThan(0);
  expect(ms).toBeLessThan(2000);
  expect(fs.existsSync(path.join(dir, 'later'))).toBe(false);
  await new Promise((r) => setTimeout(r, 200));
  expect(running(`sleep ${t}`)).toBe(0);
});
