import * as fs from 'fs';
import * as path from 'path';
import mount, { editFstab, escapeField, isMounted, unescapeField, type FstabEntry } from '../../modules/mount';
import { getModule } from '../../modules/index';
import { FakeRemote, LocalRemote, makeTempDir, runModule, snapshotTree, validateArgs } from '../helpers/fake-remote';

const FSTAB = '# /etc/fstab\nUUID=abc / ext4 errors=remount-ro 0 1\n/dev/sdb1\t/srv/data\txfs\tdefaults\t0\t0\n';
const MOUNTS = 'sysfs /sys sysfs rw 0 0\n/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 /srv/data xfs rw 0 0\n//h/s\\040x /mnt/my\\040share cifs rw 0 0\n';
const entry = (o: Partial<FstabEntry>): FstabEntry => ({ src: '/dev/sdb1', path: '/srv/data', fstype: 'xfs', opts: 'defaults', dump: '0', passno: '0', ...o });

describe('editFstab (pure)', () => {
  it('an entry that matches is kept byte for byte (tabs too)', () => {
    expect(editFstab(FSTAB, entry({}), 'present')).toEqual({ text: FSTAB, changed: false });
  });
  it.each([
    ['a changed field rewrites the line', FSTAB, entry({ opts: 'noatime' }), 'present', FSTAB.replace('/dev/sdb1\t/srv/data\txfs\tdefaults\t0\t0', '/dev/sdb1 /srv/data xfs noatime 0 0')],
    ['a new entry is appended, blanks escaped', FSTAB, entry({ src: '//h/s x', path: '/mnt/my share', fstype: 'cifs' }), 'present', FSTAB + '//h/s\\040x /mnt/my\\040share cifs defaults 0 0\n'],
    ['absent removes it', FSTAB, { path: '/srv/data' }, 'absent', '# /etc/fstab\nUUID=abc / ext4 errors=remount-ro 0 1\n'],
    ['an empty fstab gets the entry', '', entry({}), 'present', '/dev/sdb1 /srv/data xfs defaults 0 0\n'],
  ] as const)('%s', (_n, text, want, state, out) => {
    expect(editFstab(text, want, state)).toEqual({ text: out, changed: true });
    expect(editFstab(out, want, state).changed).toBe(false);
  });
  it('escapes, and reads /proc/mounts', () => {
    expect(unescapeField(escapeField('a b\\c\td'))).toBe('a b\\c\td');
    expect(isMounted(MOUNTS, '/mnt/my share')).toBe(true);
    expect(isMounted(MOUNTS, '/srv')).toBe(false);
  });
});

describe('mount module (fake host)', () => {
  const host = (mounts = MOUNTS): FakeRemote =>
    new FakeRemote().addDir('/etc').addFile('/etc/fstab', FSTAB).addDir('/proc').addFile('/proc/mounts', mounts).addDir('/srv').addDir('/srv/data').acceptExecs();

  it('no change: mounted and in fstab; no command', async () => {
    const r = host();
    const res = await runModule(mount, { path: '/srv/data/', src: '/dev/sdb1', fstype: 'xfs', state: 'mounted' }, r);
    expect(res.changed).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it('drift: mounted with new opts while mounted: fstab write, then remount', async () => {
    const r = host();
    await runModule(mount, { path: '/srv/data', src: '/dev/sdb1', fstype: 'xfs', opts: 'noatime', state: 'mounted' }, r);
    expect(r.content('/etc/fstab')).toContain('/dev/sdb1 /srv/data xfs noatime 0 0\n');
    expect(r.execs).toEqual(['mount -o remount -- /srv/data']);
  });

  it('mounted, not there yet: mkdir, then mount (with -T for another fstab); boot: false adds noauto', async () => {
    const r = host().addFile('/etc/fstab.alt', '');
    await runModule(mount, { path: '/mnt/new dir', src: 'LABEL=x', fstype: 'ext4', state: 'mounted', fstab: '/etc/fstab.alt', boot: false }, r);
    expect(r.content('/etc/fstab.alt')).toBe('LABEL=x /mnt/new\\040dir ext4 defaults,noauto 0 0\n');
    expect(r.execs).toEqual(["mkdir -p -- '/mnt/new dir'", "mount -T /etc/fstab.alt -- '/mnt/new dir'"]);
  });

  it('unmounted, absent, remounted: the exact commands', async () => {
    const r1 = host();
    await runModule(mount, { path: '/srv/data', state: 'unmounted' }, r1);
    expect([r1.execs, r1.writes.length]).toEqual([['umount -- /srv/data'], 0]);
    const r2 = host();
    await runModule(mount, { path: '/srv/data', state: 'absent' }, r2);
    expect(r2.execs).toEqual(['umount -- /srv/data', 'rmdir -- /srv/data']);
    expect(r2.content('/etc/fstab')).toBe('# /etc/fstab\nUUID=abc / ext4 errors=remount-ro 0 1\n');
    const r3 = host();
    await runModule(mount, { path: '/srv/data', state: 'remounted', opts: 'ro' }, r3);
    expect(r3.execs).toEqual(['mount -o remount,ro -- /srv/data']);
    // present: fstab only, never a mount
    const r4 = host('');
    await runModule(mount, { path: '/srv/data', src: '/dev/sdc1', fstype: 'xfs', state: 'present' }, r4);
    expect([r4.execs, r4.writes.length]).toEqual([[], 1]);
  });

  it('bad arguments', () => {
    expect(validateArgs(mount, { path: '/x', state: 'mounted', fstype: 'xfs' }).valid).toBe(false);
    expect(validateArgs(mount, { path: '/x', state: 'present', src: '/dev/x' }).valid).toBe(false);
    expect(validateArgs(mount, { path: '-o', state: 'unmounted' }).valid).toBe(false);
    expect(validateArgs(mount, { path: '/x' }).valid).toBe(false);
    expect(validateArgs(mount, { path: '/x', state: 'ephemeral' }).valid).toBe(false);
    expect(validateArgs(mount, { path: '/x', state: 'present', src: 'a\nb', fstype: 'xfs' }).valid).toBe(false);
    expect(validateArgs(mount, { name: '/x', state: 'absent', dump: 1 }).valid).toBe(true);
    expect(getModule('ansible.posix.mount')).toBe(mount);
  });

  it('check mode: write and commands planned, nothing mutates', async () => {
    const r = host('');
    const res = await runModule(mount, { path: '/srv/data', src: '/dev/sdb1', fstype: 'xfs', state: 'mounted', opts: 'noatime' }, r, { check: true });
    expect(res.plan.changes.map((c) => (c.kind === 'exec' ? c.command : c.path))).toEqual(['/etc/fstab', 'mount -- /srv/data']);
    expect(r.mutations).toBe(0);
  });
});

describe('mount module (real files)', () => {
  it('present edits an fstab in a sandbox and runs nothing; check mode leaves it alone', async () => {
    const dir = makeTempDir();
    try {
      const f = path.join(dir, 'fstab');
      fs.writeFileSync(f, FSTAB);
      const remote = new LocalRemote();
      const args = { path: '/srv/my data', src: 'UUID=1', fstype: 'ext4', opts: 'noatime,nodev', passno: 2, state: 'present', fstab: f };
      const before = snapshotTree(dir);
      expect((await runModule(mount, args, remote, { check: true })).changed).toBe(true);
      expect(snapshotTree(dir)).toEqual(before);
      await runModule(mount, args, remote);
      expect(fs.readFileSync(f, 'utf8')).toBe(FSTAB + 'UUID=1 /srv/my\\040data ext4 noatime,nodev 0 2\n');
      expect((await runModule(mount, args, remote)).changed).toBe(false);
      expect(remote.execs).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
