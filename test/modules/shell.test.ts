import * as fs from 'fs';
import * as path from 'path';
import shell from '../../modules/shell';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

describe('shell (fake host)', () => {
  it('no change: creates exists -> skipped without running', async () => {
    const r = new FakeRemote().addFile('/etc/done', '');
    const res = await runModule(shell, { cmd: 'echo hi > /etc/done', creates: '/etc/done' }, r);
    expect(res.changed).toBe(false);
    expect(res.plan.msg).toBe('skipped, since /etc/done exists');
    expect(r.calls).toEqual([]);
  });

  it('drift: the whole script is ONE quoted argument of /bin/sh -c (or the executable)', async () => {
    const r = new FakeRemote().onExec(() => true, { stdout: '3\n' });
    const res = await runModule(shell, { cmd: "ls /etc | grep -c 'x y'" }, r);
    expect(r.execs).toEqual([`/bin/sh -c 'ls /etc | grep -c '\\''x y'\\'''`]);
    expect(res.result).toMatchObject({ cmd: "ls /etc | grep -c 'x y'", rc: 0, stdout: '3' });
    await runModule(shell, { cmd: 'set -o pipefail; false | true', executable: '/bin/bash', chdir: '/srv' }, r);
    expect(r.calls[1]).toEqual({ kind: 'exec', cmd: `/bin/bash -c 'set -o pipefail; false | true'`, opts: { cwd: '/srv' } });
  });

  it('rc != 0 fails with the stderr tail', async () => {
    const r = new FakeRemote().onExec(() => true, { rc: 1, stderr: 'a\nb\nc\nd\ne\nf\ng\n' });
    await expect(runModule(shell, { cmd: 'exit 1' }, r)).rejects.toThrow('non-zero return code 1: c\nd\ne\nf\ng');
  });

  it('bad arguments', () => {
    expect(validateArgs(shell, {}).valid).toBe(false);
    expect(validateArgs(shell, { cmd: '' }).valid).toBe(false);
    expect(validateArgs(shell, { cmd: 'x', argv: ['x'] }).valid).toBe(false);
    expect(validateArgs(shell, { cmd: 'x', stdin: ['a'] }).valid).toBe(false);
    // a YAML number where text is wanted is the text it spells, as the engine's ajv coerces it
    expect(validateArgs(shell, { cmd: 'x', stdin: 5 }).args.stdin).toBe('5');
    expect(validateArgs(shell, { cmd: 'x', executable: '' }).valid).toBe(false);
  });

  it('check mode: a change, nothing executed', async () => {
    const r = new FakeRemote();
    const res = await runModule(shell, { cmd: 'rm -rf /opt/x', removes: '/opt/x' }, r, { check: true });
    expect(res.plan.skipped).toBe(true);
    r.addDir('/opt').addDir('/opt/x');
    const res2 = await runModule(shell, { cmd: 'rm -rf /opt/x', removes: '/opt/x' }, r, { check: true });
    expect(res2.changed).toBe(true);
    expect(res2.plan.changes[0]).toMatchObject({ kind: 'exec', command: `/bin/sh -c 'rm -rf /opt/x'` });
    expect(r.mutations).toBe(0);
  });
});

describe('shell (real /bin/sh)', () => {
  let dir: string;
  const remote = new LocalRemote();
  beforeAll(() => {
    dir = makeTempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('pipes, variables and redirections work; exit/exec in the script stay in its own shell', async () => {
    const a = await runModule(shell, { cmd: 'X="a b"; printf "%s\\n" "$X" | tr a-z A-Z > out.txt; cat out.txt', chdir: dir }, remote);
    expect(a.result!.stdout).toBe('A B');
    expect(fs.readFileSync(path.join(dir, 'out.txt'), 'utf8')).toBe('A B\n');
    await expect(runModule(shell, { cmd: 'echo before; exit 7' }, remote)).rejects.toMatchObject({
      result: expect.objectContaining({ rc: 7, stdout: 'before' }),
    });
  });

  it('a script with every kind of quote and a newline runs exactly as written', async () => {
    const script = `printf '%s|' "it's" 'say "hi"' \`echo bq\` "$(echo sub)"\necho\necho 'ünï ✓'`;
    const res = await runModule(shell, { cmd: script, executable: '/bin/bash' }, remote);
    expect(res.result!.stdout).toBe(`it's|say "hi"|bq|sub|\nünï ✓`);
  });

  it('stdin and stdin_add_newline', async () => {
    const a = await runModule(shell, { cmd: 'wc -c', stdin: 'abc' }, remote);
    expect(String(a.result!.stdout).trim()).toBe('4');
    const b = await runModule(shell, { cmd: 'wc -c', stdin: 'abc', stdin_add_newline: false }, remote);
    expect(String(b.result!.stdout).trim()).toBe('3');
  });
});
