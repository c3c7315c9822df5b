import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import git, { parseLsRemote, resolveVersion } from '../../modules/git';
import { FakeRemote, LocalRemote, makeTempDir, runModule, snapshotTree, validateArgs } from '../helpers/fake-remote';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const T = 'c'.repeat(40);
const LS = `ref: refs/heads/main\tHEAD\n${A}\tHEAD\n${A}\trefs/heads/main\n${B}\trefs/heads/dev\n${'d'.repeat(40)}\trefs/tags/v1\n${T}\trefs/tags/v1^{}\n`;

describe('git: what a version names (pure)', () => {
  const refs = parseLsRemote(LS);
  it('HEAD is its branch, tags peel, commit ids pass, unknown names do not', () => {
    expect(resolveVersion('HEAD', refs)).toEqual({ kind: 'branch', name: 'main', sha: A });
    expect(resolveVersion('dev', refs)).toEqual({ kind: 'branch', name: 'dev', sha: B });
    expect(resolveVersion('v1', refs)).toEqual({ kind: 'tag', name: 'v1', sha: T });
    expect(resolveVersion('abc1234', refs)).toEqual({ kind: 'sha', sha: 'abc1234' });
    expect(resolveVersion('nope', refs)).toBeUndefined();
  });
});

describe('git module (fake host)', () => {
  const lsCmd = 'git ls-remote --symref -- /srv/repo.git';
  const checkout = (head: string, status = ''): FakeRemote =>
    new FakeRemote().addDir('/opt').addDir('/opt/app').addDir('/opt/app/.git').onQuery(lsCmd, { stdout: LS })
      .onQuery('git -C /opt/app rev-parse HEAD', { stdout: head + '\n' })
      .onQuery('git -C /opt/app config --get remote.origin.url', { stdout: '/srv/repo.git\n' })
      .onQuery('git -C /opt/app status --porcelain --untracked-files=no', { stdout: status });

  it('no change: read-only queries only', async () => {
    const r = checkout(A);
    const res = await runModule(git, { repo: '/srv/repo.git', dest: '/opt/app' }, r);
    expect(res.changed).toBe(false);
    expect(res.registered).toMatchObject({ before: A, after: A, remote_url_changed: false });
    expect(r.execs).toEqual([]);
  });

  it('drift: fetch, then checkout -B of the branch; a tag is detached', async () => {
    const r = checkout(A).onExec(() => true, {});
    await runModule(git, { repo: '/srv/repo.git', dest: '/opt/app', version: 'dev', depth: 1 }, r);
    expect(r.execs).toEqual(['git -C /opt/app fetch --depth 1 --force --tags -- origin', 'git -C /opt/app checkout --force -B dev refs/remotes/origin/dev']);
    const t = checkout(A).onExec(() => true, {});
    await runModule(git, { repo: '/srv/repo.git', dest: '/opt/app', version: 'v1' }, t);
    expect(t.execs[1]).toBe(`git -C /opt/app checkout --force ${T}`);
  });

  it('local modifications fail without force, are reset with it', async () => {
    await expect(runModule(git, { repo: '/srv/repo.git', dest: '/opt/app' }, checkout(A, ' M x'))).rejects.toThrow('Local modifications exist in the destination: /opt/app (force=no).');
    const r = checkout(A, ' M x').onExec(() => true, {});
    await runModule(git, { repo: '/srv/repo.git', dest: '/opt/app', force: true }, r);
    expect(r.execs).toEqual(['git -C /opt/app reset --hard HEAD']);
  });

  it('bad arguments and an unknown version', async () => {
    expect(validateArgs(git, { repo: '--upload-pack=touch /x', dest: '/opt/a' }).valid).toBe(false);
    expect(validateArgs(git, { repo: '/r', dest: '/opt/a', version: '--orphan' }).valid).toBe(false);
    expect(validateArgs(git, { repo: '/r', dest: 'relative' }).valid).toBe(false);
    expect(validateArgs(git, { repo: '/r' }).valid).toBe(false);
    expect(validateArgs(git, { name: '/r', dest: '/opt/a', depth: 0 }).valid).toBe(false);
    await expect(runModule(git, { repo: '/srv/repo.git', dest: '/opt/app', version: 'nope' }, checkout(A))).rejects.toThrow('version nope is not a branch, tag or commit');
  });

  it('check mode: the clone is planned, nothing mutates', async () => {
    const r = new FakeRemote().addDir('/opt').onQuery(lsCmd, { stdout: LS });
    const res = await runModule(git, { repo: '/srv/repo.git', dest: '/opt/new', version: 'v1', depth: 1 }, r, { check: true });
    expect(res.plan.changes).toMatchObject([{ command: 'git clone --origin origin --depth 1 --branch v1 -- /srv/repo.git /opt/new' }]);
    expect(r.mutations).toBe(0);
  });
});

describe('git module (local repositories)', () => {
  const g = (cwd: string, ...a: string[]): string =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', '-c', 'init.defaultBranch=main', ...a], { cwd, encoding: 'utf8' }).trim();

  it('clone, no change, follow a new commit, a tag, a bare clone; check mode changes nothing', async () => {
    const dir = makeTempDir();
    try {
      const src = path.join(dir, 'src repo');
      fs.mkdirSync(src);
      g(src, 'init', '-q');
      fs.writeFileSync(path.join(src, 'f'), '1\n');
      g(src, 'add', 'f');
      g(src, 'commit', '-q', '-m', 'one');
      g(src, 'tag', 'v1');
      const remote = new LocalRemote();
      const dest = path.join(dir, "work 'tree'");
      const args = { repo: src, dest };
      const before = snapshotTree(dir);
      expect((await runModule(git, args, remote, { check: true })).changed).toBe(true);
      expect(snapshotTree(dir)).toEqual(before);
      const first = await runModule(git, args, remote);
      expect(first.registered).toMatchObject({ before: null, after: g(src, 'rev-parse', 'HEAD') });
      expect(fs.readFileSync(path.join(dest, 'f'), 'utf8')).toBe('1\n');
      expect((await runModule(git, args, remote)).changed).toBe(false);

      fs.writeFileSync(path.join(src, 'f'), '2\n');
      g(src, 'commit', '-q', '-am', 'two');
      const moved = await runModule(git, args, remote);
      expect(moved.changed).toBe(true);
      expect(fs.readFileSync(path.join(dest, 'f'), 'utf8')).toBe('2\n');
      expect(g(dest, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');

      await runModule(git, { ...args, version: 'v1' }, remote);
      expect(fs.readFileSync(path.join(dest, 'f'), 'utf8')).toBe('1\n');
      expect((await runModule(git, { ...args, version: 'v1' }, remote)).changed).toBe(false);

      fs.writeFileSync(path.join(dest, 'f'), 'local\n');
      await expect(runModule(git, args, remote)).rejects.toThrow('Local modifications exist');

      const bare = path.join(dir, 'bare.git');
      await runModule(git, { repo: src, dest: bare, bare: true }, remote);
      expect(g(bare, 'rev-parse', 'HEAD')).toBe(g(src, 'rev-parse', 'HEAD'));
      expect((await runModule(git, { repo: src, dest: bare, bare: true }, remote)).changed).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
