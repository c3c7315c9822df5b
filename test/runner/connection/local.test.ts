import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InterruptedError } from '../../../runner/errors';
import { BecomeError, CommandTimeoutError, SessionDiedError } from '../../../runner/connection/errors';
import { LocalConnection, spawnChannel } from '../../../runner/connection/local';
import { buildCommandLine, randomPrompt, ShellSession, shellArgv } from '../../../runner/connection/shell-session';
import { ensurePackages } from './sshd-fixture';

jest.setTimeout(30_000);

let conn: LocalConnection;
let dir: string;

beforeAll(() => {
  ensurePackages();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-local-'));
  conn = new LocalConnection('local-test');
});
afterAll(async () => {
  await conn.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('framing', () => {
  test('binary output with every byte value and no trailing newline, byte for byte', async () => {
    const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\0\n\r\xff end')]);
    const f = path.join(dir, 'bin');
    fs.writeFileSync(f, bytes);
    const r = await conn.exec(`cat ${f}; cat ${f} >&2`);
    expect(r.rc).toBe(0);
    expect(r.stdout.equals(bytes)).toBe(true);
    expect(r.stderr.equals(bytes)).toBe(true);
  });

  test('output that imitates the markers does not confuse the framing', async () => {
    // the exact shape of our records, with a made-up token, plus the ready line
    const fake = `tsplay${'a'.repeat(32)}s\ntsplay${'b'.repeat(32)}e0;tsplay-ready 1\n`;
    const r = await conn.exec(`printf '%s' '${fake}'; printf '%s' '${fake}' >&2; exit 3`);
    expect(r).toEqual({ rc: 3, stdout: Buffer.from(fake), stderr: Buffer.from(fake) });
    // a command cannot print the real token: it is not in its environment or shell variables
    const v = await conn.exec('set; env');
    expect(v.stdout.toString()).not.toMatch(/tsplay[0-9a-f]{32}/);
    const next = await conn.exec('echo fine');
    expect(next.stdout.toString()).toBe('fine\n');
  });

  test('1 MiB on stdout and stderr at once', async () => {
    const big = randomBytes(1024 * 1024);
    const f = path.join(dir, 'big');
    fs.writeFileSync(f, big);
    const r = await conn.exec(`cat ${f} & cat ${f} >&2; wait`);
    expect(r.stdout.equals(big)).toBe(true);
    expect(r.stderr.equals(big)).toBe(true);
  });

  test('interleaved stdout and stderr stay on their own streams', async () => {
    const r = await conn.exec('i=0; while [ $i -lt 200 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done');
    const want = (p: string): string => Array.from({ length: 200 }, (_, i) => `${p}${i}\n`).join('');
    expect(r.stdout.toString()).toBe(want('out'));
    expect(r.stderr.toString()).toBe(want('err'));
  });

  test('a command with a syntax error fails alone; the shell goes on', async () => {
    const r = await conn.exec("echo 'unterminated");
    expect(r.rc).toBe(2);
    expect(r.stderr.toString()).toMatch(/[Ss]yntax error|Unterminated/);
    expect((await conn.exec('echo ok')).stdout.toString()).toBe('ok\n');
  });

  test('exit in a command ends only that command', async () => {
    expect((await conn.exec('exit 7')).rc).toBe(7);
    expect((await conn.exec('echo still here')).stdout.toString()).toBe('still here\n');
  });

  test('the command line is one line even with newlines in the command', () => {
    const l = buildCommandLine('echo a\necho b', { cwd: '/x\ny', env: { A: 'p\nq' } });
    expect(l.text.indexOf('\n')).toBe(l.text.length - 1);
  });
});

describe('stdin', () => {
  test('stdin is /dev/null by default', async () => {
    const r = await conn.exec('cat; echo "rc=$?"');
    expect(r.stdout.toString()).toBe('rc=0\n');
  });

  test('binary stdin delivered exactly', async () => {
    const data = Buffer.concat([randomBytes(100_000), Buffer.from('\nexit 0\n'), Buffer.from([0, 10, 255])]);
    const r = await conn.exec('cat', { stdin: data });
    expect(r.stdout.equals(data)).toBe(true);
  });

  test('unread stdin is drained, never run as a command', async () => {
    const flag = path.join(dir, 'pwned');
    const evil = `\ntouch ${flag}\n`.repeat(1000);
    const r = await conn.exec('head -c 3', { stdin: `abc${evil}` });
    expect(r.stdout.toString()).toBe('abc');
    const r2 = await conn.exec('true', { stdin: evil });
    expect(r2.rc).toBe(0);
    expect((await conn.exec('echo next')).stdout.toString()).toBe('next\n');
    expect(fs.existsSync(flag)).toBe(false);
  });

  test('empty stdin', async () => {
    const r = await conn.exec('wc -c', { stdin: '' });
    expect(r.stdout.toString().trim()).toBe('0');
  });
});

describe('cwd and env', () => {
  test('per command, hostile values, no leaks to the next command', async () => {
    const weird = path.join(dir, `sp ace'q"$(touch x)\`y\`\nnl-ünï`);
    fs.mkdirSync(weird);
    const value = `a b'c"$(echo no)\`echo no\`\nline2 $HOME`;
    const r = await conn.exec('pwd; printf %s "$V"', { cwd: weird, env: { V: value } });
    expect(r.stdout.toString()).toBe(`${weird}\n${value}`);
    const r2 = await conn.exec('pwd; printf %s "${V-unset}"; cd /; export W=1');
    expect(r2.stdout.toString()).not.toContain(weird);
    expect(r2.stdout.toString()).toContain('unset');
    const r3 = await conn.exec('printf %s "${W-unset}"; pwd');
    expect(r3.stdout.toString()).toBe(`unset${process.cwd()}\n`);
  });

  test('a cwd that does not exist fails the command', async () => {
    const r = await conn.exec('echo ran', { cwd: path.join(dir, 'nope') });
    expect(r.rc).not.toBe(0);
    expect(r.stdout.toString()).toBe('');
  });

  test('bad env names are refused before anything runs', async () => {
    await expect(conn.exec('true', { env: { 'A;rm -rf /': 'x' } })).rejects.toThrow(/invalid environment variable name/);
  });
});

describe('timeout, abort, dead shells', () => {
  test('timeout kills the command and its children, not the session', async () => {
    const c = new LocalConnection('t', { maxSessions: 1 });
    try {
      const pidBefore = (await c.exec('echo $$')).stdout.toString();
      const tag = `${Date.now() % 100000}.5`;
      const t0 = Date.now();
      const err = await c.exec(`sleep ${tag} & sleep ${tag}; wait`, { timeoutMs: 400 }).catch((e) => e);
      expect(err).toBeInstanceOf(CommandTimeoutError);
      expect(err.message).toMatch(/timed out after 400 ms/);
      expect(Date.now() - t0).toBeLessThan(3000);
      // same shell afterwards
      expect((await c.exec('echo $$')).stdout.toString()).toBe(pidBefore);
      // the background sleep of the command is gone too
      await new Promise((r) => setTimeout(r, 200));
      const ps = await c.exec(`ps -eo args | grep -c '^sleep ${tag}$' || true`);
      expect(ps.stdout.toString().trim()).toBe('0');
    } finally {
      await c.close();
    }
  });

  test('a command that exits 124 by itself is not a timeout', async () => {
    const r = await conn.exec('exit 124', { timeoutMs: 5000 });
    expect(r.rc).toBe(124);
  });

  test('abort signal interrupts a running command quickly', async () => {
    const c = new LocalConnection('a', { maxSessions: 1 });
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 150);
      const t0 = Date.now();
      await expect(c.exec('sleep 20', { signal: ac.signal })).rejects.toBeInstanceOf(InterruptedError);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect((await c.exec('echo after')).stdout.toString()).toBe('after\n');
    } finally {
      await c.close();
    }
  });

  test('a dead shell is reported, and the next command gets a fresh one', async () => {
    const c = new LocalConnection('d', { maxSessions: 1 });
    try {
      const pid = (await c.exec('echo $$')).stdout.toString();
      const err = await c.exec('echo partial; kill -9 $$; sleep 5').catch((e) => e);
      expect(err).toBeInstanceOf(SessionDiedError);
      expect(err.message).toMatch(/d: the shell running the command died \(killed by SIGKILL\)/);
      const pid2 = (await c.exec('echo $$')).stdout.toString();
      expect(pid2).not.toBe(pid);
      expect(c.sessions).toBe(1);
    } finally {
      await c.close();
    }
  });
});

describe('concurrency', () => {
  test('parallel commands use up to maxSessions shells, queue beyond, each gets its own output', async () => {
    const c = new LocalConnection('c', { maxSessions: 3 });
    try {
      const t0 = Date.now();
      const results = await Promise.all(Array.from({ length: 9 }, (_, i) => c.exec(`sleep 0.3; echo n${i}; echo e${i} >&2`)));
      const took = Date.now() - t0;
      results.forEach((r, i) => {
        expect(r.stdout.toString()).toBe(`n${i}\n`);
        expect(r.stderr.toString()).toBe(`e${i}\n`);
      });
      // 9 commands of 0.3 s on 3 shells: 3 waves
      expect(took).toBeGreaterThanOrEqual(850);
      expect(took).toBeLessThan(3000);
      expect(c.sessions).toBe(3);
    } finally {
      await c.close();
    }
  });
});

describe('become', () => {
  test('sudo and su to another user, one shell per become user', async () => {
    const c = new LocalConnection('b', { maxSessions: 4 });
    try {
      const [a, b, d] = await Promise.all([
        c.exec('id -un', { become: { user: 'nobody', method: 'sudo' } }),
        c.exec('id -un', { become: { user: 'nobody', method: 'su' } }),
        c.exec('id -un'),
      ]);
      expect(a.stdout.toString()).toBe('nobody\n');
      expect(b.stdout.toString()).toBe('nobody\n');
      expect(d.stdout.toString()).toBe(`${os.userInfo().username}\n`);
    } finally {
      await c.close();
    }
  });

  // A user that must give a password: nobody, whose own password is locked, asking sudo.
  const asNobody = (become: { user: string; method: 'sudo' | 'su'; password?: string }) => {
    const prompt = randomPrompt();
    return ShellSession.start(spawnChannel(['runuser', '-u', 'nobody', '--', ...shellArgv(become, prompt)]), {
      host: 'h1',
      become,
      prompt,
      startTimeoutMs: 15_000,
    });
  };

  test('sudo without a password when one is required: clear error, no hang', async () => {
    const t0 = Date.now();
    const err = await asNobody({ user: 'root', method: 'sudo' }).catch((e) => e);
    expect(err).toBeInstanceOf(BecomeError);
    expect(err.message).toMatch(/h1: sudo: a password is required/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  test('a wrong sudo password: clear error, the password never in the message', async () => {
    const err = await asNobody({ user: 'root', method: 'sudo', password: 'not-the-password-xyz' }).catch((e) => e);
    expect(err).toBeInstanceOf(BecomeError);
    expect(err.message).toMatch(/h1: incorrect sudo password/);
    expect(JSON.stringify({ m: err.message, r: err.result })).not.toContain('not-the-password-xyz');
  });

  test('su: no password / a wrong one: clear errors, no hang', async () => {
    const none = await asNobody({ user: 'root', method: 'su' }).catch((e) => e);
    expect(none).toBeInstanceOf(BecomeError);
    expect(none.message).toMatch(/h1: su: a password is required/);
    const wrong = await asNobody({ user: 'root', method: 'su', password: 'wrong-su-pw' }).catch((e) => e);
    expect(wrong).toBeInstanceOf(BecomeError);
    expect(wrong.message).toMatch(/h1: incorrect su password/);
    expect(JSON.stringify({ m: wrong.message, r: wrong.result })).not.toContain('wrong-su-pw');
  });

  test('the right password is fed once on stdin at the prompt, then the shell works', async () => {
    // a stand-in for sudo -S: prompt on stderr, one line from stdin, then the driver
    const become = { user: 'root', method: 'sudo' as const, password: "s3cret 'x' $(y)" };
    const prompt = randomPrompt();
    const fake =
      'printf "%s" "$1" >&2; IFS= read -r pw; [ "$pw" = "$2" ] || { echo "Sorry, try again." >&2; exit 1; }; ' +
      `exec /bin/sh -c "$3"`;
    const argv = shellArgv(become, prompt);
    const s = await ShellSession.start(spawnChannel(['/bin/sh', '-c', fake, 'fake', prompt, become.password, argv[argv.length - 1]]), {
      host: 'h2',
      become,
      prompt,
    });
    const r = await s.run('echo in; cat', { stdin: 'data' });
    expect(r.stdout.toString()).toBe('in\ndata');
    await s.close();
  });
});
