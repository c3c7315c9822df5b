import * as fs from 'fs';
import * as path from 'path';
import file from '../../modules/file';
import { FakeRemote, LocalRemote, makeTempDir, runModule, snapshotTree, validateArgs } from '../helpers/fake-remote';

const NOBODY = 65534;

describe('file (fake host)', () => {
  const host = (): FakeRemote =>
    new FakeRemote()
      .addDir('/srv')
      .addDir('/srv/data', { owner: 'app', group: 'app', mode: '0750' })
      .addFile('/srv/f', 'x', { mode: '0600' })
      .addLink('/srv/l', '/srv/f');

  it('no change: a directory already right costs one stat round trip', async () => {
    const r = host();
    const res = await runModule(file, { path: '/srv/data', state: 'directory', owner: 'app', group: 'app', mode: '0750' }, r);
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(1);
    expect(r.stats[0]).toEqual(['/srv/data', '/srv', '/']);
  });

  it('no change: absent and already absent; link already pointing right; file with mode as symbolic', async () => {
    const r = host();
    expect((await runModule(file, { path: '/srv/nope', state: 'absent' }, r)).changed).toBe(false);
    expect((await runModule(file, { path: '/srv/l', state: 'link', src: '/srv/f' }, r)).changed).toBe(false);
    expect((await runModule(file, { path: '/srv/f', mode: 'u=rw,go=' }, r)).changed).toBe(false);
    expect(r.mutations).toBe(0);
  });

  it('drift: exact chown/chmod for attributes of an existing directory', async () => {
    const r = host().onExec(() => true, {});
    const res = await runModule(file, { path: '/srv/data', state: 'directory', owner: 'root', mode: 0o755 }, r);
    expect(r.execs).toEqual(['chown -- root /srv/data && chmod -- 00755 /srv/data']);
    expect(res.plan.changes[0]).toMatchObject({
      summary: 'set owner root, mode 0755 on /srv/data',
      diff: { before: 'owner: app\nmode: 0750\n', after: 'owner: root\nmode: 0755\n' },
    });
  });

  it('drift: a directory is created with its missing parents, each getting the attributes', async () => {
    const r = host().onExec(() => true, {});
    await runModule(file, { path: '/srv/a b/c', state: 'directory', owner: 'app', mode: '0700' }, r);
    expect(r.execs).toEqual([
      "mkdir -p -- '/srv/a b' '/srv/a b/c' && chown -- app '/srv/a b' && chmod -- 00700 '/srv/a b' && chown -- app '/srv/a b/c' && chmod -- 00700 '/srv/a b/c'",
    ]);
  });

  it('drift: absent removes, touch always changes, link replaced, hard link', async () => {
    const r = host().onExec(() => true, {}).onQuery(/^test /, { rc: 1 });
    await runModule(file, { path: '/srv/data', state: 'absent' }, r);
    await runModule(file, { path: '/srv/f', state: 'touch' }, r);
    await runModule(file, { path: '/srv/new', state: 'touch', mode: '0640', owner: 'app' }, r);
    await runModule(file, { path: '/srv/l', state: 'link', src: '/srv/data' }, r);
    await runModule(file, { path: '/srv/h', state: 'hard', src: '/srv/f' }, r);
    expect(r.execs).toEqual([
      'rm -rf -- /srv/data',
      'touch -- /srv/f',
      'touch -- /srv/new && chown -- app /srv/new && chmod -- 00640 /srv/new',
      'ln -sfn -- /srv/data /srv/l',
      'ln -f -- /srv/f /srv/h',
    ]);
  });

  it('hard link already in place (same inode) is no change', async () => {
    const r = host().addFile('/srv/h', 'x', { mode: '0600' }).onQuery('test /srv/h -ef /srv/f', { rc: 0 });
    expect((await runModule(file, { path: '/srv/h', state: 'hard', src: '/srv/f' }, r)).changed).toBe(false);
  });

  it('failures: missing file for state=file, file where a directory is wanted, refuse /, dangling link without force', async () => {
    const r = host();
    await expect(runModule(file, { path: '/srv/none', state: 'file' }, r)).rejects.toThrow('file (/srv/none) is absent, cannot continue');
    await expect(runModule(file, { path: '/srv/f/sub', state: 'directory' }, r)).rejects.toThrow('cannot create /srv/f/sub: /srv/f is a file');
    await expect(runModule(file, { path: '/', state: 'absent' }, r)).rejects.toThrow('refusing to remove /');
    await expect(runModule(file, { path: '/srv/l2', state: 'link', src: 'missing' }, r)).rejects.toThrow(/does not exist; use force/);
    await expect(runModule(file, { path: '/srv/f', state: 'link', src: '/srv/data' }, r)).rejects.toThrow(/use force: true/);
    expect(r.mutations).toBe(0);
  });

  // issue 12: find reads a first word starting with '-' as its expression, so `find -delete ...`
  // (path "-delete") ran find's -delete action on the cwd, from plan(), in --check too
  it.each(['-delete', '!', '(', '-fprint'])('recurse on the relative path %j: find gets ./ in front of it, in the query and the fix', async (rel) => {
    const r = new FakeRemote().addDir(rel, { owner: 'root', group: 'root', mode: '0755' });
    r.onQuery(/^find /, { stdout: `f 644 0 0\troot\troot\t./${rel}/x\0` });
    r.onExec(/^find /, {});
    const res = await runModule(file, { path: rel, state: 'directory', recurse: true, owner: 'app', mode: '0750' }, r);
    const start = `find ${rel === '-delete' || rel === '-fprint' ? `./${rel}` : `'./${rel}'`} `;
    expect(r.queries.filter((q) => q.startsWith('find'))).toHaveLength(1);
    for (const q of r.queries.filter((c) => c.includes('find'))) expect(q.startsWith(start)).toBe(true);
    const fix = res.plan.changes[0];
    expect(fix.kind === 'exec' && fix.command.split(' && ').every((c) => c.startsWith(start))).toBe(true);
  });

  it('recurse: one find query listing only differing entries, one fixing command', async () => {
    const out =
      ['d 750 1000 1000\tapp\tapp\t/srv/data', 'f 640 0 0\troot\troot\t/srv/data/a b', 'l 777 1000 1000\tapp\tapp\t/srv/data/ln']
        .map((x) => x + '\0')
        .join('');
    const r = host().onQuery(/^find /, { stdout: out }).onExec(() => true, {});
    const res = await runModule(file, { path: '/srv/data', state: 'directory', recurse: true, owner: 'app', group: 'app', mode: '0750' }, r);
    expect(r.queries).toEqual([
      "find /srv/data '(' ! -user app -o ! -group app -o '(' ! -type l ! -perm 0750 ')' ')' -printf '%y %m %U %G\\t%u\\t%g\\t%p\\0'",
    ]);
    // the directory itself only differs in nothing, "a b" in owner+mode, the link in nothing (links keep 0777)
    expect(res.plan.changes).toHaveLength(1);
    expect(res.plan.changes[0]).toMatchObject({ summary: 'chown 1 entry under /srv/data, chmod 1 entry under /srv/data' });
    expect(r.execs).toEqual([
      "find /srv/data '(' ! -user app -o ! -group app ')' -exec chown -h -- app:app {} + && find /srv/data ! -type l ! -perm 0750 -exec chmod -- 00750 {} +",
    ]);
  });

  it('bad arguments', () => {
    expect(validateArgs(file, { state: 'directory' }).valid).toBe(false);
    expect(validateArgs(file, { path: '/x', state: 'dir' }).valid).toBe(false);
    expect(validateArgs(file, { path: '/x', state: 'link' }).valid).toBe(false);
    expect(validateArgs(file, { path: '/x', state: 'file', recurse: true }).valid).toBe(false);
    expect(validateArgs(file, { path: '/x', mode: '0999' }).valid).toBe(false);
    expect(validateArgs(file, { path: '/x', mode: 'u+q' }).valid).toBe(false);
    expect(validateArgs(file, { path: '/x', owner: '' }).valid).toBe(false);
    expect(validateArgs(file, { dest: '/x', state: 'directory', recurse: true }).valid).toBe(true);
  });

  it('check mode: the exact commands are planned and nothing mutates', async () => {
    const r = host();
    const res = await runModule(file, { path: '/srv/data', state: 'absent' }, r, { check: true });
    expect(res.plan.changes).toEqual([
      { kind: 'exec', summary: 'remove /srv/data', command: 'rm -rf -- /srv/data', diff: { path: '/srv/data', before: 'state: directory\n', after: 'state: absent\n' } },
    ]);
    expect(r.mutations).toBe(0);
  });

  it('hostile paths only ever appear quoted', async () => {
    const evil = "/srv/$(touch x) `y` 'q' \"d\"\nz ü";
    const r = host().onExec(() => true, {});
    await runModule(file, { path: evil, state: 'touch' }, r);
    expect(r.execs).toEqual([`touch -- '/srv/$(touch x) \`y\` '\\''q'\\'' "d"\nz ü'`]);
  });
});

describe('file (real /bin/sh, as root)', () => {
  let dir: string;
  const remote = new LocalRemote();
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('directory with parents, owner and mode; idempotent', async () => {
    const target = path.join(dir, "a 'b'", '$(c)', 'd');
    const args = { path: target, state: 'directory', owner: 'nobody', group: 'nogroup', mode: '0751' };
    expect((await runModule(file, args, remote)).changed).toBe(true);
    for (const p of [path.join(dir, "a 'b'"), path.join(dir, "a 'b'", '$(c)'), target]) {
      const s = fs.statSync(p);
      expect([s.isDirectory(), s.uid, s.mode & 0o7777]).toEqual([true, NOBODY, 0o751]);
    }
    expect((await runModule(file, args, remote)).changed).toBe(false);
  });

  it('recurse fixes exactly the differing entries of a hostile tree; second run no change', async () => {
    const root = path.join(dir, 'tree');
    fs.mkdirSync(path.join(root, 'sub dir', "it's"), { recursive: true });
    for (const n of ['plain', 'with space', 'new\nline', '$(touch PWNED)', '`bt`', 'ünï']) {
      fs.writeFileSync(path.join(root, 'sub dir', n), n);
    }
    fs.chmodSync(path.join(root, 'sub dir', 'plain'), 0o755);
    fs.symlinkSync('plain', path.join(root, 'sub dir', 'ln'));
    const args = { path: root, state: 'directory', recurse: true, owner: 'nobody', group: 'nogroup', mode: 'u=rwX,g=rX,o=' };
    const res = await runModule(file, args, remote);
    expect(res.plan.changes[0]).toMatchObject({ summary: `chown 10 entries under ${root}, chmod 9 entries under ${root}` });
    const seen: string[] = [];
    const walk = (p: string): void => {
      const s = fs.lstatSync(p);
      seen.push(path.relative(root, p));
      expect(s.uid).toBe(NOBODY);
      expect(s.gid).toBe(NOBODY);
      if (s.isDirectory()) {
        expect(s.mode & 0o7777).toBe(0o750);
        for (const n of fs.readdirSync(p)) walk(path.join(p, n));
      } else if (s.isFile()) {
        // X: execute only where some execute bit was set before
        expect(s.mode & 0o7777).toBe(path.basename(p) === 'plain' ? 0o750 : 0o640);
      }
    };
    walk(root);
    expect(seen).toHaveLength(10);
    expect(fs.existsSync(path.join(dir, 'PWNED'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'sub dir', 'PWNED'))).toBe(false);
    const again = await runModule(file, args, remote);
    expect(again.changed).toBe(false);
  });

  it('recurse with a numeric mode, filtered by find itself', async () => {
    const root = path.join(dir, 'n');
    fs.mkdirSync(path.join(root, 'x'), { recursive: true });
    fs.writeFileSync(path.join(root, 'x', 'f'), '');
    fs.chmodSync(path.join(root, 'x'), 0o700);
    const args = { path: root, state: 'directory', recurse: true, mode: '0755' };
    const res = await runModule(file, args, remote);
    expect(res.plan.changes[0]).toMatchObject({ summary: `chmod 2 entries under ${root}` });
    expect(fs.statSync(path.join(root, 'x', 'f')).mode & 0o7777).toBe(0o755);
    expect((await runModule(file, args, remote)).changed).toBe(false);
  });

  it('a link to a directory: default state and recurse act on the directory, idempotently', async () => {
    const real = path.join(dir, 'real dir');
    fs.mkdirSync(path.join(real, 'in'), { recursive: true });
    fs.writeFileSync(path.join(real, 'in', 'f'), '');
    const link = path.join(dir, 'via link');
    fs.symlinkSync(real, link);
    expect((await runModule(file, { path: link, mode: '0700' }, remote)).plan.result).toEqual({ path: link, state: 'directory' });
    expect(fs.statSync(real).mode & 0o7777).toBe(0o700);
    const args = { path: link, state: 'directory', recurse: true, owner: 'nobody' };
    expect((await runModule(file, args, remote)).plan.changes[0]).toMatchObject({ summary: `chown 3 entries under ${link}/` });
    for (const p of [real, path.join(real, 'in'), path.join(real, 'in', 'f')]) expect(fs.statSync(p).uid).toBe(NOBODY);
    expect(fs.lstatSync(link).uid).toBe(0);
    expect((await runModule(file, args, remote)).changed).toBe(false);
  });

  it('absent, touch, link and hard link for real', async () => {
    const f = path.join(dir, "f 'x'");
    await runModule(file, { path: f, state: 'touch', mode: '0600' }, remote);
    expect(fs.statSync(f).mode & 0o7777).toBe(0o600);
    const l = path.join(dir, 'l $(x)');
    await runModule(file, { path: l, state: 'link', src: "f 'x'" }, remote);
    expect(fs.readlinkSync(l)).toBe("f 'x'");
    expect((await runModule(file, { path: l, state: 'link', src: "f 'x'" }, remote)).changed).toBe(false);
    const h = path.join(dir, 'h');
    await runModule(file, { path: h, state: 'hard', src: f }, remote);
    expect(fs.statSync(h).ino).toBe(fs.statSync(f).ino);
    expect((await runModule(file, { path: h, state: 'hard', src: f }, remote)).changed).toBe(false);
    const tree = path.join(dir, 'gone dir');
    fs.mkdirSync(path.join(tree, 'a'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'a', 'b'), '');
    await runModule(file, { path: tree, state: 'absent' }, remote);
    expect(fs.existsSync(tree)).toBe(false);
  });

  it('check mode changes nothing on disk', async () => {
    fs.mkdirSync(path.join(dir, 'keep', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'keep', 'sub', 'f'), 'x');
    const before = snapshotTree(dir);
    for (const args of [
      { path: path.join(dir, 'keep'), state: 'absent' },
      { path: path.join(dir, 'keep'), state: 'directory', recurse: true, owner: 'nobody', mode: '0700' },
      { path: path.join(dir, 'new', 'x'), state: 'directory' },
      { path: path.join(dir, 'keep', 'sub', 'f'), state: 'touch' },
    ]) {
      const res = await runModule(file, args, remote, { check: true });
      expect(res.changed).toBe(true);
    }
    expect(snapshotTree(dir)).toEqual(before);
  });
});
