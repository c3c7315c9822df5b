/**
 * Ctrl-C on the local connection: the aborted command gets SIGINT (its own INT trap runs), a
 * `timeout` command (its own process group) too, one that ignores SIGINT is killed after the
 * grace period, an idle shell survives a stray SIGINT, and a command with stdin (how writes are
 * sent) is never interrupted half-way: its data cannot be left to be read as command lines.
 */

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InterruptedError } from '../../../runner/errors';
import { LocalConnection } from '../../../runner/connection/local';
import { INTERRUPT_GRACE_MS } from '../../../runner/connection/shell-session';

jest.setTimeout(60_000);

let conn: LocalConnection;
let dir: string;
beforeEach(() => {
  conn = new LocalConnection('li', { maxSessions: 2 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-li-'));
});
afterEach(async () => {
  await conn.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const tag = (): string => `30.${process.pid % 1000}${Date.now() % 10000}`;

function running(args: string): number {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.trim() === args).length;
}

async function interrupt(cmd: string, opts: { timeoutMs?: number; stdin?: string } = {}, afterMs = 300): Promise<{ err: unknown; ms: number }> {
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

test('the command gets SIGINT: its INT trap runs; then the connection goes on with a fresh shell', async () => {
  const file = path.join(dir, 'cleaned');
  const t = tag();
  const { err, ms } = await interrupt(`trap 'echo cleaned > ${file}; exit 3' INT; sleep ${t}; echo not-reached`);
  expect(err).toBeInstanceOf(InterruptedError);
  expect(ms).toBeLessThan(1000);
  expect(fs.readFileSync(file, 'utf8')).toBe('cleaned\n');
  expect((await conn.exec('echo after')).stdout.toString()).toBe('after\n');
  await new Promise((r) => setTimeout(r, 200));
  expect(running(`sleep ${t}`)).toBe(0);
});

test('a command under timeout (its own process group) is interrupted too', async () => {
  const t = tag();
  const { err, ms } = await interrupt(`sleep ${t}`, { timeoutMs: 25_000 });
  expect(err).toBeInstanceOf(InterruptedError);
  expect(ms).toBeLessThan(1000);
  await new Promise((r) => setTimeout(r, 200));
  expect(running(`sleep ${t}`)).toBe(0);
});

test('a command that ignores SIGINT is killed after the grace period', async () => {
  const t = tag();
  const { err, ms } = await interrupt(`trap '' INT; sleep ${t}`);
  expect(err).toBeInstanceOf(InterruptedError);
  expect(ms).toBeGreaterThanOrEqual(INTERRUPT_GRACE_MS - 50);
  expect(ms).toBeLessThan(INTERRUPT_GRACE_MS + 1500);
  await new Promise((r) => setTimeout(r, 800));
  expect(running(`sleep ${t}`)).toBe(0);
});

test('an idle shell survives a stray SIGINT to its process group', async () => {
  const [pid, pgid] = (await conn.exec('read -r a b c d g r </proc/$$/stat; echo "$$ $g"')).stdout.toString().trim().split(' ');
  process.kill(-Number(pgid), 'SIGINT');
  await new Promise((r) => setTimeout(r, 200));
  expect((await conn.exec('echo $$')).stdout.toString().trim()).toBe(pid);
});

test('a command with stdin is ended with its shell, and no stdin byte is run as a command', async () => {
  const marker = path.join(dir, 'ran-from-stdin');
  const t = tag();
  // the data looks like a command line: were it left in the shell's input it would run
  const { err } = await interrupt(`sleep ${t}; cat >/dev/null`, { stdin: `touch ${marker}\n`.repeat(1000) });
  expect(err).toBeInstanceOf(InterruptedError);
  expect((await conn.exec('echo next')).stdout.toString()).toBe('next\n');
  await new Promise((r) => setTimeout(r, 300));
  expect(fs.existsSync(marker)).toBe(false);
  expect(running(`sleep ${t}`)).toBe(0);
});
