import * as fs from 'fs';
import * as path from 'path';
import replace, { replaceText, type ReplaceEdit } from '../../modules/replace';
import { pyRegex } from '../../modules/lib/py-regex';
import { FakeRemote, LocalRemote, makeTempDir, runModule, validateArgs } from '../helpers/fake-remote';

describe('replaceText (Ansible replace semantics; expected values from Python re.subn)', () => {
  const blk = 'a\nfoo\nb\nfoo\n# BEGIN ANSIBLE MANAGED BLOCK\nB\n# END ANSIBLE MANAGED BLOCK\n';
  const cases: Array<[string, string, ReplaceEdit, string, number]> = [
    ['groups, \\g<1>, MULTILINE $', 'k=v\nx=y\n# c\n', { regexp: '^(\\w+)=(.*)$', replace: '\\2=\\g<1>' }, 'v=k\ny=x\n# c\n', 2],
    ['empty matches as Python 3.7+', blk, { regexp: 'x*', replace: '-', after: 'BLOCK' }, blk.slice(0, blk.indexOf('BLOCK') + 5) + '-\n-B-\n-#- -E-N-D- -A-N-S-I-B-L-E- -M-A-N-A-G-E-D- -B-L-O-C-K-\n-', 32],
    ['after + before: the first section only', 'a=1\nstart\na=2\nend\na=3\nstart\na=4\nend\n', { regexp: '^a=(\\d)$', replace: 'a=\\1\\1', after: 'start', before: 'end' }, 'a=1\nstart\na=22\nend\na=3\nstart\na=4\nend\n', 1],
    ['before only: up to the last match', 'a=1\nend\na=2\nend\na=3\n', { regexp: 'a', replace: 'b', before: 'end' }, 'b=1\nend\nb=2\nend\na=3\n', 2],
    ['a section that does not match: the whole text', 'a=1\n', { regexp: 'a', replace: 'b', after: 'nowhere' }, 'b=1\n', 1],
    ['\\A and \\Z stay text boundaries under MULTILINE', 'foo\nfoo\nbar\nbar', { regexp: '\\Afoo|bar\\Z', replace: 'X' }, 'X\nfoo\nbar\nX', 2],
    ['a literal $ in replace is text', 'port=1\n', { regexp: 'port=1', replace: 'port=$1 $&' }, 'port=$1 $&\n', 1],
    ['(?P<n>) and {,2}', 'aaaa\n', { regexp: '(?P<x>a{,2})', replace: '<\\g<x>>' }, '<aa><aa><>\n<>', 4],
  ];
  it.each(cases)('%s', (_n, text, o, want, count) => {
    const r = replaceText(text, o);
    expect([r.text, r.count]).toEqual([want, count]);
    expect(r.changed).toBe(want !== text);
  });

  it('matches that replace to the same text are no change', () => {
    expect(replaceText('a=1\n', { regexp: 'a', replace: 'a' })).toMatchObject({ changed: false, count: 1, msg: '' });
  });

  it('Python constructs JavaScript cannot match the same way are refused by name', () => {
    expect(() => pyRegex('(?x) a b')).toThrow(/verbose mode \(\?x\) is not supported/);
    expect(() => pyRegex('(?>ab)')).toThrow(/atomic group/);
    expect(() => pyRegex('a++')).toThrow(/possessive quantifier/);
    expect(() => pyRegex('a{1,2}+')).toThrow(/possessive quantifier/);
    expect(() => pyRegex('(a)?(?(1)b|c)')).toThrow(/conditional group/);
    expect(() => pyRegex('x(?i:a)')).toThrow(/inline flag group/);
    expect(() => pyRegex('\\N{DASH}')).toThrow(/escape \\N/);
    expect(pyRegex('a\\+\\+').test('a++')).toBe(true);
    expect(pyRegex('[]a]').test(']')).toBe(true);
    expect(pyRegex('a(?#note)b').test('ab')).toBe(true);
    expect(pyRegex('(?i)ABC').test('abc')).toBe(true);
  });
});

describe('replace (fake host)', () => {
  const host = (): FakeRemote => new FakeRemote().addDir('/etc').addFile('/etc/app.conf', 'port = 80\nhost = a\n', { mode: '0640', owner: 'app' });

  it('no change: nothing matches -> one stat and one read', async () => {
    const r = host();
    const res = await runModule(replace, { path: '/etc/app.conf', regexp: '^nothing' }, r);
    expect([res.changed, r.mutations, r.stats.length, r.reads]).toEqual([false, 0, 1, ['/etc/app.conf']]);
  });

  it('drift: one atomic write keeping mode and owner, with backup and validate', async () => {
    const r = host();
    const res = await runModule(replace, { path: '/etc/app.conf', regexp: '^port = (\\d+)$', replace: 'port = \\g<1>80', backup: true, validate: 'app -t %s' }, r);
    expect(res.registered.msg).toBe('1 replacements made');
    expect(r.writes).toEqual([{ path: '/etc/app.conf', data: Buffer.from('port = 8080\nhost = a\n'), opts: { mode: '0640', owner: 'app', group: 'root', backup: true, validate: 'app -t %s' } }]);
  });

  it('check mode: the diff, and no mutation', async () => {
    const r = host();
    const res = await runModule(replace, { path: '/etc/app.conf', regexp: 'a$', replace: 'b' }, r, { check: true, diff: true });
    expect(res.changed).toBe(true);
    expect(res.diffs).toEqual([{ path: '/etc/app.conf', before: 'port = 80\nhost = a\n', after: 'port = 80\nhost = b\n' }]);
    expect(r.mutations).toBe(0);
  });

  it('bad arguments: a missing file, an unsupported pattern, no path; nothing written', async () => {
    const r = host();
    await expect(runModule(replace, { path: '/etc/none', regexp: 'a' }, r)).rejects.toThrow('Path /etc/none does not exist !');
    await expect(runModule(replace, { path: '/etc/app.conf', regexp: '(?x) a' }, r)).rejects.toThrow(/verbose mode/);
    await expect(runModule(replace, { path: '/etc/app.conf', regexp: 'a', after: '(' }, r)).rejects.toThrow(/invalid regular expression/);
    await expect(runModule(replace, { path: '/etc/app.conf', regexp: '(a)', replace: '\\2' }, r)).rejects.toThrow(/group the regexp does not have/);
    expect(validateArgs(replace, { regexp: 'a' }).valid).toBe(false);
    expect(r.mutations).toBe(0);
  });
});

describe('replace (local connection)', () => {
  it('hostile path and replacement in a /tmp sandbox: written as given, idempotent, check mode untouched', async () => {
    const dir = makeTempDir();
    const f = path.join(dir, "it's $(x) `y`.conf");
    fs.writeFileSync(f, 'listen = 1\n');
    const args = { path: f, regexp: '^listen = .*$', replace: "listen = '$(touch pwned)'" };
    expect((await runModule(replace, args, new LocalRemote(), { check: true })).changed).toBe(true);
    expect(fs.readFileSync(f, 'utf8')).toBe('listen = 1\n');
    expect((await runModule(replace, args, new LocalRemote())).changed).toBe(true);
    expect(fs.readFileSync(f, 'utf8')).toBe("listen = '$(touch pwned)'\n");
    expect((await runModule(replace, args, new LocalRemote())).changed).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([path.basename(f)]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
