import * as fs from 'fs';
import * as path from 'path';
import lineinfile, { editText, expandBackrefs, pyRegex, type LineEdit } from '../../modules/lineinfile';
import { FakeRemote, LocalRemote, makeTempDir, runModule, snapshotTree, validateArgs } from '../helpers/fake-remote';

const CONF = '# pg\nport = 5432\n#listen_addresses = localhost\nmax_connections = 100\n';

describe('editText (pure)', () => {
  const cases: Array<[string, string, LineEdit, string, string]> = [
    ['adds to an empty text', '', { line: 'a' }, 'a\n', 'line added'],
    ['adds at EOF by default', 'x\ny\n', { line: 'a' }, 'x\ny\na\n', 'line added'],
    ['adds a newline to a last line without one first', 'x', { line: 'a' }, 'x\na\n', 'line added'],
    ['replaces the LAST regexp match', 'k=1\nk=2\nz\n', { regexp: '^k=', line: 'k=9' }, 'k=1\nk=9\nz\n', 'line replaced'],
    ["regexp '' matches every line: the last is replaced (d32)", 'l1\nl2\n', { regexp: '', line: 'N' }, 'l1\nN\n', 'line replaced'],
    ["search_string '' likewise", 'l1\nl2\n', { search_string: '', line: 'N' }, 'l1\nN\n', 'line replaced'],
    ['firstmatch replaces the first', 'k=1\nk=2\n', { regexp: '^k=', line: 'k=9', firstmatch: true }, 'k=9\nk=2\n', 'line replaced'],
    ['no regexp match: inserted at EOF', 'a\n', { regexp: '^k=', line: 'k=1' }, 'a\nk=1\n', 'line added'],
    ['insertafter: after the last match', 'a\n[s]\nb\n[s]\nc\n', { line: 'N', insertafter: '^\\[s\\]' }, 'a\n[s]\nb\n[s]\nN\nc\n', 'line added'],
    ['insertafter + firstmatch: after the first', 'a\n[s]\nb\n[s]\n', { line: 'N', insertafter: '^\\[s\\]', firstmatch: true }, 'a\n[s]\nN\nb\n[s]\n', 'line added'],
    ['insertafter matching the last line', 'a\n[s]', { line: 'N', insertafter: '^\\[s\\]' }, 'a\n[s]\nN\n', 'line added'],
    ['insertafter without a match: EOF', 'a\n', { line: 'N', insertafter: '^zzz' }, 'a\nN\n', 'line added'],
    ['insertbefore: before the last match', 'a\nb\na\n', { line: 'N', insertbefore: '^a' }, 'a\nb\nN\na\n', 'line added'],
    ['insertbefore BOF', 'a\n', { line: 'N', insertbefore: 'BOF' }, 'N\na\n', 'line added'],
    ['insertafter BOF', 'a\n', { line: 'N', insertafter: 'BOF' }, 'N\na\n', 'line added'],
    ['insertbefore without a match: EOF', 'a\n', { line: 'N', insertbefore: '^zzz' }, 'a\nN\n', 'line added'],
    ['regexp wins over insertafter', 'k=1\n[s]\n', { regexp: '^k=', line: 'k=2', insertafter: '^\\[s\\]' }, 'k=2\n[s]\n', 'line replaced'],
    ['backrefs expand groups', 'port = 5432\n', { regexp: '^port = (\\d+)$', line: 'port = \\1 # was \\1', backrefs: true }, 'port = 5432 # was 5432\n', 'line replaced'],
    ['backrefs with Python named groups', 'v=3\n', { regexp: '^v=(?P<n>\\d)$', line: 'v=\\g<n>0', backrefs: true }, 'v=30\n', 'line replaced'],
    ['search_string replaces the line containing it', 'a.b=1\nab=2\n', { search_string: 'a.b', line: 'a.b=7' }, 'a.b=7\nab=2\n', 'line replaced'],
    ['CRLF lines stay CRLF', 'k=1\r\nz\r\n', { regexp: '^k=', line: 'k=2' }, 'k=2\r\nz\r\n', 'line replaced'],
    ['Python (?i) flag', 'PORT=1\n', { regexp: '(?i)^port=', line: 'port=2' }, 'port=2\n', 'line replaced'],
    ['absent: every regexp match removed', 'k=1\nx\nk=2\n', { state: 'absent', regexp: '^k=' }, 'x\n', '2 line(s) removed'],
    ['absent: by exact line', 'a\nab\na\n', { state: 'absent', line: 'a' }, 'ab\n', '2 line(s) removed'],
    ['absent: by search_string', 'foo bar\nbaz\n', { state: 'absent', search_string: 'o b' }, 'baz\n', '1 line(s) removed'],
    ['a last line without newline that IS the line gets its newline', 'x\na', { line: 'a' }, 'x\na\n', 'line replaced'],
  ];
  it.each(cases)('%s', (_name, text, edit, want, msg) => {
    const r = editText(text, edit);
    expect(r.text).toBe(want);
    expect(r.changed).toBe(true);
    expect(r.msg).toBe(msg);
  });

  const unchanged: Array<[string, string, LineEdit]> = [
    ['line already there', 'a\nb\n', { line: 'a' }],
    ['regexp matches a line already equal', 'k=1\n', { regexp: '^k=', line: 'k=1' }],
    ['regexp does not match but the line is there verbatim', 'port = 1\n', { regexp: '^#port', line: 'port = 1' }],
    ['backrefs without a match never inserts', 'a\n', { regexp: '^zzz(.*)', line: '\\1', backrefs: true, insertafter: 'EOF' }],
    ['insertafter with the line already after the anchor', '[s]\nN\n', { line: 'N', insertafter: '^\\[s\\]' }],
    ['absent with nothing matching', 'a\n', { state: 'absent', regexp: '^b' }],
    ['absent on an empty text', '', { state: 'absent', line: 'a' }],
    ['$ anchors at the end of the line, not before the newline only', 'k=1\n', { regexp: '^k=1$', line: 'k=1' }],
  ];
  it.each(unchanged)('unchanged: %s', (_name, text, edit) => {
    expect(editText(text, edit)).toEqual({ text, changed: false, msg: '' });
  });

  it('is idempotent: a second application of any edit changes nothing', () => {
    const edits: LineEdit[] = [
      { line: 'listen_addresses = *', regexp: '^#?listen_addresses' },
      { line: 'port = 6000', regexp: '^port' },
      { line: 'new = 1', insertafter: '^# pg' },
      { line: 'new = 1', insertbefore: '^max_' },
      { line: 'top', insertbefore: 'BOF' },
      // (a backrefs regexp must also match its own result to be idempotent, as in Ansible)
      { line: '\\1 = 200', regexp: '^(max_connections) = \\d+$', backrefs: true },
      { state: 'absent', regexp: '^#' },
    ];
    for (const e of edits) {
      const once = editText(CONF, e);
      expect(once.changed).toBe(true);
      expect(editText(once.text, e)).toEqual({ text: once.text, changed: false, msg: '' });
    }
  });

  it('bad regexps and bad backrefs are clear failures', () => {
    expect(() => editText('a\n', { regexp: '(', line: 'x' })).toThrow(/invalid regular expression '\('/);
    expect(() => expandBackrefs('\\3', /(a)/.exec('a')!)).toThrow(/group the regexp does not have/);
    expect(pyRegex('(?P<x>a)(?P=x)\\Z').source).toBe('(?<x>a)\\k<x>$');
  });
});

describe('lineinfile module (fake host)', () => {
  const host = (): FakeRemote => new FakeRemote().addDir('/etc').addFile('/etc/pg.conf', CONF, { mode: '0640', owner: 'app', group: 'app' });

  it('no change: stat and read, nothing else', async () => {
    const r = host();
    const res = await runModule(lineinfile, { path: '/etc/pg.conf', regexp: '^port', line: 'port = 5432' }, r);
    expect(res.changed).toBe(false);
    expect(r.roundTrips).toBe(2);
  });

  it('drift: one write with the text diff, keeping mode and owner', async () => {
    const r = host();
    const res = await runModule(lineinfile, { path: '/etc/pg.conf', regexp: '^#?listen_addresses', line: "listen_addresses = '*'", backup: true }, r);
    const after = CONF.replace('#listen_addresses = localhost', "listen_addresses = '*'");
    expect(res.plan.changes).toEqual([
      {
        kind: 'write',
        summary: 'line replaced in /etc/pg.conf',
        path: '/etc/pg.conf',
        before: CONF,
        after,
        mode: '0640',
        owner: 'app',
        group: 'app',
        backup: true,
        validate: undefined,
      },
    ]);
    expect(r.writes[0].data.toString()).toBe(after);
    expect(res.plan.msg).toBe('line replaced');
  });

  it('attributes only: chown/chmod, no write', async () => {
    const r = host().onExec(() => true, {});
    await runModule(lineinfile, { path: '/etc/pg.conf', line: '# pg', mode: '0600' }, r);
    expect(r.execs).toEqual(['chmod -- 00600 /etc/pg.conf']);
    expect(r.writes).toEqual([]);
  });

  it('missing file: fails without create, created with create, fine for absent', async () => {
    const r = host();
    await expect(runModule(lineinfile, { path: '/etc/none', line: 'x' }, r)).rejects.toMatchObject({
      message: 'destination /etc/none does not exist',
      result: { rc: 257, path: '/etc/none' },
    });
    expect((await runModule(lineinfile, { path: '/etc/none', line: 'x', state: 'absent' }, r)).changed).toBe(false);
    await runModule(lineinfile, { path: '/etc/none', line: 'x', create: true, mode: '0600' }, r);
    expect(r.writes).toEqual([{ path: '/etc/none', data: Buffer.from('x\n'), opts: { mode: '0600', owner: undefined, group: undefined, backup: undefined, validate: undefined } }]);
    await expect(runModule(lineinfile, { path: '/nodir/f', line: 'x', create: true }, r)).rejects.toThrow('destination directory /nodir does not exist');
  });

  it('bad arguments', () => {
    expect(validateArgs(lineinfile, { line: 'x' }).valid).toBe(false);
    expect(validateArgs(lineinfile, { path: '/x' }).valid).toBe(false);
    expect(validateArgs(lineinfile, { path: '/x', state: 'absent' }).valid).toBe(false);
    expect(validateArgs(lineinfile, { path: '/x', line: 'a', backrefs: true }).valid).toBe(false);
    expect(validateArgs(lineinfile, { path: '/x', line: 'a', insertafter: 'EOF', insertbefore: 'BOF' }).valid).toBe(false);
    expect(validateArgs(lineinfile, { path: '/x', line: 'a', regexp: 'a', search_string: 'a' }).valid).toBe(false);
    expect(validateArgs(lineinfile, { path: '/x', line: 'a', state: 'gone' }).valid).toBe(false);
    expect(validateArgs(lineinfile, { path: '/x', state: 'absent', regexp: '^a' }).valid).toBe(true);
    expect(validateArgs(lineinfile, { dest: '/x', line: 'a' }).valid).toBe(true);
  });

  it('check mode: the exact write is planned, nothing mutates', async () => {
    const r = host();
    const res = await runModule(lineinfile, { path: '/etc/pg.conf', line: 'x = 1' }, r, { check: true });
    expect(res.plan.changes).toMatchObject([{ kind: 'write', after: CONF + 'x = 1\n' }]);
    expect(r.mutations).toBe(0);
  });
});

describe('lineinfile module (real files)', () => {
  const remote = new LocalRemote();
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('hostile line into a hostile path, validate, idempotent; check mode leaves the tree alone', async () => {
    const f = path.join(dir, "pg 'x' $(y).conf");
    fs.writeFileSync(f, CONF);
    const line = "opt = '$(touch PWNED)' \"`id`\" ü";
    const args = { path: f, regexp: '^opt =', line, insertafter: '^port', validate: 'grep -q port %s' };
    const before = snapshotTree(dir);
    expect((await runModule(lineinfile, args, remote, { check: true })).changed).toBe(true);
    expect(snapshotTree(dir)).toEqual(before);
    await runModule(lineinfile, args, remote);
    expect(fs.readFileSync(f, 'utf8')).toBe(CONF.replace('port = 5432\n', `port = 5432\n${line}\n`));
    expect((await runModule(lineinfile, args, remote)).changed).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([path.basename(f)]);
  });
});
