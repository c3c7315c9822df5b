import * as fs from 'fs';
import * as path from 'path';
import authorizedKey, { editAuthorizedKeys, parseKey, wantedKeys } from '../../modules/authorized_key';
import { getModule } from '../../modules/index';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

const A = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAaaaa alice@laptop';
const B = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQbbbb bob@desk';
const C = 'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYcccc';
const FILE = `# managed keys\n${A}\n${B}\n`;

describe('authorized_keys edit (pure)', () => {
  it('parses options with quoted blanks, types, comments; junk is no key', () => {
    expect(parseKey(`command="echo a b",no-pty ${A}`)).toEqual({ options: 'command="echo a b",no-pty', type: 'ssh-ed25519', blob: 'AAAAC3NzaC1lZDI1NTE5AAAAIAaaaa', comment: 'alice@laptop' });
    expect(parseKey(C)).toEqual({ options: undefined, type: 'ecdsa-sha2-nistp256', blob: 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYcccc', comment: undefined });
    expect(parseKey('# comment')).toBeUndefined();
    expect(parseKey('not a key at all')).toBeUndefined();
  });

  it.each([
    ['appends a new key', FILE, [C], 'present', false, FILE + C + '\n'],
    ['a changed comment or options updates the key in place', FILE, [A.replace('alice@laptop', 'alice@new')], 'present', false, FILE.replace('alice@laptop', 'alice@new')],
    ['absent removes it', FILE, [B], 'absent', false, `# managed keys\n${A}\n`],
    ['exclusive drops every other key (comments stay)', FILE, [C], 'present', true, `# managed keys\n${C}\n`],
    ['a second copy of a wanted key goes', `${A}\n${A}\n`, [A], 'present', false, `${A}\n`],
  ] as const)('%s', (_n, text, keys, state, exclusive, want) => {
    const parsed = keys.map((k) => parseKey(k)!);
    expect(editAuthorizedKeys(text, parsed, state, exclusive)).toEqual({ text: want, changed: true });
    expect(editAuthorizedKeys(want, parsed, state, exclusive).changed).toBe(false);
  });

  it('key_options and comment apply to every key of a multi-line key', () => {
    expect(wantedKeys({ key: `${A}\n\n# x\n${C}\n`, key_options: 'no-pty', comment: 'ops' }).map((k) => k.options + '|' + k.comment)).toEqual(['no-pty|ops', 'no-pty|ops']);
    expect(() => wantedKeys({ key: 'ssh-rsa' })).toThrow('key line 1 is not an SSH public key');
  });
});

describe('authorized_key module (fake host)', () => {
  const host = (): FakeRemote =>
    new FakeRemote()
      .addDir('/home')
      .addDir('/home/deploy', { owner: 'app', group: 'app' })
      .onQuery('getent passwd -- app', { stdout: 'app:x:1000:1000::/home/deploy:/bin/bash\n' })
      .onQuery('getent passwd -- ghost', { rc: 2 });

  it('no change: user lookup, one stat, one read', async () => {
    const r = host().addDir('/home/deploy/.ssh', { owner: 'app', group: 'app', mode: '0700' }).addFile('/home/deploy/.ssh/authorized_keys', FILE, { owner: 'app', group: 'app', mode: '0600' });
    const res = await runModule(authorizedKey, { user: 'app', key: B }, r);
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(3);
    expect(res.registered).toMatchObject({ path: '/home/deploy/.ssh/authorized_keys', user: 'app', exclusive: false });
  });

  it('drift: creates ~/.ssh (0700, the user\'s) and writes the file 0600 owned by the user', async () => {
    const r = host().acceptExecs();
    await runModule(authorizedKey, { user: 'app', key: `${A}\n${C}` }, r);
    expect(r.execs).toEqual(['mkdir -p -- /home/deploy/.ssh && chown -- app:1000 /home/deploy/.ssh && chmod -- 00700 /home/deploy/.ssh']);
    expect(r.writes).toEqual([{ path: '/home/deploy/.ssh/authorized_keys', data: Buffer.from(`${A}\n${C}\n`), opts: { mode: '0600', owner: 'app', group: '1000', backup: undefined, validate: undefined } }]);
  });

  it('a symlink the user planted (the directory or the file) is refused, never followed', async () => {
    const r1 = host().addLink('/home/deploy/.ssh', '/root/.ssh');
    await expect(runModule(authorizedKey, { user: 'app', key: A }, r1)).rejects.toThrow('/home/deploy/.ssh (the directory of the keys) is a symbolic link: refusing to follow it');
    const r2 = host().addDir('/home/deploy/.ssh', { owner: 'app', group: 'app', mode: '0700' }).addLink('/home/deploy/.ssh/authorized_keys', '/etc/shadow');
    await expect(runModule(authorizedKey, { user: 'app', key: A }, r2)).rejects.toThrow('is a symbolic link');
    expect(r1.mutations + r2.mutations).toBe(0);
  });

  it('an unknown user, a key URL, follow: true are clear failures', async () => {
    await expect(runModule(authorizedKey, { user: 'ghost', key: A }, host())).rejects.toThrow('user ghost does not exist');
    await expect(runModule(authorizedKey, { user: 'app', key: 'https://github.com/app.keys' }, host())).rejects.toThrow('a key URL is not supported');
    await expect(runModule(authorizedKey, { user: 'app', key: A, follow: true }, host())).rejects.toThrow('follow: true is not supported');
  });

  it('bad arguments', () => {
    expect(validateArgs(authorizedKey, { key: A }).valid).toBe(false);
    expect(validateArgs(authorizedKey, { user: 'app' }).valid).toBe(false);
    expect(validateArgs(authorizedKey, { user: '--help', key: A }).valid).toBe(false);
    expect(validateArgs(authorizedKey, { user: 'app', key: A, path: 'relative' }).valid).toBe(false);
    expect(validateArgs(authorizedKey, { user: 'app', key: A, state: 'gone' }).valid).toBe(false);
    expect(validateArgs(authorizedKey, { user: 'app', key: A, exclusive: 'yes' }).valid).toBe(true);
    expect(getModule('ansible.posix.authorized_key')).toBe(authorizedKey);
  });

  it('check mode: the directory and the write are planned, nothing mutates', async () => {
    const r = host();
    const res = await runModule(authorizedKey, { user: 'app', key: A, key_options: 'no-pty' }, r, { check: true });
    expect(res.plan.changes.map((c) => c.kind)).toEqual(['exec', 'write']);
    expect(res.plan.changes[1]).toMatchObject({ after: `no-pty ${A}\n` });
    expect(r.mutations).toBe(0);
  });
});

describe('authorized_key module (real files)', () => {
  it('a path in a sandbox: written 0600, idempotent; a planted symlink is refused', async () => {
    const dir = makeTempDir();
    try {
      const f = path.join(dir, 'keys');
      const remote = new LocalRemote();
      await runModule(authorizedKey, { user: 'root', key: A, path: f }, remote);
      expect(fs.readFileSync(f, 'utf8')).toBe(A + '\n');
      expect((fs.statSync(f).mode & 0o777).toString(8)).toBe('600');
      expect((await runModule(authorizedKey, { user: 'root', key: A, path: f }, remote)).changed).toBe(false);
      const victim = path.join(dir, 'victim');
      fs.writeFileSync(victim, 'x\n');
      fs.symlinkSync(victim, path.join(dir, 'link'));
      await expect(runModule(authorizedKey, { user: 'root', key: A, path: path.join(dir, 'link') }, remote)).rejects.toThrow('is a symbolic link');
      expect(fs.readFileSync(victim, 'utf8')).toBe('x\n');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
