import * as fs from 'fs';
import * as path from 'path';
import user, { queryScript, sudoersContent, sudoersPath } from '../../../modules/user';
import { ModuleFailure } from '../../../runner/module-api';
import { argsOf, ArgvRecorder, FakeHost, HOSTILE, LocalHost, makeCtx, readOnly, runTask, validate } from './fake';

const HASH = '$6$rounds=5000$saltsalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm';
const PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH0 motadata@db1';
const PRESENT = ['passwd motadata:x:1500:1500::/home/motadata:/bin/bash', 'pgroup motadata', 'groups motadata postgres'];

function host(lines: string[], after?: string[]): FakeHost {
  let applied = false;
  const h = new FakeHost();
  h.onQuery(/./, () => ({ stdout: (applied && after ? after : lines).join('\n') + '\n' }));
  h.onExec(/./, () => ((applied = true), {}));
  const w = h.writeFile.bind(h);
  h.writeFile = async (p, d, o) => ((applied = true), w(p, d, o));
  return h;
}

const FULL = { name: 'motadata', shell: '/bin/bash', groups: ['postgres'], append: true, password: HASH, sudo: 'nopasswd', generate_ssh_key: true };

describe('user (fake host)', () => {
  test('no change: account, groups, password, sudo and key as asked', async () => {
    const h = host([...PRESENT, 'pw same', 'key yes', `pub ${PUB}`]);
    h.files.set('/etc/sudoers.d/motadata', sudoersContent('motadata', 'nopasswd'));
    const r = await runTask(user, FULL, h);
    expect(r.changed).toBe(false);
    expect(h.calls.map((c) => c.kind)).toEqual(['query', 'readFile']);
    // the hash went on stdin only
    expect(h.calls[0].opts).toEqual({ stdin: `${HASH}\n` });
    expect(h.calls[0].cmd).not.toContain(HASH);
    expect(r.result).toMatchObject({ name: 'motadata', uid: 1500, group: 'motadata', groups: ['postgres'], shell: '/bin/bash', ssh_public_key: PUB });
  });

  test('drift: a new user, created with everything in order', async () => {
    const h = host(['absent'], [...PRESENT, 'key yes', `pub ${PUB}`]);
    const r = await runTask(user, { ...FULL, uid: 1500, group: 'motadata', home: '/home/motadata' }, h);
    expect(h.calls.filter((c) => c.kind === 'exec' || c.kind === 'writeFile').map((c) => c.cmd ?? `write ${c.path}`)).toEqual([
      'useradd -u 1500 -g motadata -G postgres -s /bin/bash -d /home/motadata -m -- motadata',
      'chpasswd -e',
      'write /etc/sudoers.d/motadata',
      'h=$(getent passwd -- motadata | cut -d: -f6) && [ -n "$h" ] || { echo "no home for user" >&2; exit 1; } && ' +
        'runuser -u motadata -- mkdir -p -m 0700 -- "$h"/.ssh && ' +
        "runuser -u motadata -- ssh-keygen -q -t ed25519 -N '' -C motadata@db1 -f \"$h\"/.ssh/id_ed25519",
    ]);
    expect(h.calls.find((c) => c.cmd === 'chpasswd -e')?.opts).toEqual({ stdin: `motadata:${HASH}\n` });
    expect(h.calls.find((c) => c.kind === 'writeFile')).toMatchObject({
      data: '# managed by tsplay (user module)\nmotadata ALL=(ALL:ALL) NOPASSWD: ALL\n',
      opts: { mode: '0440', owner: 'root', group: 'root', validate: 'visudo -cf %s' },
    });
    expect(r.result).toMatchObject({ uid: 1500, ssh_public_key: PUB });
  });

  test('the password hash appears in no summary, command, diff, message or result', async () => {
    const h = host(['absent'], PRESENT);
    const r = await runTask(user, FULL, h, { diff: true });
    const visible = JSON.stringify({ changes: r.plan.changes.map((c) => ({ ...c, opts: undefined })), result: r.result, msg: r.plan.msg });
    expect(visible).not.toContain(HASH);
    expect(visible).not.toContain('saltsalt');
    // a failing chpasswd does not echo it either
    const bad = host(['absent']).onExec('chpasswd', { rc: 1, stderr: `chpasswd: line 1: bad hash ${HASH}` });
    const err = (await runTask(user, FULL, bad).catch((e: unknown) => e)) as ModuleFailure;
    expect(err).toBeInstanceOf(ModuleFailure);
    expect(JSON.stringify({ m: err.message, r: err.result })).not.toContain(HASH);
    expect(err.message).toContain('********');
  });

  test('drift: shell, groups replaced (append false), password differs, sudo file differs', async () => {
    const h = host(['passwd motadata:x:1500:1500::/home/motadata:/bin/sh', 'pgroup motadata', 'groups motadata wheel adm', 'pw differs']);
    h.files.set('/etc/sudoers.d/motadata', 'motadata ALL=(ALL) ALL\n');
    const r = await runTask(user, { name: 'motadata', shell: '/bin/bash', groups: 'postgres,adm', password: HASH, sudo: 'nopasswd' }, h);
    expect(r.plan.changes.map((c) => (c.kind === 'exec' ? [c.summary, c.command] : [c.summary, c.path]))).toEqual([
      ['update user motadata: shell /bin/sh -> /bin/bash, groups wheel,adm -> postgres,adm', 'usermod -s /bin/bash -G postgres,adm -- motadata'],
      ['set the password of motadata', 'chpasswd -e'],
      ['sudo nopasswd for motadata (/etc/sudoers.d/motadata)', '/etc/sudoers.d/motadata'],
    ]);
    expect(r.plan.changes[0]).toMatchObject({ diff: { before: 'shell: /bin/sh\ngroups: wheel,adm\n', after: 'shell: /bin/bash\ngroups: postgres,adm\n' } });
  });

  test('append adds only the missing groups', async () => {
    const h = host([...PRESENT]);
    await runTask(user, { name: 'motadata', groups: ['postgres', 'ssl-cert'], append: true }, h);
    expect(h.cmds('exec')).toEqual(['usermod -a -G ssl-cert -- motadata']);
  });

  test('absent: userdel (-r with remove) and the sudoers file goes', async () => {
    const h = host([...PRESENT]);
    h.files.set('/etc/sudoers.d/motadata', 'x');
    await runTask(user, { name: 'motadata', state: 'absent', remove: true }, h);
    expect(h.cmds('exec')).toEqual(['userdel -r -- motadata', 'rm -f -- /etc/sudoers.d/motadata']);
    expect((await runTask(user, { name: 'motadata', state: 'absent' }, host(['absent']))).changed).toBe(false);
  });

  test('sudo none removes the file; dots in names do not hide it from sudo', async () => {
    expect(sudoersPath('first.last')).toBe('/etc/sudoers.d/first_last');
    const h = host(['passwd first.last:x:1:1::/h:/bin/sh', 'pgroup g', 'groups g']);
    h.files.set('/etc/sudoers.d/first_last', 'x');
    await runTask(user, { name: 'first.last', sudo: 'none' }, h);
    expect(h.cmds('exec')).toEqual(['rm -f -- /etc/sudoers.d/first_last']);
  });

  test('missing groups fail before any change', async () => {
    const h = host(['absent', 'nogroup motadata', 'nogroup wheel']);
    await expect(runTask(user, { name: 'motadata', group: 'motadata', groups: ['wheel'] }, h)).rejects.toThrow('user motadata: groups motadata, wheel do not exist on db1');
    expect(h.mutations()).toEqual([]);
  });

  test('check mode: reports, never mutates', async () => {
    const h = host(['absent']);
    const ro = readOnly(h);
    const r = await runTask(user, FULL, ro, { check: true });
    expect(r.plan.changes.map((c) => c.summary)).toEqual([
      'create user motadata',
      'set the password of motadata',
      'sudo nopasswd for motadata (/etc/sudoers.d/motadata)',
      'generate an ed25519 SSH key for motadata (.ssh/id_ed25519)',
    ]);
    expect(ro.violations).toEqual([]);
    expect(h.mutations()).toEqual([]);
  });

  // issue 12: the hash is a line of the query's stdin and a `name:hash` record of chpasswd's
  test.each([
    ['a newline adding a record for root', `${HASH}\nroot:$6$x$y`, /password contains a newline/],
    ['a carriage return', `${HASH}\r`, /password contains a carriage return/],
    ['a NUL', `${HASH}\u0000x`, /password contains the control character U\+0000/],
    ['an ESC', `\u001b[2J${HASH}`, /password contains the control character U\+001B/],
    ['a DEL', `${HASH}\u007f`, /password contains the control character U\+007F/],
    ['a colon (the shadow field separator)', `${HASH}:0:0`, /password contains ":"/],
  ])('a password hash with %s is refused before anything runs, and not shown', async (_what, pw, re) => {
    const h = host(['absent']);
    const e = await runTask(user, { name: 'motadata', password: pw }, h).catch((x) => x);
    expect(e).toBeInstanceOf(ModuleFailure);
    expect(e.message).toMatch(re);
    expect(e.message).not.toContain('saltsalt');
    expect(h.calls).toEqual([]);
  });

  test.each([['-G'], ['--root=/tmp'], ['a:b'], ['wheel,-x'], ['x y']])('groups %j (string or list) is refused before anything runs', async (g) => {
    const h = host(['absent']);
    await expect(runTask(user, { name: 'motadata', groups: g }, h)).rejects.toThrow(/groups/);
    await expect(runTask(user, { name: 'motadata', groups: [g] }, h)).rejects.toThrow(/groups/);
    expect(validate(user, { name: 'motadata', group: g }).valid).toBe(false);
    expect(h.calls).toEqual([]);
  });

  test('bad arguments', () => {
    for (const bad of [...HOSTILE, '-o', 'a:b']) expect([bad, validate(user, { name: bad }).valid]).toEqual([bad, false]);
    expect(validate(user, { name: 'x', sudo: 'yes' }).valid).toBe(false);
    expect(validate(user, { name: 'x', home: 'relative' }).valid).toBe(false);
    expect(validate(user, { name: 'x', uid: 'one' }).valid).toBe(false);
    // a number given as text (a rendered template) is the number, as the engine's ajv coerces it
    expect(validate(user, { name: 'x', uid: '1' }).args.uid).toBe(1);
    expect(validate(user, { name: 'x', ssh_key_type: 'dsa' }).valid).toBe(false);
    expect(validate(user, { name: 'x' }).args).toMatchObject({ state: 'present', append: false, create_home: true, generate_ssh_key: false, ssh_key_type: 'ed25519', remove: false });
  });
});

describe('user: comment and force', () => {
  test('comment: no change when equal, usermod -c when it differs, useradd -c on create; force with absent', async () => {
    const same = host(['passwd motadata:x:1500:1500:HA failover:/home/motadata:/bin/bash', 'pgroup motadata', 'groups motadata']);
    expect((await runTask(user, { name: 'motadata', comment: 'HA failover' }, same)).changed).toBe(false);
    const diff = host(PRESENT);
    await runTask(user, { name: 'motadata', comment: "it's the HA user" }, diff);
    expect(diff.cmds('exec')).toEqual([`usermod -c 'it'\\''s the HA user' -- motadata`]);
    const create = host(['absent']);
    await runTask(user, { name: 'app', comment: 'App user' }, create);
    expect(create.cmds('exec')).toEqual(["useradd -c 'App user' -m -- app"]);
    const gone = host(PRESENT);
    await runTask(user, { name: 'motadata', state: 'absent', force: true, remove: true }, gone);
    expect(gone.cmds('exec')).toEqual(['userdel --force -r -- motadata']);
  });

  test('a comment that would split the passwd record is refused before anything runs; check mode changes nothing', async () => {
    const h = host(PRESENT);
    await expect(runTask(user, { name: 'motadata', comment: 'a:b' }, h)).rejects.toThrow('comment contains ":"');
    await expect(runTask(user, { name: 'motadata', comment: 'a\nroot' }, h)).rejects.toThrow('comment contains a newline');
    expect(h.calls).toEqual([]);
    const ro = readOnly(host(PRESENT));
    const r = await runTask(user, { name: 'motadata', comment: 'x' }, ro, { check: true });
    expect(r.changed).toBe(true);
    expect(ro.violations).toEqual([]);
  });
});

describe('user (real /bin/sh)', () => {
  test('check mode against this machine: real passwd, groups and shadow compare', async () => {
    const rootHash = fs.readFileSync('/etc/shadow', 'utf8').split('\n').find((l) => l.startsWith('root:'))!.split(':')[1];
    const h = readOnly(new LocalHost());
    const same = await runTask(user, { name: 'root', password: rootHash, shell: '/bin/bash', home: '/root' }, h, { check: true });
    expect(same.changed).toBe(false);
    const other = await runTask(user, { name: 'root', password: HASH }, h, { check: true });
    expect(other.plan.changes.map((c) => c.summary)).toEqual(['set the password of root']);
    const pg = await runTask(user, { name: 'postgres', groups: ['ssl-cert'] }, h, { check: true });
    expect(pg.changed).toBe(false);
    expect(pg.result).toMatchObject({ group: 'postgres', groups: ['ssl-cert'] });
    const pg2 = await runTask(user, { name: 'postgres', groups: [], shell: '/bin/sh' }, h, { check: true });
    expect(pg2.plan.changes[0]).toMatchObject({ command: "usermod -s /bin/sh -G '' -- postgres" });
    // a dry run assumes an earlier task creates the group, and says so; a real run refuses
    const nobody = await runTask(user, { name: 'tsplay-nobody', groups: ['tsplay-no-such-group'] }, h, { check: true });
    expect(nobody.plan.msg).toMatch(/tsplay-no-such-group not there yet/);
    const realArgs = argsOf(user, { name: 'tsplay-nobody', groups: ['tsplay-no-such-group'] });
    await expect(user.plan(realArgs, makeCtx(h, { check: false }))).rejects.toThrow('group tsplay-no-such-group does not exist');
    expect(h.violations).toEqual([]);
  });

  test('hostile shell, home, comment and key file stay literal (recorded tools)', async () => {
    const bad = HOSTILE.join(' | ');
    const rec = new ArgvRecorder({ getent: `printf 'x:x:1:1::/tmp/tsplay home:/bin/sh\\n'`, useradd: '', runuser: '' });
    try {
      const a = { name: 'x', shell: `/bin/${bad}`, home: `/h/${bad}`, generate_ssh_key: true, ssh_key_file: `k/${bad}`, ssh_key_comment: bad };
      const h = new FakeHost().onQuery(/./, { stdout: 'absent\n' });
      const plan = await user.plan(validate(user, a).args, makeCtx(h));
      const q = await rec.run(queryScript(validate(user, a).args));
      expect(q.rc).toBe(0);
      for (const c of plan.changes) if (c.kind === 'exec') expect((await rec.run(c.command)).rc).toBe(0);
      const argv = rec.records().filter((r) => r[0] !== 'getent');
      expect(argv).toEqual([
        ['useradd', '-s', `/bin/${bad}`, '-d', `/h/${bad}`, '-m', '--', 'x'],
        ['runuser', '-u', 'x', '--', 'mkdir', '-p', '-m', '0700', '--', `/tmp/tsplay home/${path.posix.dirname(`k/${bad}`)}`],
        ['runuser', '-u', 'x', '--', 'ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', bad, '-f', `/tmp/tsplay home/k/${bad}`],
      ]);
      expect(fs.existsSync('/tmp/pwned')).toBe(false);
    } finally {
      rec.cleanup();
    }
  });
});
