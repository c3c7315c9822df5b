import * as fs from 'fs';
import * as path from 'path';
import fetch, { fetchTarget } from '../../modules/fetch';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

describe('fetch', () => {
  let ctl: string;
  beforeEach(() => (ctl = makeTempDir()));
  afterEach(() => fs.rmSync(ctl, { recursive: true, force: true }));
  const host = (): FakeRemote => new FakeRemote().addDir('/etc').addFile('/etc/app.conf', 'port = 80\n');

  it('drift then no change: dest/<host>/<src>, written once; the second run transfers nothing', async () => {
    const r = host();
    const res = await runModule(fetch, { src: '/etc/app.conf', dest: ctl }, r, { host: 'db1' });
    const target = path.join(ctl, 'db1', 'etc', 'app.conf');
    expect([res.changed, res.registered.dest]).toEqual([true, target]);
    expect(fs.readFileSync(target, 'utf8')).toBe('port = 80\n');
    expect(r.reads).toEqual(['/etc/app.conf']);
    const again = host();
    expect((await runModule(fetch, { src: '/etc/app.conf', dest: ctl }, again, { host: 'db1' })).changed).toBe(false);
    expect(again.reads).toEqual([]);
    expect(fs.readdirSync(path.dirname(target))).toEqual(['app.conf']);
  });

  it('check mode: changed, nothing read or written on either side', async () => {
    const r = host();
    const res = await runModule(fetch, { src: '/etc/app.conf', dest: `${ctl}/x.conf`, flat: true }, r, { check: true });
    expect(res.changed).toBe(true);
    expect([r.mutations, r.reads, fs.readdirSync(ctl)]).toEqual([0, [], []]);
  });

  it('flat with a trailing slash; a symlink at the target is replaced, not written through', async () => {
    const victim = path.join(ctl, 'victim');
    fs.writeFileSync(victim, 'keep\n');
    fs.mkdirSync(path.join(ctl, 'out'));
    fs.symlinkSync(victim, path.join(ctl, 'out', 'app.conf'));
    await runModule(fetch, { src: '/etc/app.conf', dest: `${ctl}/out/`, flat: true }, host());
    expect(fs.readFileSync(victim, 'utf8')).toBe('keep\n');
    expect(fs.lstatSync(path.join(ctl, 'out', 'app.conf')).isFile()).toBe(true);
  });

  it('a symlinked directory on the way is refused; traversal by host name or src is refused', async () => {
    fs.mkdirSync(path.join(ctl, 'elsewhere'));
    fs.symlinkSync(path.join(ctl, 'elsewhere'), path.join(ctl, 'db1'));
    await expect(runModule(fetch, { src: '/etc/app.conf', dest: ctl }, host(), { host: 'db1' })).rejects.toThrow(/not a directory \(a symlink is not followed\)/);
    expect(fs.readdirSync(path.join(ctl, 'elsewhere'))).toEqual([]);
    expect(() => fetchTarget({ src: '/etc/x', dest: ctl, flat: false }, '..')).toThrow(/cannot be a directory name/);
    expect(() => fetchTarget({ src: '/etc/x', dest: ctl, flat: false }, 'a/b')).toThrow(/cannot be a directory name/);
    expect(() => fetchTarget({ src: '/etc/../../root/x', dest: ctl, flat: false }, 'db1')).toThrow(/contains '\.\.'/);
  });

  it('bad arguments and missing files: fail_on_missing decides; directories fail', async () => {
    expect(validateArgs(fetch, { src: '/etc/x' }).valid).toBe(false);
    await expect(runModule(fetch, { src: '/etc/none', dest: ctl }, host())).rejects.toThrow('the remote file does not exist: /etc/none');
    const ok = await runModule(fetch, { src: '/etc/none', dest: ctl, fail_on_missing: false }, host());
    expect([ok.changed, ok.registered.msg]).toEqual([false, 'the remote file does not exist, not transferring, ignored']);
    await expect(runModule(fetch, { src: '/etc', dest: ctl }, host())).rejects.toThrow(/is a directory/);
    expect(fs.readdirSync(ctl)).toEqual([]);
  });

  it('a real file over the local connection, binary, hostile name', async () => {
    const hostDir = makeTempDir();
    const src = path.join(hostDir, "k'$(id).bin");
    fs.writeFileSync(src, Buffer.from([0, 1, 255]));
    const res = await runModule(fetch, { src, dest: `${ctl}/k.bin`, flat: true }, new LocalRemote());
    expect(res.changed).toBe(true);
    expect(fs.readFileSync(path.join(ctl, 'k.bin'))).toEqual(Buffer.from([0, 1, 255]));
    fs.rmSync(hostDir, { recursive: true, force: true });
  });
});
