/**
 * Issue 12, hostile writes: what someone who controls a value, or who can write to the target's
 * directory, can do to a file write. Run through the real shell path (createRemote over the local
 * connection with shell probes: the code SSH and become use), the real modules, and once through
 * the CLI. Every case asserts that nothing ran (no marker file), nothing was written through a
 * link (the victim is intact: content, mode, owner) and the target is intact or exactly new.
 */

import { execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import archive from '../../modules/archive';
import pgBackup from '../../modules/postgres_backup';
import { LocalConnection } from '../../runner/connection/local';
import { backupName, createRemote } from '../../runner/connection/remote';
import { writeScript } from '../../runner/connection/write-script';
import type { Remote } from '../../runner/module-api';
import { quote } from '../../runner/shell-quote';
import { runTask } from '../modules/ha/fake';
import { makeProject, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(60_000);

let conn: LocalConnection;
let remote: Remote;
let root: string;
let dir: string;
const MARK = 'PWNED-h12';

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-hw-'));
  conn = new LocalConnection('hw');
  remote = createRemote(conn, undefined, { shellProbes: true });
});
afterAll(async () => {
  await conn.close();
  fs.rmSync(root, { recursive: true, force: true });
});
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(root, 'case-'));
});

const mark = (): string => path.join(dir, MARK);
const ours = (d = dir): string[] => fs.readdirSync(d).filter((n) => n.startsWith('.tsplay-'));
/** content, mode and owner of a file, to show it was not touched */
const fingerprint = (p: string): string => {
  const st = fs.lstatSync(p);
  return `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isSymbolicLink() ? `-> ${fs.readlinkSync(p)}` : fs.readFileSync(p, 'latin1')}`;
};
const victim = (name = 'victim', mode = 0o600): string => {
  const v = path.join(root, `${path.basename(dir)}-${name}`);
  fs.writeFileSync(v, `precious ${name}\n`, { mode });
  fs.chmodSync(v, mode);
  return v;
};
/** a pid that is certainly not running: a child that has exited */
const deadPid = (): number => Number(execFileSync('/bin/sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
/** `prefix-YYYYMMDD-HHMMSS` names from now to `secs` seconds ahead (the host is this machine) */
const upcoming = (base: string, secs: number): string[] => Array.from({ length: secs + 1 }, (_, i) => backupName(base, new Date(Date.now() + i * 1000)));

describe('validate runs as an argv: a value in it adds words, never shell code (item 3)', () => {
  const VALUES: string[] = [
    `; touch ${'M'}`,
    '$(touch M)',
    '`touch M`',
    '&& touch M',
    '|| touch M',
    '| tee M',
    '> M',
    '\ntouch M',
    "'; touch M; '",
    '"; touch M; "',
    '%s; touch M',
    '$(touch M)%s',
  ];
  it.each(VALUES)('grep -q ok <%j> %%s: validation fails, nothing ran, target intact', async (v) => {
    const p = path.join(dir, 'conf');
    fs.writeFileSync(p, 'old ok\n');
    const value = v.replace(/\bM\b/g, mark());
    const err = await remote.writeFile(p, 'new content\n', { validate: `grep -q ok ${value} %s` }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect(fs.existsSync(mark())).toBe(false);
    expect(fs.readFileSync(p, 'utf8')).toBe('old ok\n');
    expect(ours()).toEqual([]);
  });

  it.each([
    ['an assignment', `A=1 touch ${MARK} %s`],
    ['a builtin', `eval touch ${MARK} %s`],
    ['a reserved word', `if touch ${MARK}; then :; fi %s`],
    ['a function of the script', `fail %s`],
  ])('the first word is a program, never %s', async (_what, validate) => {
    const p = path.join(dir, 'conf');
    fs.writeFileSync(p, 'old\n');
    const err = await remote.writeFile(p, 'new\n', { validate: validate.replace(MARK, mark()) }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/validation of .*conf failed \(rc=127\).*not found; the file was not changed/);
    expect(fs.existsSync(mark())).toBe(false);
    expect(fs.readFileSync(p, 'utf8')).toBe('old\n');
    expect(ours()).toEqual([]);
  });

  it.each([
    ["grep -q 'unclosed %s", /cannot split validate .* no closing quotation/],
    ['-oops %s', /validate must start with a program, not "-oops"/],
    ['   ', /validate is empty/],
  ])('%j is refused before anything runs', async (validate, msg) => {
    const p = path.join(dir, 'conf');
    fs.writeFileSync(p, 'old\n');
    const spy = jest.spyOn(conn, 'exec');
    await expect(remote.writeFile(p, 'new\n', { validate })).rejects.toThrow(msg);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(fs.readFileSync(p, 'utf8')).toBe('old\n');
  });

  test('%s inside a word is the temp path in that one word; a quoted path with spaces stays one word', async () => {
    const sub = path.join(dir, "a dir 'q' $(x)");
    fs.mkdirSync(sub);
    const p = path.join(sub, 'my conf');
    await remote.writeFile(p, 'port 1\n', { validate: `sh -c 'case "$1" in --file=/*/my\\ conf) grep -q port "\${1#--file=}" ;; *) exit 9 ;; esac' sh --file=%s` });
    expect(fs.readFileSync(p, 'utf8')).toBe('port 1\n');
  });
});

/**
 * The other user wins the race: right after the data is in (a `sync` shim, first in PATH, acts
 * for them at that moment) they swap what they can reach from the target's directory: the old
 * temp file for a symlink to a victim, or the new private directory for a look-alike whose entry
 * is such a symlink.
 */
function attackerRemote(victimPath: string, name: string): Remote {
  const shims = path.join(dir, '..', `${path.basename(dir)}-shims`);
  fs.mkdirSync(shims, { recursive: true });
  const realSync = execFileSync('/bin/sh', ['-c', 'command -v sync'], { encoding: 'utf8' }).trim();
  fs.writeFileSync(
    path.join(shims, 'sync'),
    [
      '#!/bin/sh',
      `for x in ${quote(dir)}/.tsplay-tmp-*; do`,
      `  if [ -d "$x" ]; then mv "$x" ${quote(dir)}/.moved-away && mkdir "$x" && ln -s ${quote(victimPath)} "$x"/${quote(name)};`,
      `  elif [ -f "$x" ]; then rm -f "$x" && ln -s ${quote(victimPath)} "$x"; fi`,
      'done',
      `exec ${quote(realSync)} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const exec = (cmd: string, o?: object) => conn.exec(`PATH=${quote(shims)}:"$PATH"; ${cmd}`, o);
  return createRemote({ ...conn, name: conn.name, exec } as never, undefined, { shellProbes: true });
}

describe('the temp file is never reached by name through a swapped link (item 2)', () => {
  it.each([
    ['owner and mode given', { owner: 'nobody', mode: '0755' }],
    ['mode and owner kept from the file it replaces', {}],
  ])('%s: the victim is untouched, the target is the new regular file', async (_what, opts) => {
    const v = victim('shadow', 0o600);
    const before = fingerprint(v);
    const p = path.join(dir, 'index.html');
    fs.writeFileSync(p, 'old page\n', { mode: 0o644 });
    await attackerRemote(v, 'index.html').writeFile(p, 'new page\n', opts);
    expect(fingerprint(v)).toBe(before);
    expect(fs.lstatSync(p).isFile()).toBe(true);
    expect(fs.readFileSync(p, 'utf8')).toBe('new page\n');
    expect(fs.statSync(p).mode & 0o777).toBe('mode' in opts ? 0o755 : 0o644);
  });
});

describe('a private directory left by a killed write is cleaned by the next write, and nothing else is', () => {
  test('ours, its writer gone: removed', async () => {
    const stale = path.join(dir, `.tsplay-tmp-${deadPid()}-0123456789abcdef`);
    fs.mkdirSync(stale, { mode: 0o700 });
    fs.writeFileSync(path.join(stale, 'conf'), 'half a fi');
    await remote.writeFile(path.join(dir, 'conf'), 'whole\n');
    expect(ours()).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'conf'), 'utf8')).toBe('whole\n');
  });

  test('its writer alive (a write in progress): kept', async () => {
    const live = path.join(dir, `.tsplay-tmp-${process.pid}-0123456789abcdef`);
    fs.mkdirSync(live, { mode: 0o700 });
    await remote.writeFile(path.join(dir, 'conf'), 'x');
    expect(ours()).toEqual([path.basename(live)]);
  });

  test('a symlink with a stale name: not followed (what it points to is intact)', async () => {
    const elsewhere = fs.mkdtempSync(path.join(root, 'elsewhere-'));
    fs.writeFileSync(path.join(elsewhere, 'conf'), 'keep me');
    const link = path.join(dir, `.tsplay-tmp-${deadPid()}-feed`);
    fs.symlinkSync(elsewhere, link);
    await remote.writeFile(path.join(dir, 'conf'), 'x');
    expect(fs.readFileSync(path.join(elsewhere, 'conf'), 'utf8')).toBe('keep me');
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
  });

  test("someone else's directory with a stale name: kept", async () => {
    const theirs = path.join(dir, `.tsplay-tmp-${deadPid()}-beef`);
    fs.mkdirSync(theirs);
    fs.writeFileSync(path.join(theirs, 'f'), 'theirs');
    fs.chownSync(theirs, 65534, 65534);
    await remote.writeFile(path.join(dir, 'conf'), 'x');
    expect(fs.readFileSync(path.join(theirs, 'f'), 'utf8')).toBe('theirs');
  });
});

describe('backup: true never writes through what is planted at dest.YYYYMMDD-HHMMSS (item 4)', () => {
  const plant = (p: string, how: (name: string) => void): string[] => {
    const names = upcoming(p, 4);
    for (const n of names) how(n);
    return names;
  };

  test('a symlink to a victim: the victim is intact, the backup takes the next free name', async () => {
    const p = path.join(dir, 'app.conf');
    fs.writeFileSync(p, 'old\n');
    const v = victim();
    const before = fingerprint(v);
    const planted = plant(p, (n) => fs.symlinkSync(v, n));
    const r = await remote.writeFile(p, 'new\n', { backup: true });
    expect(fingerprint(v)).toBe(before);
    expect(planted).not.toContain(r.backupFile);
    expect(r.backupFile).toMatch(/app\.conf\.\d{8}-\d{6}-\d+$/);
    expect(fs.lstatSync(r.backupFile!).isFile()).toBe(true);
    expect(fs.readFileSync(r.backupFile!, 'utf8')).toBe('old\n');
    expect(fs.readFileSync(p, 'utf8')).toBe('new\n');
    for (const n of planted) expect(fs.readlinkSync(n)).toBe(v);
    expect(ours()).toEqual([]);
  });

  test('a dangling symlink: what it points to is never created', async () => {
    const p = path.join(dir, 'app.conf');
    fs.writeFileSync(p, 'old\n');
    const target = path.join(root, `${path.basename(dir)}-created-through-link`);
    plant(p, (n) => fs.symlinkSync(target, n));
    const r = await remote.writeFile(p, 'new\n', { backup: true });
    expect(fs.existsSync(target)).toBe(false);
    expect(fs.readFileSync(r.backupFile!, 'utf8')).toBe('old\n');
  });

  test('an existing file: not overwritten', async () => {
    const p = path.join(dir, 'app.conf');
    fs.writeFileSync(p, 'old\n');
    const planted = plant(p, (n) => fs.writeFileSync(n, 'an older backup\n'));
    const r = await remote.writeFile(p, 'new\n', { backup: true });
    for (const n of planted) expect(fs.readFileSync(n, 'utf8')).toBe('an older backup\n');
    expect(fs.readFileSync(r.backupFile!, 'utf8')).toBe('old\n');
  });

  test('dest itself a symlink: the backup is that link, its target intact', async () => {
    const v = victim();
    const before = fingerprint(v);
    const p = path.join(dir, 'app.conf');
    fs.symlinkSync(v, p);
    const r = await remote.writeFile(p, 'new\n', { backup: true });
    expect(fingerprint(v)).toBe(before);
    expect(fs.readlinkSync(r.backupFile!)).toBe(v);
    expect(fs.lstatSync(p).isFile()).toBe(true);
  });
});

describe('replacing a symlink at dest: the task mode/owner or the defaults, never the link target (item 5)', () => {
  const umask = (): number => Number.parseInt(execFileSync('/bin/sh', ['-c', 'umask'], { encoding: 'utf8' }).trim(), 8);
  it.each([
    ['to a file of another user (0604, nobody)', 0o604, true, {}],
    ['to a setuid program (4755)', 0o4755, false, {}],
    ['dangling', 0, false, {}],
    ['with mode and owner given', 0o604, true, { mode: '0640', owner: 'daemon' }],
  ] as const)('a link %s', async (_what, mode, nobody, opts) => {
    const p = path.join(dir, 'motd');
    let before = '';
    if (mode) {
      const v = victim('target', mode);
      if (nobody) fs.chownSync(v, 65534, 65534);
      fs.chmodSync(v, mode);
      before = fingerprint(v);
      fs.symlinkSync(v, p);
    } else fs.symlinkSync(path.join(dir, 'nowhere'), p);
    const target = mode ? fs.readlinkSync(p) : '';
    await remote.writeFile(p, 'hello\n', opts);
    const st = fs.lstatSync(p);
    expect(st.isFile()).toBe(true);
    expect(fs.readFileSync(p, 'utf8')).toBe('hello\n');
    if ('mode' in opts) expect([st.mode & 0o7777, st.uid]).toEqual([0o640, 1]);
    else expect([st.mode & 0o7777, st.uid]).toEqual([0o666 & ~umask(), process.getuid!()]);
    if (mode) expect(fingerprint(target)).toBe(before);
    else expect(fs.existsSync(path.join(dir, 'nowhere'))).toBe(false);
  });
});

describe('archive and postgres_backup never write through a link planted at their predictable names (item 4)', () => {
  const stamp = (prefix: string, ext: string, secs: number): string[] =>
    upcoming('x', secs).map((n) => path.join(dir, `${prefix}-${n.slice(2)}.${ext}`));
  let bin: string;
  beforeAll(() => {
    bin = fs.mkdtempSync(path.join(root, 'pgbin-'));
    fs.writeFileSync(path.join(bin, 'pg_isready'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    fs.writeFileSync(path.join(bin, 'pg_dumpall'), '#!/bin/sh\necho "-- the dump"\n', { mode: 0o755 });
  });
  const me = (): string => execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();

  it.each([
    ['archive', 'a dangling symlink'],
    ['archive', 'a symlink to a victim'],
    ['postgres_backup', 'a dangling symlink'],
    ['postgres_backup', 'a symlink to a victim'],
  ])('%s with %s at every name of the next seconds', async (mod, how) => {
    const v = how.includes('victim') ? victim() : path.join(root, `${path.basename(dir)}-made-through-link`);
    const before = fs.existsSync(v) ? fingerprint(v) : 'absent';
    const names = mod === 'archive' ? stamp('etc', 'tar.gz', 4) : stamp('postgres', 'sql.gz', 4);
    for (const n of names) fs.symlinkSync(v, n);
    const r =
      mod === 'archive'
        ? await runTask(archive, { path: '/etc/hostname', dest_dir: dir, name: 'etc' }, remote)
        : await runTask(pgBackup, { bin_dir: bin, dest_dir: dir, os_user: me() }, remote);
    const made = (r.result.archive ?? r.result.backup) as string;
    expect(fs.existsSync(v) ? fingerprint(v) : 'absent').toBe(before);
    expect(names).not.toContain(made);
    expect(fs.lstatSync(made).isFile()).toBe(true);
    expect(fs.statSync(made).mode & 0o777).toBe(0o600);
    if (mod === 'archive') expect(execFileSync('tar', ['-tzf', made], { encoding: 'utf8' })).toBe('hostname\n');
    else expect(execFileSync('gzip', ['-dc', made], { encoding: 'utf8' })).toBe('-- the dump\n');
    for (const n of names) expect(fs.readlinkSync(n)).toBe(v);
    expect(ours()).toEqual([]);
  });
});

test('through the CLI: copy with validate templated from hostile variables runs none of them', () => {
  const values = ['; touch MARK', '$(touch MARK)', '`touch MARK`', '| touch MARK', '> MARK'].map((v) => v.replace('MARK', path.join(dir, MARK)));
  const dest = path.join(dir, 'dest.conf');
  fs.writeFileSync(dest, 'old\n');
  const project = makeProject({
    'hosts.ini': 'localhost ansible_connection=local\n',
    'host_vars/localhost.yml': `values: ${JSON.stringify(values)}\ndest: ${JSON.stringify(dest)}\n`,
    'site.yml': [
      '- hosts: all',
      '  gather_facts: false',
      '  tasks:',
      '    - name: hostile validate',
      '      copy: { content: "new\\n", dest: "{{ dest }}", validate: "grep -q old {{ item }} %s" }',
      '      loop: "{{ values }}"',
      '      ignore_errors: true',
      '',
    ].join('\n'),
  });
  try {
    const run = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: project });
    const res = results(run, 'hostile validate');
    expect(res.length).toBeGreaterThan(0);
    expect(JSON.stringify(res)).toMatch(/validation of .*dest\.conf failed/);
    expect(fs.existsSync(mark())).toBe(false);
    expect(fs.readFileSync(dest, 'utf8')).toBe('old\n');
    expect(ours()).toEqual([]);
  } finally {
    fs.rmSync(project, { recursive: true, force: true });
  }
});

test('a relative dest (and its backup) is resolved where the session runs, not in the private directory', async () => {
  fs.writeFileSync(path.join(dir, 'rel.conf'), 'old\n');
  const data = Buffer.from('new\n');
  const script = writeScript({
    tok: 'tsplay-w-rel',
    path: 'rel.conf',
    nonce: 'feedbeef',
    size: data.length,
    sha256: createHash('sha256').update(data).digest('hex'),
    backup: 'rel.conf.20240101-000000',
    validate: ['grep', '-q', 'new', '%s'],
  });
  const r = await conn.exec(script, { cwd: dir, stdin: data });
  expect(r.stderr.toString()).toBe('tsplay-w-rel:backup:0\n');
  expect(fs.readFileSync(path.join(dir, 'rel.conf'), 'utf8')).toBe('new\n');
  expect(fs.readFileSync(path.join(dir, 'rel.conf.20240101-000000'), 'utf8')).toBe('old\n');
  expect(ours()).toEqual([]);
});
