import { createHash } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import get_url from '../../modules/get_url';
import { curlConfig, dispositionFilename, downloadCommand, hashFromList, parseDownload, urlFilename } from '../../modules/lib/download';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

const sha = (algo: string, s: string | Buffer): string => createHash(algo).update(s).digest('hex');
const TOOL = /^for t in curl python3/;

describe('get_url (fake host)', () => {
  const host = (): FakeRemote => new FakeRemote().addDir('/opt').addDir('/tmp').addFile('/opt/app.tgz', 'old bytes', { mode: '0640' });

  it('no change: dest exists and force is false -> one stat, no download, no command', async () => {
    const r = host();
    const res = await runModule(get_url, { url: 'https://example.org/app.tgz', dest: '/opt/app.tgz' }, r);
    expect(res.changed).toBe(false);
    expect(r.calls).toEqual([]);
    expect(res.registered.msg).toBe('file already exists');
  });

  it('no change: a matching checksum (any case, any algorithm) skips the download, in check mode too', async () => {
    const r = host().onQuery(/sha512sum/, { stdout: `${sha('sha512', 'old bytes')}  /opt/app.tgz\n` });
    const sum = sha('sha512', 'old bytes').toUpperCase();
    const res = await runModule(get_url, { url: 'https://example.org/app.tgz', dest: '/opt/app.tgz', checksum: `sha512:${sum}` }, r, { check: true });
    expect(res.changed).toBe(false);
    expect(r.queries).toEqual(['LC_ALL=C sha512sum -- /opt/app.tgz']);
    expect(r.mutations).toBe(0);
  });

  it('drift: a checksum mismatch downloads; the command holds no user value, the write is atomic, the temp dir removed', async () => {
    const url = "https://example.org/a'$(touch /tmp/pwned)`id`.tgz?x=1&y=2";
    const body = Buffer.from('new bytes');
    const dir = '/tmp/tsplay-get_url.AbCd1234';
    const r = host()
      .addDir(dir)
      .addFile(`${dir}/body`, body)
      .onQuery(TOOL, { stdout: 'curl\n' })
      .onQuery(/md5sum/, { stdout: 'ffff  /opt/app.tgz\n' })
      .onExec(/^umask 077/, { stdout: `status 200 https://example.org/x\nsha256 ${sha('sha256', body)}  ./body\nsha1 ${sha('sha1', body)}  ./body\nmd5 ${sha('md5', body)}  ./body\ndir ${dir}\nheaders\nHTTP/1.1 200 OK\r\n\r\n` })
      .onExec(/^rm -rf/, {});
    const args = { url, dest: '/opt/app.tgz', checksum: `md5:${sha('md5', body)}`, headers: { 'X-Token': 'tok $(id)' }, url_username: 'u', url_password: 'p"w$(id)' };
    const res = await runModule(get_url, args, r);
    expect(res.changed).toBe(true);
    const [download, rm] = r.calls.filter((c) => c.kind === 'exec');
    for (const v of ['example.org', 'tok', 'p"w', 'pwned']) expect(download.cmd).not.toContain(v);
    expect(download.opts?.stdin).toContain('url = "https://example.org/a\'$(touch /tmp/pwned)`id`.tgz?x=1&y=2"');
    expect(download.opts?.stdin).toContain('user = "u:p\\"w$(id)"');
    expect(rm.cmd).toBe(`rm -rf -- ${dir}`);
    expect(r.writes).toEqual([{ path: '/opt/app.tgz', data: body, opts: { mode: '0640', owner: 'root', group: 'root', backup: false, validate: undefined } }]);
    expect(res.registered).toMatchObject({ status_code: 200, checksum_src: sha('sha1', body), size: 9, msg: 'OK (9 bytes)' });
    // the password is nowhere in the result
    expect(JSON.stringify(res.registered)).not.toContain('p\\"w');
  });

  it('check mode: a missing dest is asked for with HEAD (a read) and reported changed; a 404 fails', async () => {
    const r = host().onQuery(TOOL, { stdout: 'curl\n' }).onQuery('exec curl -K -', { stdout: 'status 200 https://example.org/b.tgz\n' });
    const res = await runModule(get_url, { url: 'https://user:hunter2@example.org/b.tgz', dest: '/opt/b.tgz' }, r, { check: true });
    expect(res.changed).toBe(true);
    expect(r.mutations).toBe(0);
    expect(r.calls[1].opts?.stdin).toMatch(/^head$/m);
    expect(JSON.stringify(res.registered)).not.toContain('hunter2');
    const r404 = host().onQuery(TOOL, { stdout: 'curl\n' }).onQuery('exec curl -K -', { stdout: 'status 404 https://example.org/b.tgz\n' });
    await expect(runModule(get_url, { url: 'https://example.org/b.tgz', dest: '/opt/b.tgz' }, r404, { check: true })).rejects.toThrow(/Request failed: HEAD .*status 404/);
  });

  it('bad arguments: unknown algorithm, header injection, a scheme curl must not get; nothing runs', async () => {
    const r = host();
    await expect(runModule(get_url, { url: 'https://e.org/x', dest: '/opt/n', checksum: 'sha999:abcd' }, r)).rejects.toThrow(/algorithm one of md5/);
    await expect(runModule(get_url, { url: 'https://e.org/x', dest: '/opt/n', headers: { 'X-A': 'v\r\nHost: evil' } }, r)).rejects.toThrow(/line break/);
    await expect(runModule(get_url, { url: 'https://e.org/x', dest: '/opt/n', headers: { 'X A:': 'v' } }, r)).rejects.toThrow(/not a valid HTTP header name/);
    await expect(runModule(get_url, { url: 'https://e.org/x', dest: '/opt/n', checksum: 'sha256:xyz!' }, r)).rejects.toThrow(/checksum format is invalid/);
    expect(validateArgs(get_url, { url: 'gopher://e.org/x', dest: '/opt/n' }).valid).toBe(false);
    expect(validateArgs(get_url, { url: 'https://e.org/x' }).valid).toBe(false);
    expect(r.mutations).toBe(0);
  });
});

describe('get_url helpers', () => {
  it('checksum lists, file names, Content-Disposition, curl config quoting', () => {
    expect(hashFromList('abc123\n', 'x.tgz')).toBe('abc123');
    expect(hashFromList('111  other.tgz\n222 *./x.tgz\n333  x.tgz\n', 'x.tgz')).toBe('222');
    expect(hashFromList('111  other.tgz\n', 'x.tgz')).toBeUndefined();
    expect(urlFilename('https://h/p/etcd%20x.tar.gz?sig=1#f')).toBe('etcd x.tar.gz');
    expect(urlFilename('https://h/')).toBe('index.html');
    expect(dispositionFilename('attachment; filename="../../etc/pass\\"wd"')).toBe('pass"wd');
    expect(dispositionFilename('attachment; filename=..')).toBeUndefined();
    const cfg = curlConfig({ url: 'http://h/"\n--output /etc/passwd', headers: {}, timeout: 5, validateCerts: true }, 'file');
    expect(cfg.split('\n')[0]).toBe('url = "http://h/\\"\\n--output /etc/passwd"');
  });
});

describe('get_url (local connection, loopback HTTP server)', () => {
  let server: http.Server;
  let base: string;
  let sandbox: string;
  let payload = Buffer.from([0, 1, 2, 250, 251, 10]);
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders }> = [];
  beforeAll(async () => {
    sandbox = makeTempDir();
    server = http.createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      const u = req.url!;
      if (u.startsWith('/file.bin')) return res.end(req.method === 'HEAD' ? undefined : payload);
      if (u === '/SHA256SUMS') return res.end(`${sha('sha256', 'nope')}  other.bin\n${sha('sha256', payload)}  ./file.bin\n`);
      if (u === '/auth') {
        const ok = req.headers.authorization === `Basic ${Buffer.from('op:s3cr$t').toString('base64')}` && req.headers['x-token'] === "t'$(touch x)";
        res.statusCode = ok ? 200 : 401;
        return res.end(ok ? 'secret data\n' : 'denied');
      }
      if (u === '/cd') {
        res.setHeader('Content-Disposition', 'attachment; filename="../evil name.txt"');
        return res.end('named\n');
      }
      res.statusCode = 404;
      res.end('no');
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
    fs.rmSync(sandbox, { recursive: true, force: true });
  });
  const leftovers = (): string[] => fs.readdirSync(sandbox).filter((f) => f.startsWith('tsplay-get_url.'));

  it('downloads binary bytes with mode; then idempotent (force false: no request; force true: same bytes, not changed)', async () => {
    const remote = new LocalRemote();
    const dest = path.join(sandbox, 'file.bin');
    const args = { url: `${base}/file.bin`, dest, mode: '0600', tmp_dest: sandbox };
    const res = await runModule(get_url, args, remote);
    expect(res.changed).toBe(true);
    expect(fs.readFileSync(dest)).toEqual(payload);
    expect(fs.statSync(dest).mode & 0o777).toBe(0o600);
    expect(leftovers()).toEqual([]);
    const n = seen.length;
    expect((await runModule(get_url, args, new LocalRemote())).changed).toBe(false);
    expect(seen.length).toBe(n);
    const again = await runModule(get_url, { ...args, force: true }, new LocalRemote());
    expect([again.changed, again.status, seen.length]).toEqual([false, 'ok', n + 1]);
    payload = Buffer.from('version 2\n');
    const upd = await runModule(get_url, { ...args, force: true, backup: true }, new LocalRemote());
    expect(upd.changed).toBe(true);
    expect(fs.readFileSync(dest, 'utf8')).toBe('version 2\n');
    expect(upd.registered.backup_file).toMatch(/file\.bin\.\d{8}-\d{6}$/);
    expect(leftovers()).toEqual([]);
  });

  it('checksum from a checksum file URL; a wrong checksum fails and leaves dest alone', async () => {
    const dest = path.join(sandbox, 'sum.bin');
    const ok = await runModule(get_url, { url: `${base}/file.bin`, dest, checksum: `sha256:${base}/SHA256SUMS`, tmp_dest: sandbox }, new LocalRemote());
    expect(ok.changed).toBe(true);
    expect(fs.readFileSync(dest)).toEqual(payload);
    const bad = path.join(sandbox, 'bad.bin');
    await expect(runModule(get_url, { url: `${base}/file.bin`, dest: bad, checksum: `sha1:${sha('sha1', 'other')}`, tmp_dest: sandbox }, new LocalRemote())).rejects.toThrow(/did not match/);
    expect(fs.existsSync(bad)).toBe(false);
    expect(leftovers()).toEqual([]);
  });

  it('credentials and hostile header values reach the server intact, and no shell', async () => {
    const dest = path.join(sandbox, 'auth.txt');
    const res = await runModule(get_url, { url: `${base}/auth`, dest, url_username: 'op', url_password: 's3cr$t', headers: { 'X-Token': "t'$(touch x)" } }, new LocalRemote());
    expect(res.changed).toBe(true);
    expect(fs.readFileSync(dest, 'utf8')).toBe('secret data\n');
    expect(fs.existsSync('x')).toBe(false);
    expect(JSON.stringify(res.registered)).not.toContain('s3cr$t');
    await expect(runModule(get_url, { url: `${base}/auth`, dest: path.join(sandbox, 'no.txt') }, new LocalRemote())).rejects.toThrow(/HTTP Error 401/);
    expect(fs.existsSync(path.join(sandbox, 'no.txt'))).toBe(false);
  });

  it('dest a directory: the Content-Disposition name, as a bare name', async () => {
    const dir = path.join(sandbox, 'in');
    fs.mkdirSync(dir);
    const res = await runModule(get_url, { url: `${base}/cd`, dest: dir }, new LocalRemote());
    expect(res.registered.dest).toBe(path.join(dir, 'evil name.txt'));
    expect(fs.readFileSync(path.join(dir, 'evil name.txt'), 'utf8')).toBe('named\n');
  });

  it('check mode: HEAD only, nothing written; a 404 fails the dry run', async () => {
    const dest = path.join(sandbox, 'check.bin');
    const n = seen.length;
    const res = await runModule(get_url, { url: `${base}/file.bin`, dest }, new LocalRemote(), { check: true });
    expect(res.changed).toBe(true);
    expect(seen.slice(n).map((s) => s.method)).toEqual(['HEAD']);
    expect(fs.existsSync(dest)).toBe(false);
    await expect(runModule(get_url, { url: `${base}/missing`, dest }, new LocalRemote(), { check: true })).rejects.toThrow(/status 404/);
  });

  it('the python3 downloader (hosts without curl) gives the same output', async () => {
    const { cmd, stdin } = downloadCommand('python3', { url: `${base}/cd`, headers: { 'X-A': 'b' }, timeout: 5, validateCerts: true }, { tmpDir: sandbox });
    const r = await new LocalRemote().exec(cmd, { stdin });
    const d = parseDownload(r.stdout)!;
    expect([d.status, d.sums.sha256, dispositionFilename(d.headers['content-disposition'])]).toEqual([200, sha('sha256', 'named\n'), 'evil name.txt']);
    expect(fs.readFileSync(path.join(d.dir, 'body'), 'utf8')).toBe('named\n');
    fs.rmSync(d.dir, { recursive: true });
  });
});
