import * as fs from 'fs';
import * as path from 'path';
import slurp from '../../modules/slurp';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

describe('slurp', () => {
  const host = (): FakeRemote => new FakeRemote().addDir('/etc').addFile('/etc/key', Buffer.from([0, 255, 10, 65])).addLink('/etc/link', '/etc/key');

  it('no change, in check mode too: the bytes as base64, through a link, with no mutation', async () => {
    const r = host();
    const res = await runModule(slurp, { path: '/etc/link' }, r, { check: true });
    expect(res.changed).toBe(false);
    expect(res.registered).toMatchObject({ content: 'AP8KQQ==', encoding: 'base64', source: '/etc/link' });
    expect(r.mutations).toBe(0);
  });

  it('a missing file or a directory fails with the path; bad arguments are refused', async () => {
    await expect(runModule(slurp, { src: '/etc/none' }, host())).rejects.toThrow('file not found: /etc/none');
    await expect(runModule(slurp, { src: '/etc' }, host())).rejects.toThrow(/is a directory/);
    expect(validateArgs(slurp, {}).valid).toBe(false);
    expect(validateArgs(slurp, { src: '/x', dest: '/y' }).valid).toBe(false);
  });

  it('a real file on the local connection (drift has no meaning here: nothing is ever written)', async () => {
    const dir = makeTempDir();
    const f = path.join(dir, "a b'$(c)");
    fs.writeFileSync(f, 'secret\n');
    const res = await runModule(slurp, { src: f }, new LocalRemote());
    expect(Buffer.from(res.registered.content as string, 'base64').toString()).toBe('secret\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
