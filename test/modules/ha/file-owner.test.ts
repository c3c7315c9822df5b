import * as fs from 'fs';
import * as path from 'path';
import fileOwner, { planScript } from '../../../modules/file-owner';
import { ModuleFailure } from '../../../runner/module-api';
import { FakeHost, HOSTILE, LocalHost, readOnly, runTask, validate } from './fake';

const ARGS = { path: '/opt/HA', owner: 'motadata', group: 'motadata' };

function host(stdout: string): FakeHost {
  return new FakeHost().onQuery(/^getent passwd/, { stdout }).onExec(/./, {});
}

describe('file-owner (fake host)', () => {
  test('no change: every entry already owned, one query', async () => {
    const h = host('count 1234 s\nfindrc 0\n');
    const r = await runTask(fileOwner, ARGS, h);
    expect(r.changed).toBe(false);
    expect(h.calls).toHaveLength(1);
    expect(r.result).toMatchObject({ entries: 1234, changed_entries: 0 });
    expect(h.cmds('query')[0]).toBe(planScript({ ...ARGS, recurse: true, create: false }));
  });

  test('drift on some entries: chown only those, with find -exec +', async () => {
    const h = host('count 3 d root:root\ncount 2 d 1001:1001\ncount 995 s\nfindrc 0\n');
    const r = await runTask(fileOwner, ARGS, h);
    expect(r.plan.changes).toEqual([
      {
        kind: 'exec',
        summary: 'chown 5 entries under /opt/HA',
        command: "find /opt/HA \\( ! -user motadata -o ! -group motadata \\) -exec chown -h motadata:motadata -- {} +",
        diff: { path: '/opt/HA (owners)', before: 'root:root: 3 entries\n1001:1001: 2 entries\nmotadata:motadata: 995 entries\n', after: 'motadata:motadata: 1000 entries\n' },
      },
    ]);
    expect(h.cmds('exec')).toEqual([(r.plan.changes[0] as { command: string }).command]);
  });

  test('drift on every entry: one chown -R', async () => {
    const h = host('count 10000 d root:root\nfindrc 0\n');
    const r = await runTask(fileOwner, ARGS, h);
    expect(h.cmds('exec')).toEqual(['chown -R motadata:motadata -- /opt/HA']);
    expect(r.plan.changes[0]).toMatchObject({ summary: 'chown 10000 entries under /opt/HA' });
  });

  test('recurse: false looks at the path only; no group given checks the owner only', async () => {
    const h = host('count 1 d root:root\nfindrc 0\n');
    await runTask(fileOwner, { path: '/opt/HA', owner: 'motadata', recurse: false }, h);
    expect(h.cmds('query')[0]).toContain("find /opt/HA -maxdepth 0 ! -user motadata -printf 'd %u:%g\\n' -o -printf 's\\n'");
    expect(h.cmds('query')[0]).not.toContain('getent group');
    expect(h.cmds('exec')).toEqual(['find /opt/HA -maxdepth 0 ! -user motadata -exec chown -h motadata -- {} +']);
  });

  test('missing path: create it when asked, else fail', async () => {
    const h = host('missing\n');
    const r = await runTask(fileOwner, { ...ARGS, create: true, mode: '0750' }, h);
    expect(h.cmds('exec')).toEqual(['mkdir -p -m 0750 -- /opt/HA && chown motadata:motadata -- /opt/HA']);
    expect(r.plan.changes[0]).toMatchObject({ summary: 'create directory /opt/HA owned by motadata:motadata mode 0750' });
    await expect(runTask(fileOwner, ARGS, host('missing\n'))).rejects.toThrow(new ModuleFailure('/opt/HA does not exist'));
  });

  test('unknown user or group: clear failure before anything', async () => {
    await expect(runTask(fileOwner, ARGS, host('nouser\ncount 3 d root:root\nfindrc 0\n'))).rejects.toThrow('user motadata does not exist on db1');
    await expect(runTask(fileOwner, ARGS, host('nogroup\ncount 3 s\nfindrc 0\n'))).rejects.toThrow('group motadata does not exist on db1');
    await expect(runTask(fileOwner, ARGS, host('count 3 s\nfindrc 1\n'))).rejects.toThrow('find failed under /opt/HA (rc=1)');
  });

  test('check mode: counts and reports, never mutates', async () => {
    const h = host('count 7 d root:root\ncount 3 s\nfindrc 0\n');
    const ro = readOnly(h);
    const r = await runTask(fileOwner, ARGS, ro, { check: true });
    expect(r.changed).toBe(true);
    expect(r.plan.changes[0]).toMatchObject({ summary: 'chown 7 entries under /opt/HA' });
    expect(ro.violations).toEqual([]);
    expect(h.mutations()).toEqual([]);
  });

  test('bad arguments', () => {
    expect(validate(fileOwner, { path: 'opt/HA', owner: 'x' }).valid).toBe(false);
    expect(validate(fileOwner, { path: '/opt/HA' }).valid).toBe(false);
    expect(validate(fileOwner, { path: '/opt/HA', owner: 'x', mode: '999' }).valid).toBe(false);
    expect(validate(fileOwner, { path: '/opt/HA', owner: 'x', recurse: 'maybe' }).valid).toBe(false);
    // Ansible's boolean words are booleans, as the engine's registry normalises them
    expect(validate(fileOwner, { path: '/opt/HA', owner: 'x', recurse: 'yes' }).args.recurse).toBe(true);
    expect(validate(fileOwner, { path: '/opt/HA', owner: 'x' }).args).toMatchObject({ recurse: true, create: false });
  });
});

/** Real runs on this machine: find/chown with nobody:nogroup and daemon:daemon, users every Debian has. */
describe('file-owner (real /bin/sh, real find and chown)', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync('/tmp/tsplay-fo-');
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('10,000 files: one query + one chown -R, then idempotent, then partial drift', async () => {
    const tree = path.join(root, 'HA');
    for (let d = 0; d < 100; d++) {
      const dir = path.join(tree, `d${d}`);
      fs.mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(dir, `f${f}`), '');
    }
    fs.symlinkSync('/etc/passwd', path.join(tree, 'link-to-passwd'));
    const total = 1 + 100 + 100 * 100 + 1;
    const h = new LocalHost();
    const args = { path: tree, owner: 'nobody', group: 'nogroup' };

    let t = Date.now();
    const first = await runTask(fileOwner, args, h);
    const firstMs = Date.now() - t;
    expect(first.plan.changes[0]).toMatchObject({ summary: `chown ${total} entries under ${tree}` });
    expect(h.calls.map((c) => c.kind)).toEqual(['query', 'exec']);
    expect(fs.statSync(path.join(tree, 'd99', 'f99')).uid).toBe(65534);
    expect(fs.lstatSync(path.join(tree, 'link-to-passwd')).uid).toBe(65534);
    // the link was changed, not what it points to
    expect(fs.statSync('/etc/passwd').uid).toBe(0);

    t = Date.now();
    const again = await runTask(fileOwner, args, h);
    const againMs = Date.now() - t;
    expect(again.changed).toBe(false);
    expect(again.result).toMatchObject({ entries: total, changed_entries: 0 });

    for (let f = 0; f < 50; f++) fs.chownSync(path.join(tree, 'd7', `f${f}`), 1, 1);
    fs.chownSync(path.join(tree, 'd8'), 0, 0);
    t = Date.now();
    const partial = await runTask(fileOwner, args, h);
    const partialMs = Date.now() - t;
    expect(partial.plan.changes[0]).toMatchObject({ summary: `chown 51 entries under ${tree}` });
    expect((partial.plan.changes[0] as { diff: { before: string } }).diff.before).toBe(`daemon:daemon: 50 entries\nroot:root: 1 entry\nnobody:nogroup: ${total - 51} entries\n`);
    expect((partial.plan.changes[0] as { command: string }).command).toMatch(/^find .* -exec chown -h nobody:nogroup -- \{\} \+$/);
    expect(fs.statSync(path.join(tree, 'd7', 'f0')).uid).toBe(65534);
    expect((await runTask(fileOwner, args, h)).changed).toBe(false);
    process.stdout.write(`file-owner, ${total} entries: first run (query + chown -R) ${firstMs} ms, no-change run ${againMs} ms, 51-entry drift ${partialMs} ms\n`);
  }, 60000);

  test('hostile path and names stay literal', async () => {
    const h = new LocalHost();
    for (const bad of HOSTILE.filter((b) => !b.includes('/'))) {
      const p = path.join(root, bad);
      fs.mkdirSync(p);
      fs.writeFileSync(path.join(p, bad), '');
      const r = await runTask(fileOwner, { path: p, owner: 'daemon', group: 'daemon' }, h);
      expect([bad, r.plan.changes[0]]).toMatchObject([bad, { summary: `chown 2 entries under ${p}` }]);
      expect(fs.statSync(path.join(p, bad)).uid).toBe(1);
      expect((await runTask(fileOwner, { path: p, owner: 'daemon', group: 'daemon' }, h)).changed).toBe(false);
    }
    // a hostile user name is refused by the schema, before anything runs
    await expect(runTask(fileOwner, { path: root, owner: '$(touch /tmp/pwned)', group: 'daemon' }, h)).rejects.toThrow(/file-owner: owner: must match pattern/);
    await expect(runTask(fileOwner, { path: root, owner: 'daemon', group: '--from=root' }, h)).rejects.toThrow(/file-owner: group: must match pattern/);
    // a name that passes the rule but does not exist is looked up literally and fails cleanly
    await expect(runTask(fileOwner, { path: root, owner: 'no.such-user_x', group: 'daemon' }, h)).rejects.toThrow('user no.such-user_x does not exist');
    expect(fs.existsSync('/tmp/pwned')).toBe(false);
  });

  test('create: a missing directory is made with its mode and owner', async () => {
    const p = path.join(root, 'new dir', 'HA');
    const r = await runTask(fileOwner, { path: p, owner: 'daemon', group: 'daemon', create: true, mode: '0750' }, new LocalHost());
    expect(r.changed).toBe(true);
    const st = fs.statSync(p);
    expect([st.uid, st.gid, (st.mode & 0o7777).toString(8)]).toEqual([1, 1, '750']);
    expect((await runTask(fileOwner, { path: p, owner: 'daemon', group: 'daemon', create: true, mode: '0750' }, new LocalHost())).changed).toBe(false);
  });
});
