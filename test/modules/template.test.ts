import * as fs from 'fs';
import * as path from 'path';
import template from '../../modules/template';
import { ModuleFailure } from '../../runner/module-api';
import { Templar } from '../../runner/templating';
import { FakeRemote, LocalRemote, makeTempDir, runModule, snapshotTree, validateArgs } from '../helpers/fake-remote';

describe('template', () => {
  let base: string;
  beforeAll(() => {
    base = makeTempDir();
    fs.mkdirSync(path.join(base, 'templates'));
    fs.writeFileSync(path.join(base, 'templates', 'haproxy.cfg.j2'), 'listen {{ name }}\n  bind *:{{ port }}\n');
    fs.writeFileSync(path.join(base, 'templates', 'bad.j2'), 'x {{ missing }}\n');
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
  const vars = { name: 'pg', port: 5000 };
  const rendered = 'listen pg\n  bind *:5000\n';

  it('no change: rendered text equal to the host file costs one stat round trip', async () => {
    const r = new FakeRemote().addDir('/etc').addDir('/etc/haproxy').addFile('/etc/haproxy/haproxy.cfg', rendered);
    const res = await runModule(template, { src: 'haproxy.cfg.j2', dest: '/etc/haproxy/haproxy.cfg' }, r, { baseDir: base, vars });
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(1);
  });

  it('drift: one write with the rendered text, the diff, validate and backup', async () => {
    const r = new FakeRemote().addDir('/etc').addDir('/etc/haproxy').addFile('/etc/haproxy/haproxy.cfg', 'listen old\n', { mode: '0640' });
    const res = await runModule(
      template,
      { src: 'haproxy.cfg.j2', dest: '/etc/haproxy/haproxy.cfg', validate: 'haproxy -c -f %s', backup: true },
      r,
      { baseDir: base, vars },
    );
    expect(res.plan.changes).toEqual([
      {
        kind: 'write',
        summary: 'update /etc/haproxy/haproxy.cfg',
        path: '/etc/haproxy/haproxy.cfg',
        before: 'listen old\n',
        after: rendered,
        mode: '0640',
        owner: 'root',
        group: 'root',
        backup: true,
        validate: 'haproxy -c -f %s',
      },
    ]);
    expect(r.writes).toHaveLength(1);
    expect(res.plan.result).toMatchObject({ dest: '/etc/haproxy/haproxy.cfg', size: rendered.length });
  });

  it('a directory dest gets the template name without .j2', async () => {
    const r = new FakeRemote().addDir('/etc').addDir('/etc/haproxy');
    await runModule(template, { src: 'haproxy.cfg.j2', dest: '/etc/haproxy/' }, r, { baseDir: base, vars });
    expect(r.writes.map((w) => w.path)).toEqual(['/etc/haproxy/haproxy.cfg']);
  });

  it('an undefined variable or missing template fails before the host is touched', async () => {
    const r = new FakeRemote();
    await expect(runModule(template, { src: 'bad.j2', dest: '/etc/x' }, r, { baseDir: base, vars })).rejects.toThrow('undefined variable: missing');
    await expect(runModule(template, { src: 'nope.j2', dest: '/etc/x' }, r, { baseDir: base, vars })).rejects.toThrow(/could not find templates file 'nope.j2'/);
    expect(r.roundTrips).toBe(0);
  });

  it('a template file that is not UTF-8 fails the task naming the file, line and byte (it was written with U+FFFD)', async () => {
    // "café" in Latin-1 on line 2: byte 0xe9 at offset 12
    const file = path.join(base, 'templates', 'latin1.j2');
    fs.writeFileSync(file, Buffer.concat([Buffer.from('# header\ncaf'), Buffer.from([0xe9]), Buffer.from(' {{ name }}\n')]));
    const r = new FakeRemote().addDir('/etc');
    const err = await runModule(template, { src: 'latin1.j2', dest: '/etc/x' }, r, { baseDir: base, vars }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModuleFailure);
    expect((err as Error).message).toBe(`template ${file}:2: not valid UTF-8 at byte 12 (0xe9): text files are read as UTF-8\n  convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8); binary data belongs in a file for copy src`);
    expect(r.roundTrips).toBe(0);
    expect(r.writes).toEqual([]);
  });

  it('bad arguments', () => {
    expect(validateArgs(template, { dest: '/x' }).valid).toBe(false);
    expect(validateArgs(template, { src: 'a.j2' }).valid).toBe(false);
    expect(validateArgs(template, { src: 'a.j2', dest: '/x', content: 'y' }).valid).toBe(false);
    expect(validateArgs(template, { src: 'a.j2', dest: '/x', validate: 'no placeholder' }).valid).toBe(false);
    expect(validateArgs(template, { src: 'a.j2', dest: '/x', owner: [] }).valid).toBe(false);
  });

  it('check mode: the write and its diff are planned, nothing mutates', async () => {
    const r = new FakeRemote().addDir('/etc');
    const res = await runModule(template, { src: 'haproxy.cfg.j2', dest: '/etc/h.cfg', mode: '0644' }, r, { baseDir: base, vars, check: true });
    expect(res.plan.changes).toMatchObject([{ kind: 'write', path: '/etc/h.cfg', before: null, after: rendered, mode: '0644' }]);
    expect(r.mutations).toBe(0);
  });

  describe('real files', () => {
    const remote = new LocalRemote();
    let dir: string;
    beforeEach(() => {
      dir = makeTempDir();
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('hostile values render into a hostile path byte for byte, validate guards the target, idempotent', async () => {
      const dest = path.join(dir, "haproxy 'x' $(y).cfg");
      const hostile = { name: "pg 'q' \"d\" $(touch PWNED) `bt` ü", port: 1 };
      const args = { src: 'haproxy.cfg.j2', dest, validate: 'grep -q listen %s' };
      const before = snapshotTree(dir);
      await runModule(template, args, remote, { baseDir: base, vars: hostile, check: true });
      expect(snapshotTree(dir)).toEqual(before);
      await runModule(template, args, remote, { baseDir: base, vars: hostile });
      expect(fs.readFileSync(dest, 'utf8')).toBe(`listen ${hostile.name}\n  bind *:1\n`);
      expect((await runModule(template, args, remote, { baseDir: base, vars: hostile })).changed).toBe(false);
      await expect(runModule(template, { ...args, validate: 'grep -q nothing-like-this %s' }, remote, { baseDir: base, vars })).rejects.toThrow(
        /validation failed/,
      );
      expect(fs.readFileSync(dest, 'utf8')).toBe(`listen ${hostile.name}\n  bind *:1\n`);
      expect(fs.readdirSync(dir)).toEqual([path.basename(dest)]);
    });
  });
});

describe('trailing newlines (Ansible preserve_trailing_newlines)', () => {
  // rendered by the real templar, as the executor's ctx.render does
  const templar = new Templar();
  test.each([
    // template, output: checked against ansible-playbook 2.14
    ['a\n{% if true %}b{% endif %}\n', 'a\nb\n'],
    ['a\n{% if true %}\nb\n{% endif %}\n', 'a\nb\n'],
    ['x\n{% set y = 1 %}\n', 'x\n'],
    ['x={{ 1 }}\n{% for i in [1, 2] %}\n{{ i }}\n{% endfor %}', 'x=1\n1\n2\n'],
    ['none\n\n', 'none\n\n'],
  ])('%p renders %p', async (src, want) => {
    expect(await templar.renderFile(src, {}, '/t/x.j2')).toBe(want);
  });
});
