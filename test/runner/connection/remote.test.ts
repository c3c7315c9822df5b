import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ModuleFailure } from '../../../runner/errors';
import { LocalConnection } from '../../../runner/connection/local';
import { backupName, createRemote, probeOnly, statCommand } from '../../../runner/connection/remote';
import type { Remote } from '../../../runner/module-api';
import { quote } from '../../../runner/shell-quote';
import { programShims } from '../../helpers/program-shims';

jest.setTimeout(30_000);

let conn: LocalConnection;
let remote: Remote;
let dir: string;

const HOSTILE = ['sp ace', "quo'te", 'dq"uote', '$(touch pwned1)', '`touch pwned2`', 'new\nline', 'ünïcødé-文字', '-dash', 'semi;colon&amp|pipe', '*glob?'];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-remote-'));
  conn = new LocalConnection('rtest');
  // the shell implementation (what SSH and become use); the local fs fast path is compared to it below
  remote = createRemote(conn, undefined, { shellProbes: true });
});
afterAll(async () => {
  await conn.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** the shell remote, with the shims' directory first in PATH for every command */
const shimmedRemote = (shimDir: string): Remote =>
  createRemote({ ...conn, name: conn.name, exec: (cmd: string, o?: object) => conn.exec(`PATH=${quote(shimDir)}:"$PATH"; ${cmd}`, o) } as never, undefined, { shellProbes: true });

const leftovers = (d: string): string[] => fs.readdirSync(d).filter((n) => n.startsWith('.tsplay-tmp-'));

describe('hostile file names', () => {
  test.each(HOSTILE)('write, read and stat %j byte for byte', async (name) => {
    const sub = path.join(dir, `d ${name}`);
    fs.mkdirSync(sub);
    const p = path.join(sub, name);
    const data = Buffer.concat([randomBytes(3000), Buffer.from('\n$(echo x)\0')]);
    expect(await remote.writeFile(p, data)).toEqual({});
    expect(fs.readFileSync(p).equals(data)).toBe(true);
    const back = await remote.readFile(p);
    expect(back!.equals(data)).toBe(true);
    const [st] = await remote.stat([p], { checksum: true });
    expect(st).toMatchObject({ path: p, exists: true, type: 'file', size: data.length });
    expect(st.sha256).toBe(createHash('sha256').update(data).digest('hex'));
    expect(leftovers(sub)).toEqual([]);
    expect(fs.existsSync(path.join(process.cwd(), 'pwned1'))).toBe(false);
    expect(fs.readdirSync(sub)).toEqual([name]);
  });
});

describe('readFile', () => {
  test('missing file and missing directory give null', async () => {
    expect(await remote.readFile(path.join(dir, 'nope'))).toBeNull();
    expect(await remote.readFile(path.join(dir, 'nodir', 'nope'))).toBeNull();
  });

  test('a permission problem is an error, not null', async () => {
    const secret = path.join(dir, 'secret');
    fs.writeFileSync(secret, 'x', { mode: 0o600 });
    const asNobody = createRemote(conn, { user: 'nobody', method: 'sudo' });
    await expect(asNobody.readFile(secret)).rejects.toThrow(/rtest: cannot read .*secret: .*Permission denied/);
  });

  test('a directory is an error', async () => {
    await expect(remote.readFile(dir)).rejects.toBeInstanceOf(ModuleFailure);
  });

  test('empty file is an empty buffer', async () => {
    const p = path.join(dir, 'empty');
    fs.writeFileSync(p, '');
    expect((await remote.readFile(p))!.length).toBe(0);
  });
});

describe('stat', () => {
  test('many paths in one command: file, dir, link (target with newline), missing', async () => {
    const f = path.join(dir, 'st-file');
    fs.writeFileSync(f, 'hello');
    fs.chmodSync(f, 0o640);
    const l = path.join(dir, 'st-link');
    fs.symlinkSync('target\nwith newline', l);
    const l2 = path.join(dir, 'st-link2');
    fs.symlinkSync(f, l2);
    const sub = path.join(dir, 'st-dir');
    fs.mkdirSync(sub, { mode: 0o2750 });
    fs.chmodSync(sub, 0o2750);
    const spy = jest.spyOn(conn, 'exec');
    const res = await remote.stat([f, l, sub, path.join(dir, 'missing'), l2], { checksum: true });
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(res[0]).toMatchObject({ exists: true, type: 'file', mode: '0640', size: 5, uid: 0, owner: 'root', group: 'root' });
    expect(res[0].sha256).toBe(createHash('sha256').update('hello').digest('hex'));
    expect(Math.abs(res[0].mtime! - fs.statSync(f).mtimeMs / 1000)).toBeLessThan(2);
    expect(res[1]).toMatchObject({ exists: true, type: 'link', linkTarget: 'target\nwith newline' });
    expect(res[1].sha256).toBeUndefined();
    expect(res[2]).toMatchObject({ exists: true, type: 'directory', mode: '2750' });
    expect(res[3]).toEqual({ path: path.join(dir, 'missing'), exists: false });
    expect(res[4]).toMatchObject({ type: 'link', linkTarget: f });
    const followed = await remote.stat([l2, l], { follow: true, checksum: true });
    expect(followed[0]).toMatchObject({ type: 'file', size: 5 });
    expect(followed[0].sha256).toBe(res[0].sha256);
    expect(followed[1]).toMatchObject({ exists: false });
    // the local connection's fs fast path answers exactly as the shell does
    const fast = createRemote(conn);
    const paths = [f, l, sub, path.join(dir, 'missing'), l2];
    expect(await fast.stat(paths, { checksum: true })).toEqual(res);
    expect(await fast.stat([l2, l], { follow: true, checksum: true })).toEqual(followed);
    expect(await fast.readFile(f)).toEqual(await remote.readFile(f));
    expect(await fast.readFile(path.join(dir, 'missing'))).toBeNull();
  });

  test('forks do not grow with the paths: one stat and one sha256sum for 40 paths (counted with PATH shims)', async () => {
    const d = path.join(dir, 'st-many');
    fs.mkdirSync(d);
    const paths: string[] = [];
    for (let i = 0; i < 40; i++) {
      const p = path.join(d, `${HOSTILE[i % HOSTILE.length]}-${i}`);
      if (i % 4 === 0) fs.writeFileSync(p, `f${i}`);
      else if (i % 4 === 1) fs.mkdirSync(p);
      else if (i % 4 === 2) fs.symlinkSync(`t\\${i}`, p);
      paths.push(p); // i % 4 === 3: missing
    }
    const shims = programShims(path.join(dir, 'shims'), ['stat', 'sha256sum', 'readlink']);
    const res = await shimmedRemote(shims.dir).stat(paths, { checksum: true });
    const calls = shims.calls();
    expect(calls.filter((c) => c === 'stat')).toHaveLength(1);
    expect(calls.filter((c) => c === 'sha256sum')).toHaveLength(1);
    expect(calls.filter((c) => c === 'readlink')).toHaveLength(10); // one per link: a link target cannot be read otherwise
    expect(res.map((r) => r.type ?? 'missing')).toEqual(paths.map((_, i) => ['file', 'directory', 'link', 'missing'][i % 4]));
    expect(res.filter((r) => r.type === 'link').map((r) => r.linkTarget)).toEqual(paths.flatMap((_, i) => (i % 4 === 2 ? [`t\\${i}`] : [])));
    expect(await createRemote(conn).stat(paths, { checksum: true })).toEqual(res);
    expect(statCommand(paths, { checksum: true }).match(/\bstat /g)).toHaveLength(1);
  });

  test('a file it cannot read for its checksum is an error naming it', async () => {
    const r = createRemote({ ...conn, name: 'h', exec: (cmd: string, o?: object) => conn.exec(cmd.replace('sha256sum --', 'sha256sum /nonexistent/x --'), o) } as never, undefined, { shellProbes: true });
    const f = path.join(dir, 'st-sum');
    fs.writeFileSync(f, 'x');
    await expect(r.stat([f], { checksum: true })).rejects.toThrow(/h: cannot read .*st-sum for checksums: .*nonexistent/);
  });

  test('no paths: no command', async () => {
    expect(await remote.stat([])).toEqual([]);
  });
});

describe('writeFile', () => {
  test('mode, owner and group are set (before the rename)', async () => {
    const p = path.join(dir, 'owned');
    await remote.writeFile(p, 'data', { mode: '0640', owner: 'nobody', group: 'nogroup' });
    const st = fs.statSync(p);
    expect(st.mode & 0o7777).toBe(0o640);
    expect(st.uid).toBe(65534);
    expect(fs.readFileSync(p, 'utf8')).toBe('data');
  });

  test('a replaced file keeps its mode and owner; a new one follows the umask', async () => {
    const p = path.join(dir, 'keep');
    fs.writeFileSync(p, 'old');
    fs.chmodSync(p, 0o604);
    fs.chownSync(p, 65534, 65534);
    await remote.writeFile(p, 'new');
    const st = fs.statSync(p);
    expect(st.mode & 0o7777).toBe(0o604);
    expect(st.uid).toBe(65534);
    const umask = Number.parseInt((await remote.query('umask')).stdout.trim(), 8);
    const fresh = path.join(dir, 'fresh');
    await remote.writeFile(fresh, 'x');
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o666 & ~umask);
  });

  test('validate failure: target untouched, temp removed, validator output in the error', async () => {
    const p = path.join(dir, 'validated');
    fs.writeFileSync(p, 'good');
    const err = await remote
      // validate runs without a shell (issue 12): a shell is asked for by name, the path is $1
      .writeFile(p, 'bad content', { validate: `sh -c 'echo "checking $1"; echo "syntax error" >&2; exit 3' sh %s` })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ModuleFailure);
    expect(err.message).toMatch(/validation of .*validated failed \(rc=3\): syntax error; the file was not changed/);
    expect(err.result.stdout).toMatch(/^checking .*\.tsplay-tmp-/);
    expect(err.result.stderr.trim()).toBe('syntax error');
    expect(fs.readFileSync(p, 'utf8')).toBe('good');
    expect(leftovers(dir)).toEqual([]);
  });

  test('validate sees the new content at %s (quoted)', async () => {
    const sub = path.join(dir, "v 'dir' $(x)");
    fs.mkdirSync(sub);
    const p = path.join(sub, 'conf');
    await remote.writeFile(p, 'hello\n', { validate: 'grep -q hello %s' });
    expect(fs.readFileSync(p, 'utf8')).toBe('hello\n');
    await expect(remote.writeFile(p, 'bye\n', { validate: 'grep -q hello %s' })).rejects.toThrow(/validation/);
    expect(fs.readFileSync(p, 'utf8')).toBe('hello\n');
    expect(leftovers(sub)).toEqual([]);
  });

  test('backup keeps the old content as path.YYYYMMDD-HHMMSS', async () => {
    const p = path.join(dir, 'with backup');
    expect(await remote.writeFile(p, 'first', { backup: true })).toEqual({});
    const r = await remote.writeFile(p, 'second', { backup: true });
    expect(r.backupFile).toMatch(/with backup\.\d{8}-\d{6}$/);
    expect(fs.readFileSync(r.backupFile!, 'utf8')).toBe('first');
    expect(fs.readFileSync(p, 'utf8')).toBe('second');
    expect(backupName('/x', new Date(2024, 0, 2, 3, 4, 5))).toBe('/x.20240102-030405');
  });

  test('the exact mode whatever it is; a mode the shell can create directly costs no chmod; one cat, one mv, no chown (PATH shims)', async () => {
    const shims = programShims(path.join(dir, 'wshims'), ['chmod', 'chown', 'mv', 'sync', 'cat']);
    const shimmed = shimmedRemote(shims.dir);
    const calls = shims.calls;
    for (const mode of ['0644', '0640', '0600', '0666', '0755', '4755', '0444', '0000', '1777']) {
      shims.reset();
      const f = path.join(dir, `mode-${mode}`);
      await shimmed.writeFile(f, `content ${mode}`, { mode });
      expect(`${mode}: ${(fs.statSync(f).mode & 0o7777).toString(8).padStart(4, '0')}`).toBe(`${mode}: ${mode}`);
      expect(fs.readFileSync(f, 'utf8')).toBe(`content ${mode}`);
      // no x, no special bits and the owner can read and write: the shell creates the file with
      // that mode (in the private dir); 0444 and 0000 are set last, after checksum and validate
      const direct = ['0644', '0640', '0600', '0666'].includes(mode);
      expect(`${mode}: ${calls().filter((c) => c === 'chmod').length}`).toBe(`${mode}: ${direct ? 0 : 1}`);
      expect(calls().filter((c) => c === 'cat')).toHaveLength(1);
      expect(calls()).not.toContain('chown');
      expect(calls().filter((c) => c === 'mv')).toHaveLength(1);
    }
    expect(leftovers(dir)).toEqual([]);
  });

  test('a non-root writer can give its file a mode without owner read (0200, 0000): checksum and validate read it first', async () => {
    const wdir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-nobody-'));
    fs.chmodSync(wdir, 0o777);
    try {
      const asNobody = createRemote(conn, { user: 'nobody', method: 'sudo' });
      for (const mode of ['0200', '0000']) {
        const f = path.join(wdir, `m${mode}`);
        await asNobody.writeFile(f, `c ${mode}`, { mode, validate: 'test -s %s' });
        expect(`${mode}: ${(fs.statSync(f).mode & 0o7777).toString(8).padStart(4, '0')}`).toBe(`${mode}: ${mode}`);
        expect(fs.readFileSync(f, 'utf8')).toBe(`c ${mode}`);
      }
    } finally {
      fs.rmSync(wdir, { recursive: true, force: true });
    }
  });

  test('failure to write (no such directory) is an error naming the step', async () => {
    await expect(remote.writeFile(path.join(dir, 'no', 'dir', 'f'), 'x')).rejects.toThrow(/cannot write .*f: mktemp failed/);
  });

  test('a directory in the way is not replaced', async () => {
    const d = path.join(dir, 'adir');
    fs.mkdirSync(d);
    await expect(remote.writeFile(d, 'x')).rejects.toThrow(/rename failed/);
    expect(fs.statSync(d).isDirectory()).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  test('bad mode string is refused before anything runs', async () => {
    await expect(remote.writeFile(path.join(dir, 'm'), 'x', { mode: '644; rm -rf /' })).rejects.toThrow(/mode must be an octal string/);
  });

  test('8 MiB binary round trip', async () => {
    const data = randomBytes(8 * 1024 * 1024);
    const p = path.join(dir, 'large');
    await remote.writeFile(p, data);
    expect((await remote.readFile(p))!.equals(data)).toBe(true);
  });

  test('works under become', async () => {
    const d = path.join(dir, 'nobodys');
    fs.chmodSync(dir, 0o755); // mkdtemp made it 0700: nobody could not reach inside
    fs.mkdirSync(d);
    fs.chownSync(d, 65534, 65534);
    const asNobody = createRemote(conn, { user: 'nobody', method: 'sudo' });
    await asNobody.writeFile(path.join(d, 'f'), 'mine', { mode: '0600' });
    const st = fs.statSync(path.join(d, 'f'));
    expect(st.uid).toBe(65534);
    expect((await asNobody.readFile(path.join(d, 'f')))!.toString()).toBe('mine');
    expect((await asNobody.exec('id -un')).stdout).toBe('nobody\n');
  });
});

describe('probeOnly', () => {
  test('has only query/readFile/stat, and no way back to the remote', async () => {
    const p = probeOnly(remote);
    expect(Object.keys(p).sort()).toEqual(['query', 'readFile', 'stat']);
    expect((p as unknown as Remote).exec).toBeUndefined();
    expect((p as unknown as Remote).writeFile).toBeUndefined();
    expect(Object.isFrozen(p)).toBe(true);
    expect((await p.query('echo hi')).stdout).toBe('hi\n');
  });
});
