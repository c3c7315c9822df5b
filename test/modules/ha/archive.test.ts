import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import archive, { archiveCommand } from '../../../modules/archive';
import { ArgvRecorder, FakeHost, HOSTILE, LocalHost, readOnly, runTask, validate } from './fake';

describe('archive (fake host)', () => {
  test('a missing path fails, or skips with missing_ok; nothing runs', async () => {
    const h = new FakeHost();
    await expect(runTask(archive, { path: '/etc/haproxy' }, h)).rejects.toThrow('/etc/haproxy does not exist: nothing to back up (set missing_ok: true to skip)');
    const r = await runTask(archive, { path: '/etc/haproxy', missing_ok: true }, h);
    expect(r.plan).toMatchObject({ skipped: true, changes: [], msg: '/etc/haproxy does not exist: nothing to back up' });
    expect(h.calls.map((c) => c.kind)).toEqual(['stat', 'stat']);
  });

  test('always a change; check mode is skipped, names the archive a real run creates and runs nothing', async () => {
    const h = new FakeHost();
    h.files.set('/etc/haproxy', '');
    const ro = readOnly(h);
    const r = await runTask(archive, { path: '/etc/haproxy' }, ro, { check: true });
    expect(r.changed).toBe(false);
    expect(r.plan.skipped).toBe(true);
    expect(r.plan.changes).toEqual([]);
    expect(r.result.msg).toBe('check mode: no backup taken (a real run creates /var/backups/tsplay/haproxy-YYYYMMDD-HHMMSS.tar.gz)');
    expect(ro.violations).toEqual([]);
  });

  test('apply reads size, tar rc and the path (which may hold a newline)', async () => {
    const h = new FakeHost().onExec(/tar -czf/, { stdout: 'size 123\ntarrc 1\narchive /b/x\ny-20240101-000000.tar.gz', stderr: 'tar: ./log: file changed as we read it\n' });
    h.files.set('/etc/haproxy', '');
    const r = await runTask(archive, { path: '/etc/haproxy', dest_dir: '/b' }, h);
    expect(r.result).toMatchObject({ archive: '/b/x\ny-20240101-000000.tar.gz', size: 123, msg: 'created /b/x\ny-20240101-000000.tar.gz' });
    expect(r.result.warning).toMatch(/file changed as we read it/);
  });

  test('bad arguments', () => {
    expect(validate(archive, {}).valid).toBe(false);
    expect(validate(archive, { path: 'etc' }).valid).toBe(false);
    expect(validate(archive, { path: '/etc', dest_dir: 'backups' }).valid).toBe(false);
    expect(validate(archive, { path: '/etc', name: 'a/b' }).valid).toBe(false);
    expect(validate(archive, { path: '/etc' }).args).toEqual({ path: '/etc', dest_dir: '/var/backups/tsplay', missing_ok: false });
  });
});

describe('archive (real tar through /bin/sh)', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync('/tmp/tsplay-ar-');
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  test('hostile names everywhere: a private archive with relative entries, a new file each run', async () => {
    const bad = HOSTILE.filter((b) => !b.includes('/'));
    const src = path.join(root, `conf ${bad[1]}`);
    fs.mkdirSync(src);
    for (const b of bad) fs.writeFileSync(path.join(src, b), b);
    const dest = path.join(root, `backups $(touch /tmp/pwned) \`id\``);
    const h = new LocalHost();
    const first = await runTask(archive, { path: `${src}/`, dest_dir: dest, name: `pre ${bad[2]}` }, h);
    const second = await runTask(archive, { path: src, dest_dir: dest, name: `pre ${bad[2]}` }, h);
    const a1 = first.result.archive as string;
    const a2 = second.result.archive as string;
    expect(path.dirname(a1)).toBe(dest);
    expect(path.basename(a1)).toMatch(/^pre "dq"-\d{8}-\d{6}\.tar\.gz$/);
    expect(a2).not.toBe(a1);
    expect(fs.statSync(a1).size).toBe(first.result.size);
    expect((fs.statSync(a1).mode & 0o777).toString(8)).toBe('600');
    expect((fs.statSync(dest).mode & 0o777).toString(8)).toBe('700');
    const listed = execFileSync('tar', ['-tzf', a1]).toString();
    expect(listed).toContain(`conf it's/semi;colon\n`);
    expect(listed.startsWith('/')).toBe(false);
    expect(fs.existsSync('/tmp/pwned')).toBe(false);
  });

  test('a failing tar fails the task and leaves no partial archive', async () => {
    // tar writes the archive to stdout (the shell opened it in a private directory): a partial one
    const rec = new ArgvRecorder({ tar: 'echo partial; echo "tar: boom" >&2; exit 2' });
    try {
      const cmd = archiveCommand({ path: '/etc/hostname', dest_dir: root, missing_ok: false });
      const r = await rec.run(cmd);
      expect(r.rc).toBe(2);
      expect(fs.readdirSync(root)).toEqual([]);
      expect(rec.records()[0]).toEqual(['tar', '-czf', '-', '-C', '/etc', '--', 'hostname']);
    } finally {
      rec.cleanup();
    }
  });

  test('the root directory is archived as "."', () => {
    expect(archiveCommand({ path: '/', dest_dir: '/b', missing_ok: false })).toContain('tar -czf - -C / -- .');
    expect(archiveCommand({ path: '/', dest_dir: '/b', missing_ok: false })).toContain('f=/b/root-"$ts".tar.gz');
  });
});
