import * as fs from 'fs';
import * as path from 'path';
import copy from '../../modules/copy';
import { FakeRemote, LocalRemote, makeTempDir, runModule, snapshotTree, validateArgs } from '../helpers/fake-remote';

describe('copy (fake host)', () => {
  let files: string;
  beforeAll(() => {
    files = makeTempDir();
    fs.writeFileSync(path.join(files, 'app.conf'), 'port = 80\n');
    fs.writeFileSync(path.join(files, 'blob.bin'), Buffer.from([0, 1, 2, 255]));
    fs.mkdirSync(path.join(files, 'conf.d', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(files, 'conf.d', 'a.conf'), 'a\n');
    fs.writeFileSync(path.join(files, 'conf.d', 'sub', 'b.conf'), 'b\n');
  });
  afterAll(() => fs.rmSync(files, { recursive: true, force: true }));
  const ctx = () => ({ baseDir: files });

  const host = (): FakeRemote =>
    new FakeRemote()
      .addDir('/etc')
      .addDir('/etc/app')
      .addFile('/etc/app/app.conf', 'port = 80\n', { mode: '0640', owner: 'app', group: 'app' })
      .addFile('/etc/motd', 'old\n', { mode: '0600' });

  it('no change: same content and attributes cost one stat round trip and no read', async () => {
    const r = host();
    const res = await runModule(copy, { src: 'app.conf', dest: '/etc/app/app.conf', owner: 'app', mode: '0640' }, r, ctx());
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(1);
    expect(r.reads).toEqual([]);
    expect(res.plan.result).toMatchObject({ dest: '/etc/app/app.conf', size: 10 });
  });

  it('drift: one atomic write with the text diff, keeping the current mode/owner', async () => {
    const r = host();
    const res = await runModule(copy, { content: 'new\n', dest: '/etc/motd', backup: true }, r);
    expect(res.plan.changes).toEqual([
      { kind: 'write', summary: 'update /etc/motd', path: '/etc/motd', before: 'old\n', after: 'new\n', mode: '0600', owner: 'root', group: 'root', backup: true, validate: undefined },
    ]);
    expect(r.writes).toEqual([
      { path: '/etc/motd', data: Buffer.from('new\n'), opts: { mode: '0600', owner: 'root', group: 'root', backup: true, validate: undefined } },
    ]);
    expect(res.result).toEqual({ backup_file: '/etc/motd.20250101-000000' });
  });

  it('drift: attributes only -> chown/chmod with an attribute diff, no write', async () => {
    const r = host().onExec(() => true, {});
    const res = await runModule(copy, { src: 'app.conf', dest: '/etc/app/app.conf', owner: 'root', mode: 'o+r' }, r, ctx());
    expect(r.writes).toEqual([]);
    expect(r.execs).toEqual(['chown -- root /etc/app/app.conf && chmod -- 00644 /etc/app/app.conf']);
    expect(res.plan.changes[0]).toMatchObject({ diff: { before: 'owner: app\nmode: 0640\n', after: 'owner: root\nmode: 0644\n' } });
  });

  it('a new file: before null, mode resolved, validate passed on', async () => {
    const r = host();
    await runModule(copy, { content: 'x', dest: '/etc/new', mode: 0o644, validate: 'check %s' }, r);
    expect(r.writes[0].opts).toEqual({ mode: '0644', owner: undefined, group: undefined, backup: false, validate: 'check %s' });
  });

  it('dest as a directory: existing, or with a trailing / (created)', async () => {
    const r = host().acceptExecs();
    await runModule(copy, { src: 'app.conf', dest: '/etc/app' }, r, ctx());
    expect(r.mutations).toBe(0);
    const res = await runModule(copy, { src: 'app.conf', dest: '/etc/new dir/', owner: 'app' }, r, ctx());
    expect(res.plan.changes.map((c) => c.kind)).toEqual(['exec', 'write']);
    expect(r.execs).toEqual([`mkdir -p -- '/etc/new dir' && chown -- app '/etc/new dir'`]);
    expect(r.writes[0].path).toBe('/etc/new dir/app.conf');
  });

  it('binary content is written as bytes with a summary instead of a diff', async () => {
    const r = host();
    const res = await runModule(copy, { src: 'blob.bin', dest: '/etc/blob' }, r, ctx());
    const w = res.plan.changes[0];
    expect(w).toMatchObject({ kind: 'write', after: expect.stringMatching(/^\(binary or large content: 4 bytes, sha256 [0-9a-f]{64}\)/) });
    expect(r.writes[0].data).toEqual(Buffer.from([0, 1, 2, 255]));
  });

  it('force: false leaves differing content alone; a link at dest is replaced by a file', async () => {
    const r = host().addLink('/etc/link', '/etc/motd');
    expect((await runModule(copy, { content: 'other', dest: '/etc/motd', force: false }, r)).changed).toBe(false);
    const res = await runModule(copy, { content: 'old\n', dest: '/etc/link' }, r, { check: true });
    expect(res.plan.changes[0]).toMatchObject({ before: '(symbolic link to /etc/motd)\n', after: 'old\n' });
  });

  it('a tree: one stat for all of it; only missing/different files written, missing dirs made once', async () => {
    const r = host()
      .addDir('/etc/conf.d')
      .addFile('/etc/conf.d/a.conf', 'a\n')
      .acceptExecs();
    const res = await runModule(copy, { src: 'conf.d', dest: '/etc', mode: '0600', directory_mode: '0700' }, r, ctx());
    expect(r.stats).toEqual([['/etc/conf.d', '/etc/conf.d/a.conf', '/etc/conf.d/sub', '/etc/conf.d/sub/b.conf']]);
    expect(r.execs).toEqual(['mkdir -p -- /etc/conf.d/sub && chmod -- 00700 /etc/conf.d/sub', 'chmod -- 00600 /etc/conf.d/a.conf']);
    expect(r.writes.map((w) => [w.path, w.data.toString(), w.opts.mode])).toEqual([['/etc/conf.d/sub/b.conf', 'b\n', '0600']]);
    expect(res.plan.result).toMatchObject({ dest: '/etc/conf.d' });
    // "conf.d/" copies the contents
    const r2 = host().acceptExecs();
    await runModule(copy, { src: 'conf.d/', dest: '/etc/app/' }, r2, ctx());
    expect(r2.writes.map((w) => w.path)).toEqual(['/etc/app/a.conf', '/etc/app/sub/b.conf']);
  });

  it('failures: missing parent directory, content into a directory, remote_src missing', async () => {
    const r = host();
    await expect(runModule(copy, { content: 'x', dest: '/nope/x' }, r)).rejects.toThrow('destination directory /nope does not exist');
    await expect(runModule(copy, { content: 'x', dest: '/etc/app' }, r)).rejects.toThrow(/can not use content with a directory/);
    await expect(runModule(copy, { src: '/etc/none', remote_src: true, dest: '/etc/x' }, r)).rejects.toThrow('source /etc/none not found on the host');
    expect(r.mutations).toBe(0);
  });

  it('remote_src copies a file on the host', async () => {
    const r = host();
    await runModule(copy, { src: '/etc/motd', remote_src: true, dest: '/etc/motd2' }, r);
    expect(r.writes.map((w) => [w.path, w.data.toString()])).toEqual([['/etc/motd2', 'old\n']]);
  });

  it('bad arguments', () => {
    expect(validateArgs(copy, { content: 'x' }).valid).toBe(false);
    expect(validateArgs(copy, { dest: '/x' }).valid).toBe(false);
    expect(validateArgs(copy, { dest: '/x', content: 'a', src: 'b' }).valid).toBe(false);
    expect(validateArgs(copy, { dest: '/x', content: 'a', validate: 'visudo -c' }).valid).toBe(false);
    expect(validateArgs(copy, { dest: '/x', content: 'a', mode: 'rw' }).valid).toBe(false);
    expect(validateArgs(copy, { dest: '/x', content: { a: 1 } }).valid).toBe(false);
    expect(validateArgs(copy, { dest: '/x', content: 'a', backup: 'maybe' }).valid).toBe(false);
    // Ansible's boolean words are booleans, as the engine's registry normalises them
    expect(validateArgs(copy, { dest: '/x', content: 'a', backup: 'yes' }).args.backup).toBe(true);
  });

  it('check mode: exact writes planned, nothing mutated', async () => {
    const r = host();
    const res = await runModule(copy, { content: 'new\n', dest: '/etc/motd', mode: '0644' }, r, { check: true });
    expect(res.plan.changes).toMatchObject([{ kind: 'write', path: '/etc/motd', before: 'old\n', after: 'new\n', mode: '0644' }]);
    expect(r.mutations).toBe(0);
  });
});

describe('copy (real files)', () => {
  let dir: string;
  const remote = new LocalRemote();
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hostile name and content, owner and mode, then idempotent', async () => {
    const dest = path.join(dir, "conf 'x' $(y) `z`\nü.txt");
    const content = "a 'b' \"c\" $(touch PWNED) `d`\n\\n ü ✓\n";
    const args = { content, dest, owner: 'nobody', mode: '0640' };
    expect((await runModule(copy, args, remote)).changed).toBe(true);
    expect(fs.readFileSync(dest, 'utf8')).toBe(content);
    expect(fs.statSync(dest).uid).toBe(65534);
    expect(fs.statSync(dest).mode & 0o7777).toBe(0o640);
    expect((await runModule(copy, args, remote)).changed).toBe(false);
    const res = await runModule(copy, { ...args, mode: '0600' }, remote);
    expect(remote.execs.pop()).toBe(`chmod -- 00600 '${dest.replace(/'/g, `'\\''`)}'`);
    expect(res.changed).toBe(true);
    expect(fs.statSync(dest).mode & 0o7777).toBe(0o600);
    expect(fs.readdirSync(dir)).toHaveLength(1);
  });

  it('a failing validate leaves the target untouched; backup keeps the old file', async () => {
    const dest = path.join(dir, 'cfg');
    fs.writeFileSync(dest, 'good\n');
    await expect(runModule(copy, { content: 'bad\n', dest, validate: 'grep -q good %s' }, remote)).rejects.toThrow(/validation failed/);
    expect(fs.readFileSync(dest, 'utf8')).toBe('good\n');
    const res = await runModule(copy, { content: 'good too\n', dest, validate: 'grep -q good %s', backup: true }, remote);
    expect(fs.readFileSync(dest, 'utf8')).toBe('good too\n');
    expect(fs.readFileSync(res.result!.backup_file as string, 'utf8')).toBe('good\n');
  });

  it('a tree for real, idempotent; check mode changes nothing', async () => {
    const src = path.join(dir, 'src tree');
    fs.mkdirSync(path.join(src, "d 'q'"), { recursive: true });
    fs.writeFileSync(path.join(src, 'a'), 'A');
    fs.writeFileSync(path.join(src, "d 'q'", '$(b)'), 'B');
    const destRoot = path.join(dir, 'out');
    fs.mkdirSync(destRoot);
    const before = snapshotTree(dir);
    const check = await runModule(copy, { src, dest: destRoot }, remote, { check: true });
    expect(check.plan.changes).toHaveLength(3);
    expect(snapshotTree(dir)).toEqual(before);
    await runModule(copy, { src, dest: destRoot }, remote);
    expect(fs.readFileSync(path.join(destRoot, 'src tree', "d 'q'", '$(b)'), 'utf8')).toBe('B');
    expect((await runModule(copy, { src, dest: destRoot }, remote)).changed).toBe(false);
  });
});
