/**
 * The engine modules over the project's real connection stack (LocalConnection's persistent
 * shell + createRemote's stat/readFile/atomic writeFile), not the test doubles: proves the
 * modules and the Remote agree on paths, modes, owners, checksums and validate.
 */
import * as fs from 'fs';
import * as path from 'path';
import command from '../../modules/command';
import copy from '../../modules/copy';
import file from '../../modules/file';
import lineinfile from '../../modules/lineinfile';
import setup from '../../modules/setup';
import shell from '../../modules/shell';
import stat from '../../modules/stat';
import template from '../../modules/template';
import waitFor from '../../modules/wait_for';
import { LocalConnection } from '../../runner/connection/local';
import { createRemote, probeOnly } from '../../runner/connection/remote';
import type { TsplayModule } from '../../runner/module-api';
import { makeTempDir, runModule, snapshotTree, type TestRemote } from '../helpers/fake-remote';

describe('engine modules over LocalConnection + createRemote', () => {
  let conn: LocalConnection;
  let remote: TestRemote;
  let dir: string;
  let tpl: string;

  beforeAll(() => {
    conn = new LocalConnection('local-test');
    const r = createRemote(conn);
    remote = Object.assign(r, { probeOnly: () => probeOnly(r) });
    dir = makeTempDir();
    tpl = path.join(dir, 'tpl');
    fs.mkdirSync(path.join(tpl, 'templates'), { recursive: true });
    fs.writeFileSync(path.join(tpl, 'templates', 'app.conf.j2'), 'name = {{ name }}\nport = {{ port }}\n');
  });
  afterAll(async () => {
    await conn.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (m: TsplayModule, args: object, o: object = {}) => runModule(m, args, remote, { baseDir: tpl, vars: { name: "a 'b' $(c) ü", port: 5 }, ...o });

  it('a small play: changes once, then nothing; check mode never touches the tree', async () => {
    const root = path.join(dir, "app 'x' $(y)");
    const conf = path.join(root, 'etc', 'app.conf');
    const steps: Array<[TsplayModule, object]> = [
      [file, { path: path.join(root, 'etc'), state: 'directory', owner: 'nobody', group: 'nogroup', mode: '0750' }],
      [template, { src: 'app.conf.j2', dest: conf, mode: '0640', validate: 'grep -q port %s', backup: true }],
      [lineinfile, { path: conf, regexp: '^port', line: 'port = 6432' }],
      [copy, { content: "echo 'hi'\n", dest: path.join(root, 'etc', 'run me.sh'), mode: 'u=rwx,go=' }],
      [file, { src: conf, path: path.join(root, 'link'), state: 'link' }],
      [command, { argv: ['cp', conf, path.join(root, 'copied')], creates: path.join(root, 'copied') }],
      // last, so that it also covers what the steps before created as root
      [file, { path: root, state: 'directory', recurse: true, owner: 'nobody', group: 'nogroup' }],
    ];
    // each step: check mode first (a change, the tree untouched), then for real
    for (const [m, a] of steps) {
      const before = snapshotTree(dir);
      expect([m.name, (await run(m, a, { check: true })).changed]).toEqual([m.name, true]);
      expect(snapshotTree(dir)).toEqual(before);
      await run(m, a);
    }
    expect(fs.readFileSync(conf, 'utf8')).toBe("name = a 'b' $(c) ü\nport = 6432\n");
    const st = fs.statSync(conf);
    expect([st.uid, st.mode & 0o7777]).toEqual([65534, 0o640]);
    expect(fs.statSync(path.join(root, 'etc', 'run me.sh')).mode & 0o7777).toBe(0o700);
    expect(fs.readFileSync(path.join(root, 'copied'), 'utf8')).toBe(fs.readFileSync(conf, 'utf8'));

    // idempotence, except lineinfile vs template fighting over the port line (as in Ansible)
    for (const [m, a] of steps.filter(([m]) => m !== template && m !== lineinfile)) {
      expect([m.name, (await run(m, a)).changed]).toEqual([m.name, false]);
    }
    const s = await run(stat, { path: conf });
    expect(s.plan.result!.stat).toMatchObject({ isreg: true, mode: '0640', pw_name: 'nobody', size: fs.statSync(conf).size });
  });

  it('a failing validate over the real writeFile leaves the target untouched', async () => {
    const f = path.join(dir, 'v.conf');
    fs.writeFileSync(f, 'keep\n');
    await expect(run(copy, { content: 'new\n', dest: f, validate: 'false %s' })).rejects.toThrow(/validation of .* failed/);
    expect(fs.readFileSync(f, 'utf8')).toBe('keep\n');
  });

  it('shell, wait_for and setup through the persistent shell', async () => {
    const r = await run(shell, { cmd: 'printf "%s" "$0" | wc -c; exit 0' });
    expect(String(r.result!.stdout).trim()).toBe('7');
    const w = await run(waitFor, { path: dir, timeout: 2 });
    expect(w.changed).toBe(false);
    const facts = await run(setup, {});
    expect(facts.plan.facts!.ansible_os_family).toBe('Debian');
  });
});
