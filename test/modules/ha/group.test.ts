import * as fs from 'fs';
import group from '../../../modules/group';
import { ArgvRecorder, FakeHost, HOSTILE, LocalHost, makeCtx, readOnly, runTask, validate } from './fake';

function host(getent: { rc: number; stdout?: string }): FakeHost {
  return new FakeHost().onQuery(/^getent group -- /, getent).onExec(/./, {});
}

describe('group', () => {
  test('no change: exists with the gid', async () => {
    const h = host({ rc: 0, stdout: 'motadata:x:1500:\n' });
    const r = await runTask(group, { name: 'motadata', gid: 1500 }, h);
    expect(r.changed).toBe(false);
    expect(h.cmds('query')).toEqual(['getent group -- motadata']);
    expect(r.result).toMatchObject({ name: 'motadata', gid: 1500 });
  });

  test('drift: create, change gid, remove', async () => {
    const h = host({ rc: 2 });
    await runTask(group, { name: 'motadata', gid: 1500, system: true }, h);
    expect(h.cmds('exec')).toEqual(['groupadd -r -g 1500 -- motadata']);
    const h2 = host({ rc: 0, stdout: 'motadata:x:1001:\n' });
    const r2 = await runTask(group, { name: 'motadata', gid: 1500 }, h2);
    expect(h2.cmds('exec')).toEqual(['groupmod -g 1500 -- motadata']);
    expect(r2.plan.changes[0]).toMatchObject({ summary: 'change gid of group motadata: 1001 -> 1500' });
    const h3 = host({ rc: 0, stdout: 'old:x:1001:\n' });
    await runTask(group, { name: 'old', state: 'absent' }, h3);
    expect(h3.cmds('exec')).toEqual(['groupdel -- old']);
    expect((await runTask(group, { name: 'old', state: 'absent' }, host({ rc: 2 }))).changed).toBe(false);
  });

  test('a getent failure other than "not found" fails', async () => {
    await expect(runTask(group, { name: 'x' }, host({ rc: 1 }))).rejects.toThrow('cannot read group x');
  });

  test('check mode: never mutates', async () => {
    const h = host({ rc: 2 });
    const ro = readOnly(h);
    const r = await runTask(group, { name: 'motadata' }, ro, { check: true });
    expect(r.changed).toBe(true);
    expect(ro.violations).toEqual([]);
  });

  test('bad arguments', () => {
    for (const bad of [...HOSTILE, '-rf', '1abc', 'a'.repeat(33)]) expect([bad, validate(group, { name: bad }).valid]).toEqual([bad, false]);
    expect(validate(group, { name: 'x', gid: -1 }).valid).toBe(false);
    expect(validate(group, { name: 'x', gid: 'abc' }).valid).toBe(false);
    // a number given as text (a rendered template) is the number, as the engine's ajv coerces it
    expect(validate(group, { name: 'x', gid: '1500' }).args.gid).toBe(1500);
    expect(validate(group, { name: 'x', state: 'gone' }).valid).toBe(false);
    expect(validate(group, { name: 'x' }).args).toEqual({ name: 'x', state: 'present', system: false });
  });

  test('real getent on this machine: root exists with gid 0, a missing group is planned', async () => {
    const h = readOnly(new LocalHost());
    expect((await runTask(group, { name: 'root', gid: 0 }, h, { check: true })).changed).toBe(false);
    const r = await runTask(group, { name: 'tsplay-no-such-group', gid: 4321 }, h, { check: true });
    expect(r.plan.changes[0]).toMatchObject({ command: 'groupadd -g 4321 -- tsplay-no-such-group' });
  });

  test('hostile names (past the schema) stay literal', async () => {
    const rec = new ArgvRecorder({ getent: 'exit 2', groupadd: '' });
    try {
      for (const bad of HOSTILE) {
        const h = new FakeHost().onQuery(/./, (cmd) => ({ rc: 2, stdout: cmd })).onExec(/./, {});
        const plan = await group.plan({ name: bad, state: 'present', system: false, gid: 7 }, makeCtx(h));
        for (const c of [...h.cmds('query'), ...plan.changes.map((x) => (x.kind === 'exec' ? x.command : ''))]) await rec.run(c);
      }
      const argv = rec.records();
      expect(argv).toEqual(HOSTILE.flatMap((b) => [['getent', 'group', '--', b], ['groupadd', '-g', '7', '--', b]]));
      expect(fs.existsSync('/tmp/pwned')).toBe(false);
    } finally {
      rec.cleanup();
    }
  });
});
