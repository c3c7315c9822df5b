import * as fs from 'fs';
import * as path from 'path';
import { createHash } from 'crypto';
import stat from '../../modules/stat';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

describe('stat', () => {
  const host = (): FakeRemote =>
    new FakeRemote().addDir('/etc').addFile('/etc/f', 'abc', { mode: '0640', owner: 'app', group: 'nogroup', mtime: 1700000001 }).addLink('/etc/l', '/etc/f');

  it('reports a file in one round trip and never changes anything', async () => {
    const r = host();
    const res = await runModule(stat, { path: '/etc/f' }, r);
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(1);
    expect(res.plan.result).toEqual({
      stat: {
        exists: true,
        path: '/etc/f',
        isdir: false,
        isreg: true,
        islnk: false,
        mode: '0640',
        uid: 1000,
        gid: 65534,
        pw_name: 'app',
        gr_name: 'nogroup',
        size: 3,
        mtime: 1700000001,
        checksum: createHash('sha1').update('abc').digest('hex'),
      },
    });
  });

  it('missing path, link itself, link followed, no checksum on request', async () => {
    const r = host();
    expect((await runModule(stat, { path: '/etc/none' }, r)).plan.result).toEqual({ stat: { exists: false, path: '/etc/none' } });
    expect((await runModule(stat, { path: '/etc/l' }, r)).plan.result!.stat).toMatchObject({ islnk: true, isreg: false, lnk_target: '/etc/f' });
    expect((await runModule(stat, { path: '/etc/l', follow: true }, r)).plan.result!.stat).toMatchObject({ islnk: false, isreg: true, size: 3 });
    expect((await runModule(stat, { path: '/etc/f', get_checksum: false }, r)).plan.result!.stat).not.toHaveProperty('checksum');
  });

  it('bad arguments', () => {
    expect(validateArgs(stat, {}).valid).toBe(false);
    expect(validateArgs(stat, { path: '' }).valid).toBe(false);
    expect(validateArgs(stat, { path: '/x', follow: 'maybe' }).valid).toBe(false);
    // Ansible's boolean words are booleans, as the engine's registry normalises them
    expect(validateArgs(stat, { path: '/x', follow: 'no' }).args.follow).toBe(false);
    expect(validateArgs(stat, { path: '/x', checksum_algorithm: 'crc32' }).valid).toBe(false);
  });

  it('check mode: same answer, nothing mutates', async () => {
    const r = host();
    const res = await runModule(stat, { path: '/etc/f' }, r, { check: true });
    expect(res.plan.result!.stat).toMatchObject({ exists: true });
    expect(r.mutations).toBe(0);
  });

  it('a hostile path on a real filesystem', async () => {
    const dir = makeTempDir();
    try {
      const p = path.join(dir, "a 'b' $(c) `d`\nü");
      fs.writeFileSync(p, 'x');
      const res = await runModule(stat, { path: p }, new LocalRemote());
      expect(res.plan.result!.stat).toMatchObject({ exists: true, isreg: true, size: 1, pw_name: 'root', checksum: createHash('sha1').update('x').digest('hex') });
      // another algorithm reads the file again, through stdin (the name never reaches the output)
      for (const alg of ['md5', 'sha512', 'sha256'] as const) {
        const r = await runModule(stat, { path: p, checksum_algorithm: alg }, new LocalRemote());
        expect(r.plan.result!.stat).toMatchObject({ checksum: createHash(alg).update('x').digest('hex') });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
