/**
 * Issue 12 item 3, over real SSH (the loopback sshd fixture): the controller is SIGKILLed at
 * random moments while it sends a 32 MiB file. Whatever the moment, once the host side has
 * finished the target holds exactly the old or the new bytes, and no temp file or private temp
 * directory is left in the target's directory. The controller is a child node process running
 * the real SshConnection + writeFile from dist/ (write-kill-child.js).
 */

import { ChildProcess, spawn } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { SshConnection } from '../../../runner/connection/ssh';
import { createRemote } from '../../../runner/connection/remote';
import { writeScript } from '../../../runner/connection/write-script';
import { InterruptedError } from '../../../runner/errors';
import { startSshd, Sshd } from './sshd-fixture';

jest.setTimeout(120_000);

const SIZE = 32 * 1024 * 1024;
const KILLS = 9;
const CHILD = path.join(__dirname, 'write-kill-child.js');

let sshd: Sshd;
let dir: string;
const files: Record<'a' | 'b', { file: string; sha: string }> = {} as never;

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const leftovers = (): string[] => fs.readdirSync(dir).filter((n) => n.startsWith('.tsplay-'));

/** pids of processes started by sessions of this sshd (they carry SSH_CONNECTION with its port) */
function hostProcesses(): number[] {
  const mine: number[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const env = fs.readFileSync(`/proc/${e}/environ`, 'latin1');
      if (new RegExp(`(^|\\0)SSH_CONNECTION=\\S+ \\d+ 127\\.0\\.0\\.1 ${sshd.port}(\\0|$)`).test(env)) mine.push(Number(e));
    } catch {
      // gone, or a kernel thread
    }
  }
  return mine;
}

async function quiescent(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (hostProcesses().length > 0) {
    if (Date.now() > until) throw new Error(`the host side still runs after ${ms} ms: ${hostProcesses().join(' ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Run the controller writing `which`; SIGKILL it `killAfterMs` after it is connected (undefined: let it finish). */
function controller(target: string, which: 'a' | 'b', killAfterMs?: number): Promise<{ outcome: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, [CHILD, JSON.stringify(sshd.spec()), target, files[which].file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let readyAt = 0;
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (!readyAt && out.includes('ready\n')) {
        readyAt = Date.now();
        if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = readyAt ? Date.now() - readyAt : 0;
      if (out.includes('done\n') && code === 0) resolve({ outcome: 'done', ms });
      else if (signal === 'SIGKILL') resolve({ outcome: 'killed', ms });
      else reject(new Error(`controller failed (code ${code}, signal ${signal}): ${err}`));
    });
  });
}

beforeAll(async () => {
  sshd = await startSshd();
  dir = path.join(sshd.dir, 'kill target dir');
  fs.mkdirSync(dir);
  for (const k of ['a', 'b'] as const) {
    const data = randomBytes(SIZE);
    const file = path.join(sshd.dir, `data-${k}`);
    fs.writeFileSync(file, data);
    files[k] = { file, sha: sha(data) };
  }
});
afterAll(async () => {
  await sshd?.stop();
});

test(`SIGKILL of the controller at ${KILLS} random moments of a 32 MiB write: the target is always old or new, nothing left behind`, async () => {
  const target = path.join(dir, 'big file.bin');
  fs.copyFileSync(files.a.file, target);
  const current = (): 'a' | 'b' | 'torn' => {
    const h = sha(fs.readFileSync(target));
    return h === files.a.sha ? 'a' : h === files.b.sha ? 'b' : 'torn';
  };
  // one write to the end: proves the path works and measures how long a write takes here
  const full = await controller(target, 'b');
  expect(full.outcome).toBe('done');
  expect(current()).toBe('b');
  const figures: string[] = [`full write ${full.ms} ms`];
  for (let i = 0; i < KILLS; i++) {
    const before = current();
    expect(before).not.toBe('torn');
    const next = before === 'a' ? 'b' : 'a';
    // one random moment in each of KILLS equal slices of 1.4 x the full write: the transfer,
    // the host's checks and commit (which end after the controller has sent its last byte), and
    // a little past the end
    const slice = (full.ms * 1.4) / KILLS;
    const at = Math.floor(slice * (i + Math.random()));
    const r = await controller(target, next, at);
    await quiescent(15_000);
    const after = current();
    figures.push(`kill at ${at} ms: ${r.outcome}, target ${after === before ? 'old' : after === next ? 'new' : 'TORN'}`);
    expect({ iteration: i, at, target: after === 'torn' ? 'torn (neither old nor new)' : 'old or new', leftovers: leftovers() }).toEqual({
      iteration: i,
      at,
      target: 'old or new',
      leftovers: [],
    });
    if (after === next) expect(fs.statSync(target).mode & 0o777).toBe(0o640);
  }
  if (process.env.TSPLAY_TEST_FIGURES) process.stderr.write(`${figures.join('\n')}\n`);
});

/** The write script with a validator that takes its time, so that the write is surely in flight. */
function slowWrite(target: string, data: Buffer): string {
  return writeScript({
    tok: 'tsplay-w-test',
    path: target,
    nonce: randomBytes(8).toString('hex'),
    size: data.length,
    sha256: sha(data),
    validate: ['sh', '-c', 'sleep 30', 'sh', '%s'],
  });
}

test('a second Ctrl-C (the session is killed: TERM, KILL 1 s later) while a write runs: its trap removes the private dir', async () => {
  const target = path.join(dir, 'ctrl-c');
  fs.writeFileSync(target, 'old');
  const conn = new SshConnection(sshd.spec());
  try {
    const data = randomBytes(1024 * 1024);
    const ac = new AbortController();
    const running = conn.exec(slowWrite(target, data), { stdin: data, signal: ac.signal });
    // in flight: the private directory exists and the validator sleeps in it
    const until = Date.now() + 10_000;
    while (leftovers().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(leftovers()).toHaveLength(1);
    ac.abort();
    await expect(running).rejects.toBeInstanceOf(InterruptedError);
    await quiescent(15_000);
    expect(leftovers()).toEqual([]);
    expect(fs.readFileSync(target, 'utf8')).toBe('old');
  } finally {
    await conn.close();
  }
});

test('a KILL that leaves the private dir behind (no trap can run): the next write into the directory removes it', async () => {
  const target = path.join(dir, 'killed');
  fs.writeFileSync(target, 'old');
  const conn = new SshConnection(sshd.spec());
  const data = randomBytes(1024 * 1024);
  const running = conn.exec(slowWrite(target, data), { stdin: data }).catch((e: Error) => e);
  const until = Date.now() + 10_000;
  while (leftovers().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(leftovers()).toHaveLength(1);
  // everything the session runs: the shell, the script, the validator. Stopped first, all of
  // them, so that none can run a trap while the others are being killed (on a loaded machine a
  // shell killed before its child ran its EXIT trap in between and removed the directory); again
  // until none is left: one may have been starting while the list was read
  for (let round = 0; round < 5; round++) {
    for (const pid of hostProcesses()) {
      try {
        process.kill(pid, 'SIGSTOP');
      } catch {
        // already gone
      }
    }
  }
  for (let round = 0; hostProcesses().length > 0 && round < 100; round++) {
    for (const pid of hostProcesses()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await running;
  await quiescent(15_000);
  expect(leftovers()).toHaveLength(1);
  await conn.close().catch(() => undefined);
  const next = new SshConnection(sshd.spec());
  try {
    await createRemote(next).writeFile(path.join(dir, 'another file'), 'x');
    expect(leftovers()).toEqual([]);
    expect(fs.readFileSync(target, 'utf8')).toBe('old');
  } finally {
    await next.close();
  }
});
