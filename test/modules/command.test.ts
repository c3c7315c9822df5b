import * as fs from 'fs';
import * as path from 'path';
import command, { splitWords } from '../../modules/command';
import { FakeRemote, LocalRemote, makeTempDir, MutationInCheckMode, runModule, validateArgs } from '../helpers/fake-remote';

const HOSTILE = [
  'two words',
  "it's",
  '"dq"',
  '$(touch PWNED)',
  '`touch PWNED2`',
  'line1\nline2',
  'ünïcødé ✓',
  '$HOME',
  '; rm -rf /tmp/never',
  '*',
  '-n',
];

describe('splitWords', () => {
  it.each([
    ['ls -l /tmp', ['ls', '-l', '/tmp']],
    ['  a   b  ', ['a', 'b']],
    [`echo 'a b' "c d"`, ['echo', 'a b', 'c d']],
    [`echo "a \\"q\\" \\$x \\n"`, ['echo', 'a "q" $x \\n']],
    [`echo a\\ b`, ['echo', 'a b']],
    [`echo ''`, ['echo', '']],
    [`echo x'y'"z"`, ['echo', 'xyz']],
    [`echo $HOME *`, ['echo', '$HOME', '*']],
  ])('%s', (line, words) => {
    expect(splitWords(line)).toEqual(words);
  });

  it('rejects unterminated quotes', () => {
    expect(() => splitWords(`echo 'a`)).toThrow(/single quote/);
    expect(() => splitWords(`echo "a`)).toThrow(/double quote/);
  });
});

describe('command (fake host)', () => {
  it('no change: creates exists -> skipped, one stat, nothing run', async () => {
    const r = new FakeRemote().addDir('/srv').addFile('/srv/done', '');
    const res = await runModule(command, { cmd: 'touch /srv/done', creates: '/srv/done' }, r);
    expect(res.changed).toBe(false);
    expect(res.plan.skipped).toBe(true);
    expect(res.plan.msg).toBe('skipped, since /srv/done exists');
    expect(r.calls).toEqual([]);
    expect(r.stats).toEqual([['/srv/done']]);
  });

  it('no change: removes missing -> skipped; creates relative to chdir', async () => {
    const r = new FakeRemote().addDir('/srv').addFile('/srv/marker', '');
    const a = await runModule(command, { cmd: 'rm /srv/x', removes: '/srv/x' }, r);
    expect(a.plan.skipped).toBe(true);
    expect(a.plan.msg).toBe('skipped, since /srv/x does not exist');
    const b = await runModule(command, { cmd: 'make', chdir: '/srv', creates: 'marker' }, r);
    expect(b.plan.skipped).toBe(true);
    expect(r.stats[1]).toEqual(['/srv/marker']);
    expect(r.execs).toEqual([]);
  });

  it('drift: runs the words quoted, with cwd and stdin, and returns Ansible-shaped results', async () => {
    const r = new FakeRemote().onExec(/^echo /, { rc: 0, stdout: 'hello world $HOME\n\n', stderr: '' });
    const res = await runModule(command, { cmd: 'echo "hello world" $HOME', chdir: '/tmp', stdin: 'data' }, r);
    expect(r.calls).toEqual([{ kind: 'exec', cmd: "echo 'hello world' '$HOME'", opts: { cwd: '/tmp', stdin: 'data\n' } }]);
    expect(res.result).toMatchObject({
      cmd: "echo 'hello world' '$HOME'",
      rc: 0,
      stdout: 'hello world $HOME',
      stdout_lines: ['hello world $HOME'],
      stderr_lines: [],
    });
    expect(res.result!.delta).toMatch(/^\d+\.\d{3}s$/);
  });

  it('argv form: no splitting at all', async () => {
    const r = new FakeRemote().onExec(() => true, { rc: 0 });
    await runModule(command, { argv: ['printf', '%s|', 'a b', "c'd"], stdin: 'x', stdin_add_newline: false }, r);
    expect(r.calls[0]).toEqual({ kind: 'exec', cmd: `printf '%s|' 'a b' 'c'\\''d'`, opts: { stdin: 'x' } });
  });

  it('a non-zero rc fails the task with rc, stdout and stderr in the result', async () => {
    const r = new FakeRemote().onExec(() => true, { rc: 2, stdout: 'out', stderr: 'ls: cannot access\n' });
    await expect(runModule(command, { cmd: 'ls /nope' }, r)).rejects.toMatchObject({
      name: 'ModuleFailure',
      message: 'non-zero return code 2: ls: cannot access',
      result: expect.objectContaining({ rc: 2, stdout: 'out', stderr: 'ls: cannot access', cmd: 'ls /nope' }),
    });
  });

  it('bad arguments are refused by the schema', () => {
    expect(validateArgs(command, {}).valid).toBe(false);
    expect(validateArgs(command, { cmd: 'ls', argv: ['ls'] }).valid).toBe(false);
    expect(validateArgs(command, { cmd: 'ls', chdir: ['a'] }).valid).toBe(false);
    // a YAML number where text is wanted is the text it spells, as the engine's ajv coerces it
    expect(validateArgs(command, { cmd: 'ls', chdir: 3 }).args.chdir).toBe('3');
    expect(validateArgs(command, { cmd: 'ls', bogus: 1 }).valid).toBe(false);
    expect(validateArgs(command, { argv: [] }).valid).toBe(false);
    const ok = validateArgs(command, { cmd: 'ls' });
    expect(ok.valid).toBe(true);
    expect(ok.args).toEqual({ cmd: 'ls', stdin_add_newline: true, strip_empty_ends: true });
  });

  it('unterminated quote is a clear failure, before anything runs', async () => {
    const r = new FakeRemote();
    await expect(runModule(command, { cmd: "echo 'oops" }, r)).rejects.toThrow(/cannot split the command line: unterminated single quote/);
    expect(r.calls).toEqual([]);
  });

  it('check mode: reports the command as a change and never executes', async () => {
    const r = new FakeRemote();
    const res = await runModule(command, { cmd: 'systemctl restart x' }, r, { check: true });
    expect(res.changed).toBe(true);
    expect(res.plan.changes).toEqual([{ kind: 'exec', summary: 'systemctl restart x', command: 'systemctl restart x', opts: {} }]);
    expect(r.mutations).toBe(0);
  });

  it('plan() cannot reach exec through the probe view', async () => {
    const r = new FakeRemote();
    const view = r.probeOnly() as unknown as { exec(c: string): unknown; writeFile(p: string, d: string): unknown };
    // synchronous throw: it fails even when a module forgets to await
    expect(() => view.exec('true')).toThrow(MutationInCheckMode);
    expect(() => view.writeFile('/x', 'y')).toThrow(MutationInCheckMode);
    expect(r.calls).toEqual([]);
  });
});

describe('command (real /bin/sh)', () => {
  let dir: string;
  const remote = new LocalRemote();
  beforeAll(() => {
    dir = makeTempDir();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hostile words reach the program literally and nothing is expanded or executed', async () => {
    const res = await runModule(command, { argv: ['printf', '%s\\n', ...HOSTILE], chdir: dir }, remote);
    expect(res.result!.stdout).toBe(HOSTILE.join('\n'));
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('the free form is split like a shell but never expanded', async () => {
    const res = await runModule(command, { cmd: `printf '%s|' "a  b" $HOME '$(id)' \`id\` *`, chdir: dir }, remote);
    expect(res.result!.stdout).toBe('a  b|$HOME|$(id)|`id`|*|');
  });

  it('stdin, chdir and a failing rc, for real', async () => {
    const a = await runModule(command, { cmd: 'cat', stdin: 'x y' }, remote);
    expect(a.result!.stdout).toBe('x y');
    const b = await runModule(command, { cmd: 'pwd', chdir: dir }, remote);
    expect(b.result!.stdout).toBe(fs.realpathSync(dir));
    await expect(runModule(command, { argv: ['ls', path.join(dir, 'missing')] }, remote)).rejects.toMatchObject({
      result: expect.objectContaining({ rc: 2 }),
    });
  });

  it('creates/removes with globs, hostile patterns are never executed', async () => {
    fs.writeFileSync(path.join(dir, 'a b.txt'), '');
    try {
      const skip = await runModule(command, { cmd: 'false', creates: path.join(dir, '*.txt') }, remote);
      expect(skip.plan.skipped).toBe(true);
      const run = await runModule(command, { cmd: 'true', creates: path.join(dir, '*.nothing') }, remote);
      expect(run.changed).toBe(true);
      const skip2 = await runModule(command, { cmd: 'false', removes: path.join(dir, '*.nothing') }, remote);
      expect(skip2.plan.skipped).toBe(true);
      const evil = await runModule(command, { cmd: 'true', creates: `${dir}/$(touch PWNED)*` }, remote);
      expect(evil.changed).toBe(true);
      expect(fs.readdirSync(dir)).toEqual(['a b.txt']);
    } finally {
      fs.rmSync(path.join(dir, 'a b.txt'));
    }
  });
});
