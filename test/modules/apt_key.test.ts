import { execFileSync } from 'child_process';
import * as fs from 'fs';
import aptKey, { keyBytes, keyFingerprint } from '../../modules/apt_key';
import { FakeRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

// a throwaway key made by gpg for this suite: our fingerprint must be the one gpg prints
let home: string;
let armored: string;
let binary: Buffer;
let fpr: string;
beforeAll(() => {
  home = makeTempDir();
  const gpg = (...a: string[]): Buffer => execFileSync('gpg', ['--homedir', home, '--batch', '--quiet', ...a]);
  gpg('--passphrase', '', '--quick-gen-key', 'tsplay test <t@example.invalid>', 'ed25519', 'sign', 'never');
  armored = gpg('--armor', '--export').toString('utf8');
  binary = gpg('--export');
  fpr = /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--list-keys').toString('utf8'))![1];
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('apt_key: the key itself (pure)', () => {
  it('the fingerprint of an armored and a binary key is gpg\'s', () => {
    expect(keyFingerprint(keyBytes(Buffer.from(armored)).bytes)).toBe(fpr);
    expect(keyBytes(binary)).toEqual({ bytes: binary, armored: false });
    expect(keyFingerprint(binary)).toBe(fpr);
    expect(() => keyFingerprint(Buffer.from('hello'))).toThrow('not an OpenPGP key');
  });
});

describe('apt_key module (fake host)', () => {
  const host = (): FakeRemote => new FakeRemote().addDir('/etc').addDir('/etc/apt').addDir('/etc/apt/trusted.gpg.d').addDir('/tmp');

  it('drift, then no change: the key file under trusted.gpg.d, named by its id', async () => {
    const r = host();
    const res = await runModule(aptKey, { data: armored, id: fpr.slice(-8) }, r);
    const file = `/etc/apt/trusted.gpg.d/${fpr.slice(-16)}.asc`;
    expect(r.writes.map((w) => [w.path, w.data.toString(), w.opts.mode])).toEqual([[file, armored, '0644']]);
    expect(res.registered).toMatchObject({ fp: fpr, path: file });
    const again = await runModule(aptKey, { data: armored }, r);
    expect(again.changed).toBe(false);
    expect(r.writes).toHaveLength(1);
  });

  it('a binary key file on the host into a keyring; absent removes it', async () => {
    const r = host().addFile('/tmp/k.gpg', binary).onExec(() => true, {});
    await runModule(aptKey, { file: '/tmp/k.gpg', keyring: '/etc/apt/keyrings pg.gpg' }, r);
    expect(r.writes[0].path).toBe('/etc/apt/keyrings pg.gpg');
    expect(r.writes[0].data.equals(binary)).toBe(true);
    const gone = host().addFile(`/etc/apt/trusted.gpg.d/${fpr.slice(-16)}.asc`, armored).onExec(() => true, {});
    await runModule(aptKey, { id: fpr.slice(-16), state: 'absent' }, gone);
    expect(gone.execs).toEqual([`rm -f -- /etc/apt/trusted.gpg.d/${fpr.slice(-16)}.asc`]);
  });

  it('a wrong id, url and keyserver fail clearly; bad arguments', async () => {
    await expect(runModule(aptKey, { data: armored, id: 'DEADBEEF' }, host())).rejects.toThrow(`id DEADBEEF does not match the key (fingerprint ${fpr})`);
    await expect(runModule(aptKey, { url: 'https://x/key' }, host())).rejects.toThrow('url is not supported');
    expect(validateArgs(aptKey, { state: 'absent' }).valid).toBe(false);
    expect(validateArgs(aptKey, {}).valid).toBe(false);
    expect(validateArgs(aptKey, { data: 'x', file: '/x' }).valid).toBe(false);
    expect(validateArgs(aptKey, { id: '-rf', state: 'absent' }).valid).toBe(false);
    expect(validateArgs(aptKey, { file: 'relative' }).valid).toBe(false);
  });

  it('check mode: planned, nothing mutates', async () => {
    const r = host();
    const res = await runModule(aptKey, { data: armored }, r, { check: true });
    expect(res.plan.changes).toMatchObject([{ kind: 'write', after: armored }]);
    expect(r.mutations).toBe(0);
  });
});
