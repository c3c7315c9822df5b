import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import * as zlib from 'zlib';
import pgBackup, { backupCommand, isReadyCommand } from '../../../modules/postgres_backup';
import { FakeHost, HOSTILE, LocalHost, readOnly, runTask, validate } from './fake';

const args = (o: Record<string, unknown> = {}) => validate(pgBackup, o).args;

describe('postgres_backup (fake host)', () => {
  test('no server: skipped with a clear message (skip_if_down), else a failure', async () => {
    const h = new FakeHost().onQuery('pg_isready', { rc: 2, stdout: '/var/run/postgresql:5432 - no response\n' });
    const r = await runTask(pgBackup, {}, h);
    expect(r.plan).toMatchObject({ skipped: true, changes: [], msg: 'no PostgreSQL server answers on local socket, port 5432 (pg_isready: no response): backup skipped' });
    expect(h.calls.map((c) => c.cmd)).toEqual(['pg_isready -p 5432']);
    await expect(runTask(pgBackup, { skip_if_down: false, host: '10.0.0.5', port: 5433 }, h)).rejects.toThrow('no PostgreSQL server answers on 10.0.0.5, port 5433 (pg_isready: no response)');
    expect(h.cmds('query')[1]).toBe('pg_isready -p 5433 -h 10.0.0.5');
    await expect(runTask(pgBackup, {}, new FakeHost().onQuery('pg_isready', { rc: 127 }))).rejects.toThrow('pg_isready not found on db1 (set bin_dir?)');
    await expect(runTask(pgBackup, {}, new FakeHost().onQuery('pg_isready', { rc: 3 }))).rejects.toThrow('no attempt (bad connection parameters)');
  });

  test('server up: check mode is skipped, names the file a real run writes and runs nothing', async () => {
    const h = new FakeHost().onQuery('pg_isready', { rc: 0 });
    const ro = readOnly(h);
    const r = await runTask(pgBackup, { method: 'pg_basebackup', label: 'pre-ha' }, ro, { check: true });
    expect(r.plan.skipped).toBe(true);
    expect(r.plan.changes).toEqual([]);
    expect(r.changed).toBe(false);
    expect(r.result.msg).toBe('check mode: no backup taken (a real run writes /var/backups/tsplay/pre-ha-YYYYMMDD-HHMMSS.basebackup.tar.gz)');
    expect(ro.violations).toEqual([]);
  });

  test('server up: a real run plans the backup command', async () => {
    const r = await runTask(pgBackup, { method: 'pg_basebackup', label: 'pre-ha' }, new FakeHost().onQuery('pg_isready', { rc: 0 }).onExec(/pg_basebackup/, { stdout: 'size 1\nbackup /var/backups/tsplay/pre-ha-20240101-000000.basebackup.tar.gz' }));
    expect(r.plan.changes).toEqual([{ kind: 'exec', summary: 'pg_basebackup to /var/backups/tsplay/pre-ha-YYYYMMDD-HHMMSS.basebackup.tar.gz', command: backupCommand(args({ method: 'pg_basebackup', label: 'pre-ha' })) }]);
  });

  test('apply returns backup path and size', async () => {
    const h = new FakeHost().onQuery('pg_isready', { rc: 0 }).onExec(/pg_dumpall/, { stdout: 'size 2048\nbackup /var/backups/tsplay/postgres-20240101-000000.sql.gz' });
    const r = await runTask(pgBackup, {}, h);
    expect(r.result).toMatchObject({ backup: '/var/backups/tsplay/postgres-20240101-000000.sql.gz', size: 2048, method: 'pg_dumpall' });
    const f = new FakeHost().onQuery('pg_isready', { rc: 0 }).onExec(/pg_dumpall/, { rc: 1, stderr: 'the backup tool failed (dump=1 gzip=0)\n' });
    await expect(runTask(pgBackup, {}, f)).rejects.toThrow('pg_dumpall failed (rc=1): the backup tool failed (dump=1 gzip=0)');
  });

  test('bad arguments', () => {
    expect(validate(pgBackup, { method: 'pg_dump' }).valid).toBe(false);
    expect(validate(pgBackup, { port: 0 }).valid).toBe(false);
    expect(validate(pgBackup, { dest_dir: 'rel' }).valid).toBe(false);
    expect(validate(pgBackup, { label: 'a/b' }).valid).toBe(false);
    expect(validate(pgBackup, { bin_dir: 'usr/bin' }).valid).toBe(false);
    expect(validate(pgBackup, { become_user: 'x' }).valid).toBe(false);
    // os_user reaches runuser -u and a test: only account names (no option, space, number, ...)
    for (const bad of ['', '-x', '--help', 'a b', 'post$(id)gres', '1000', 'x'.repeat(33), 'a:b', 'ü']) {
      expect([bad, validate(pgBackup, { os_user: bad }).valid]).toEqual([bad, false]);
    }
    for (const good of ['postgres', 'enterprisedb', 'pg_admin', 'svc-pg.1', 'machine$']) expect([good, validate(pgBackup, { os_user: good }).valid]).toEqual([good, true]);
    expect(args()).toEqual({ method: 'pg_dumpall', dest_dir: '/var/backups/tsplay', label: 'postgres', port: 5432, os_user: 'postgres', skip_if_down: true });
  });
});

/**
 * Real runs: /bin/sh, runuser, gzip; the PostgreSQL tools are stand-ins (in bin_dir) that print
 * their argv and who they run as, since no server runs on this machine.
 */
describe('postgres_backup (real /bin/sh, runuser and gzip; stand-in PostgreSQL tools)', () => {
  let root: string;
  let bin: string;
  beforeEach(() => {
    root = fs.mkdtempSync('/tmp/tsplay-pg-');
    bin = path.join(root, 'bin');
    fs.mkdirSync(bin);
    fs.chmodSync(root, 0o755);
    const tool = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    tool('pg_dumpall', `echo "-- dump by $(id -un)"; printf '%s\\0' "$@"`);
    tool('pg_basebackup', `echo "base by $(id -un)"; printf '%s\\0' "$@"`);
    tool('pg_isready', 'exit 0');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const content = (f: string) => zlib.gunzipSync(fs.readFileSync(f)).toString();

  test('pg_dumpall as postgres through runuser: a private gzipped file', async () => {
    const dest = path.join(root, 'backups');
    const r = await runTask(pgBackup, { bin_dir: bin, dest_dir: dest, port: 5433 }, new LocalHost());
    const f = r.result.backup as string;
    expect(path.basename(f)).toMatch(/^postgres-\d{8}-\d{6}\.sql\.gz$/);
    expect(content(f)).toBe('-- dump by postgres\n-p\x005433\x00');
    expect(fs.statSync(f).size).toBe(r.result.size);
    expect((fs.statSync(f).mode & 0o777).toString(8)).toBe('600');
  });

  test('pg_basebackup streams a tar to stdout; the task user runs it directly when it is os_user', async () => {
    const me = execFileSync('id', ['-un']).toString().trim();
    const r = await runTask(pgBackup, { method: 'pg_basebackup', bin_dir: bin, dest_dir: root, label: 'pre-ha', os_user: me }, new LocalHost());
    expect(path.basename(r.result.backup as string)).toMatch(/^pre-ha-\d{8}-\d{6}\.basebackup\.tar\.gz$/);
    expect(content(r.result.backup as string)).toBe(`base by ${me}\n${['-p', '5432', '-D', '-', '-F', 'tar', '-X', 'fetch', '-c', 'fast', '-l', 'pre-ha'].join('\0')}\0`);
  });

  test('a failing dump fails the task and removes the partial file', async () => {
    fs.writeFileSync(path.join(bin, 'pg_dumpall'), '#!/bin/sh\necho partial\necho "pg_dumpall: error: connection failed" >&2\nexit 1\n', { mode: 0o755 });
    const err = await runTask(pgBackup, { bin_dir: bin, dest_dir: path.join(root, 'b') }, new LocalHost()).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^pg_dumpall failed \(rc=1\): pg_dumpall: error: connection failed\nthe backup tool failed \((dump=1 gzip=0|gzip=0 dump=1)\)$/);
    expect(fs.readdirSync(path.join(root, 'b'))).toEqual([]);
  });

  test('hostile label, dest_dir and host stay literal', async () => {
    const bad = HOSTILE.filter((b) => !b.includes('/'));
    const dest = path.join(root, `d ${bad.join(' ')}`);
    const r = await runTask(pgBackup, { bin_dir: bin, dest_dir: dest, label: bad.join('_'), host: HOSTILE.join(' ') }, new LocalHost());
    expect(path.dirname(r.result.backup as string)).toBe(dest);
    expect(path.basename(r.result.backup as string).startsWith(bad.join('_'))).toBe(true);
    expect(content(r.result.backup as string).split('\0')).toEqual(['-- dump by postgres\n-p', '5432', '-h', HOSTILE.join(' '), '']);
    expect(fs.existsSync('/tmp/pwned')).toBe(false);
  });

  test('real pg_isready against a closed port: skipped', async () => {
    const tmp = net.createServer();
    await new Promise<void>((res) => tmp.listen(0, '127.0.0.1', res));
    const port = (tmp.address() as net.AddressInfo).port;
    await new Promise<void>((res) => tmp.close(() => res()));
    const h = new LocalHost();
    const r = await runTask(pgBackup, { host: '127.0.0.1', port }, h);
    expect(h.calls.map((c) => c.cmd)).toEqual([isReadyCommand(args({ host: '127.0.0.1', port }))]);
    expect(r.plan).toMatchObject({ skipped: true, msg: `no PostgreSQL server answers on 127.0.0.1, port ${port} (pg_isready: no response): backup skipped` });
  });
});
