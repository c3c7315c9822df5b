/**
 * Issue 12: a frozen sshd (SIGSTOP: TCP stays open, nothing answers) is detected by keepalives
 * after interval x (count + 1) of silence, with the interval and count the spec carries, not
 * after a fixed 60 s. Real sshd on 127.0.0.1 (sshd-fixture.ts); only the fixture's own
 * per-connection processes are stopped, and continued again before the fixture stops.
 */

import * as fs from 'fs';
import { UnreachableError } from '../../../runner/errors';
import { SshConnection } from '../../../runner/connection/ssh';
import { startSshd, Sshd } from './sshd-fixture';

jest.setTimeout(60_000);

let sshd: Sshd;
const stopped = new Set<number>();

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  for (const pid of stopped) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  }
  await sshd?.stop();
});

/** pid and every process below it (the per-connection sshd, its privsep child, the shell). */
function tree(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // exited
  }
  return [pid, ...kids.flatMap(tree)];
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

test.each([
  [1000, 2],
  [500, 3],
])('frozen sshd: unreachable after about %d ms x (%d + 1)', async (intervalMs, count) => {
  const conn = new SshConnection(sshd.spec({ keepaliveIntervalMs: intervalMs, keepaliveCountMax: count }));
  try {
    expect((await conn.exec('echo up')).stdout.toString()).toBe('up\n');
    const before = new Set(sshd.children());
    expect(before.size).toBeGreaterThan(0);
    const running = conn.exec('sleep 30; echo done').then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    // freeze this connection's processes (only the fixture's children: pids we started)
    const t0 = Date.now();
    for (const child of before) {
      for (const pid of tree(child)) {
        process.kill(pid, 'SIGSTOP');
        stopped.add(pid);
      }
    }
    const err = await running;
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toMatch(/connection lost while a command was running/);
    // ssh2 declares the host dead at the (count+1)-th silent interval; the silence began at most
    // one interval before the freeze. Margin: 1.5 s for a busy 2-core machine.
    expect(elapsed).toBeGreaterThanOrEqual(intervalMs * count - 50);
    expect(elapsed).toBeLessThan(intervalMs * (count + 1) + 1500);
    process.stdout.write(`keepalive ${intervalMs} ms x ${count}: frozen sshd detected after ${elapsed} ms\n`);
  } finally {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    stopped.clear();
    await conn.close();
  }
});

test('the CLI flags reach the connection: tsplay run --keepalive-interval 1 --keepalive-count 1 against a frozen sshd', async () => {
  const { spawn } = await import('child_process');
  const path = await import('path');
  const dir = fs.mkdtempSync(path.join(sshd.dir, 'cli-'));
  fs.writeFileSync(path.join(dir, 'hosts.ini'),
    `web ansible_host=127.0.0.1 ansible_port=${sshd.port} ansible_user=root ansible_ssh_private_key_file=${sshd.clientKey} tsplay_known_hosts_file=${path.join(dir, 'known_hosts')}\n`);
  fs.writeFileSync(path.join(dir, 'site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: sleep 30\n');
  const before = new Set(sshd.children());
  const bin = path.resolve(__dirname, '../../../bin/tsplay');
  const child = spawn(process.execPath, [bin, 'run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--keepalive-interval', '1', '--keepalive-count', '1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  try {
    // wait for the command to be running: a new per-connection sshd with a sleep below it
    const until = Date.now() + 20_000;
    let conn: number | undefined;
    while (conn === undefined && Date.now() < until) {
      conn = sshd.children().find((c) => !before.has(c) && tree(c).some((p) => /^sleep\b/.test(cmdline(p))));
      if (conn === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(conn).toBeDefined();
    const t0 = Date.now();
    for (const pid of tree(conn!)) {
      process.kill(pid, 'SIGSTOP');
      stopped.add(pid);
    }
    const code = await exited;
    const elapsed = Date.now() - t0;
    expect({ code, output }).toEqual({ code: 4, output: expect.stringMatching(/unreachable=1/) });
    expect(output).toMatch(/connection lost while a command was running/);
    expect(elapsed).toBeLessThan(1000 * 2 + 1500);
    process.stdout.write(`CLI --keepalive-interval 1 --keepalive-count 1: frozen sshd detected after ${elapsed} ms\n`);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    stopped.clear();
  }
});
