import pip, { canonicalName, parseFreeze, parsePipList, parseRequirement, requirementLines, satisfies } from '../../modules/pip';
import { FakeRemote, runModule, validateArgs } from '../helpers/fake-remote';

const LIST = 'pip3 list --format=json --disable-pip-version-check';
const JSON_LIST = JSON.stringify([{ name: 'Requests', version: '2.31.0' }, { name: 'psycopg2_binary', version: '2.9.9' }, { name: 'pip', version: '23.0.1' }]);

describe('pip: offline judgement (pure)', () => {
  it('reads pip list and pip freeze alike', () => {
    expect([...parsePipList(JSON_LIST)]).toEqual([['requests', '2.31.0'], ['psycopg2-binary', '2.9.9'], ['pip', '23.0.1']]);
    expect([...parseFreeze('Requests==2.31.0\n-e git+https://x/y#egg=y\npsycopg2_binary==2.9.9\n')]).toEqual([['requests', '2.31.0'], ['psycopg2-binary', '2.9.9']]);
    expect(canonicalName('Foo.Bar__baz')).toBe('foo-bar-baz');
  });
  it.each([
    ['2.31.0', '', true], ['2.31.0', '==2.31.0', true], ['2.31.0', '==2.31', true], ['2.31.0', '>=2.28,<3', true], ['3.0', '>=2.28,<3', false],
    ['1.4.5', '~=1.4.2', true], ['1.5.0', '~=1.4.2', false], ['2.9.9', '==2.9.*', true], ['2.10.1', '==2.9.*', false], ['1.10', '>1.9', true], ['2.0', '!=2.0', false],
  ])('%s satisfies %s: %s', (v, spec, want) => {
    expect(satisfies(v, spec)).toBe(want);
  });
  it('requirements: judged when simple, undefined when not', () => {
    expect(parseRequirement('patroni[etcd3] >= 3.2')).toEqual({ name: 'patroni', spec: '>= 3.2' });
    expect(parseRequirement('git+https://github.com/x/y.git')).toBeUndefined();
    expect(parseRequirement('foo; python_version < "3.8"')).toBeUndefined();
    expect(requirementLines('# c\nrequests==2.31.0  # pinned\n\nflask>=2,\\\n<3\n')).toEqual(['requests==2.31.0', 'flask>=2,<3']);
  });
});

describe('pip module (fake host, no network)', () => {
  const host = (): FakeRemote => new FakeRemote().onQuery(LIST, { stdout: JSON_LIST });

  it('no change: satisfied names cost one pip list', async () => {
    const r = host();
    const res = await runModule(pip, { name: ['requests>=2.28', 'psycopg2-binary'] }, r);
    expect(res.changed).toBe(false);
    expect(r.calls.map((c) => c.cmd)).toEqual([LIST]);
  });

  it('drift: only the unmet requirements are installed, after --, extra_args as quoted words', async () => {
    const r = host().onExec(() => true, {});
    await runModule(pip, { name: ['requests', 'flask==3.0.0'], extra_args: "--no-index --find-links='/srv/my wheels'" }, r);
    expect(r.execs).toEqual(["pip3 install --disable-pip-version-check --no-index '--find-links=/srv/my wheels' -- flask==3.0.0"]);
  });

  it('version, absent, an old pip without --format=json (freeze)', async () => {
    const r = host().onExec(() => true, {});
    await runModule(pip, { name: 'requests', version: '2.32.0' }, r);
    await runModule(pip, { name: ['requests', 'nothere'], state: 'absent' }, r);
    expect(r.execs).toEqual(['pip3 install --disable-pip-version-check -- requests==2.32.0', 'pip3 uninstall -y --disable-pip-version-check -- requests']);
    const old = new FakeRemote().onQuery(LIST, { rc: 2, stderr: 'no such option: --format' }).onQuery('pip3 freeze --all --disable-pip-version-check', { stdout: 'requests==2.31.0\n' });
    expect((await runModule(pip, { name: 'requests==2.31.0' }, old)).changed).toBe(false);
  });

  it('a virtualenv: created when missing, then everything installed with its pip', async () => {
    const r = new FakeRemote().onExec(() => true, {});
    await runModule(pip, { name: 'patroni', virtualenv: '/opt/pa troni', virtualenv_command: 'python3 -m venv', virtualenv_python: 'python3.11' }, r);
    expect(r.execs).toEqual(["python3 -m venv '/opt/pa troni'", "'/opt/pa troni/bin/pip' install --disable-pip-version-check -- patroni"]);
  });

  it('requirements: simple and met is no change; unjudged runs pip, changed only if the list moved', async () => {
    const r = host().addDir('/srv').addFile('/srv/req.txt', 'requests>=2\n');
    expect((await runModule(pip, { requirements: '/srv/req.txt' }, r)).changed).toBe(false);
    const r2 = host().addDir('/srv').addFile('/srv/req.txt', 'git+https://example.invalid/x.git\n').onExec(() => true, {});
    const res = await runModule(pip, { requirements: 'req.txt', chdir: '/srv' }, r2);
    expect(r2.calls.filter((c) => c.kind === 'exec')).toEqual([{ kind: 'exec', cmd: 'pip3 install --disable-pip-version-check -r req.txt', opts: { cwd: '/srv', env: { PIP_NO_INPUT: '1' } } }]);
    expect(res.changed).toBe(false);
    const latest = host().onExec(() => true, {});
    let n = 0;
    latest.onQuery(LIST, () => ({ stdout: n++ === 0 ? JSON_LIST : JSON_LIST.replace('2.31.0', '2.32.3') }));
    expect((await runModule(pip, { name: 'requests', state: 'latest' }, latest)).changed).toBe(true);
  });

  it('bad arguments', () => {
    expect(validateArgs(pip, {}).valid).toBe(false);
    expect(validateArgs(pip, { name: '--index-url=http://evil' }).valid).toBe(false);
    expect(validateArgs(pip, { name: ['ok', '-e.'] }).valid).toBe(false);
    expect(validateArgs(pip, { name: 'a', requirements: 'r.txt' }).valid).toBe(false);
    expect(validateArgs(pip, { name: 'a', executable: '-c' }).valid).toBe(false);
    expect(validateArgs(pip, { name: 'a', virtualenv: 'relative' }).valid).toBe(false);
    expect(validateArgs(pip, { name: 'a', state: 'latest', extra_args: ['--pre'] }).valid).toBe(true);
  });

  it('check mode: planned, nothing mutates', async () => {
    const r = host();
    const res = await runModule(pip, { name: 'flask' }, r, { check: true });
    expect(res.plan.changes).toMatchObject([{ command: 'pip3 install --disable-pip-version-check -- flask' }]);
    expect(r.mutations).toBe(0);
  });
});
