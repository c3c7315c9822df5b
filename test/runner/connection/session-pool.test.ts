import { SessionPool } from '../../../runner/connection/session-pool';
import { becomeKey, shellArgv, type ShellSession } from '../../../runner/connection/shell-session';
import type { BecomeSpec } from '../../../runner/connection/types';

/** A pool whose factory records the become spec of every shell it starts. */
function fakePool() {
  const started: Array<BecomeSpec | undefined> = [];
  const pool = new SessionPool('h', async (become) => {
    started.push(become);
    const s = {
      becomeKey: becomeKey(become),
      alive: true,
      run: async () => ({ rc: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }),
      close: async () => undefined,
    };
    return s as unknown as ShellSession;
  });
  return { pool, started };
}

describe('become shells are cached per method, user AND flags', () => {
  it('a later task with other become_flags gets a shell started with its flags', async () => {
    const { pool, started } = fakePool();
    await pool.exec('true', { become: { method: 'sudo', user: 'nobody', flags: '-E' } });
    await pool.exec('true', { become: { method: 'sudo', user: 'nobody', flags: '-E' } });
    await pool.exec('true', { become: { method: 'sudo', user: 'nobody', flags: '--preserve-env=HOME' } });
    await pool.exec('true', { become: { method: 'sudo', user: 'nobody' } });
    expect(started.map((b) => b?.flags)).toEqual(['-E', '--preserve-env=HOME', undefined]);
  });

  it('the password does not split the cache (it only authenticates)', async () => {
    const { pool, started } = fakePool();
    await pool.exec('true', { become: { method: 'su', user: 'postgres', password: 'a' } });
    await pool.exec('true', { become: { method: 'su', user: 'postgres', password: 'a' } });
    expect(started).toHaveLength(1);
  });
});

describe('shellArgv: the become user is never where su/sudo read options', () => {
  it('su gets `--` before the user', () => {
    const argv = shellArgv({ method: 'su', user: 'postgres', flags: '-m' }, 'P');
    expect(argv.slice(-2)).toEqual(['--', 'postgres']);
    expect(argv[0]).toBe('su');
    expect(argv).toContain('-m');
  });
  it('sudo has the user as the argument of -u, then `--` before the shell', () => {
    const argv = shellArgv({ method: 'sudo', user: 'postgres' }, 'P');
    expect(argv.slice(0, 5)).toEqual(['sudo', '-n', '-H', '-u', 'postgres']);
    expect(argv[5]).toBe('--');
  });
});
