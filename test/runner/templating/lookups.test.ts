/**
 * lookup() / query() / q() as ansible-core 2.14 gives them (expected values are what
 * ansible-playbook printed for the same calls), the task's search list, errors=, and the
 * static check of lookup names.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import type { TsplayError } from '../../../runner/errors';
import { secrets } from '../../../runner/secrets';
import { Templar } from '../../../runner/templating/index';
import { LOOKUP_CONTEXT, LOOKUPS, type LookupContext } from '../../../runner/templating/lookups';
import { WITH_LOOKUPS } from '../../../runner/loader/keywords';

const t = new Templar();
let dir: string;
const warnings: string[] = [];

function project(files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-lookups-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, rel)), { recursive: true });
    fs.writeFileSync(path.join(d, rel), content);
  }
  return d;
}

/** a role task's variables, as the executor gives them (LOOKUP_CONTEXT included) */
function vars(extra: Record<string, unknown> = {}, inRole = true): Record<string, unknown> {
  const ctx: LookupContext = {
    task: inRole ? { dir: path.join(dir, 'roles/r/tasks'), role: { name: 'r', path: path.join(dir, 'roles/r') } as never } : { dir },
    play: { dir },
    warn: (m) => warnings.push(m),
  };
  return { x: 1, l: ['a', 'b'], [LOOKUP_CONTEXT]: ctx, ...extra };
}
const ev = (e: string, v = vars()) => t.evaluateExpressionSync(e, v);
/** the error's whole text: place, message, hint */
function described(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as TsplayError).describe();
  }
  throw new Error('no error');
}

beforeAll(() => {
  dir = project({
    'files/a.txt': 'hello\n\n',
    'files/b.txt': 'B\n',
    'files/c.conf': '',
    'files/.hidden.txt': '',
    'top.txt': 'top\n',
    'templates/t.j2': 'x={{ x }} y={{ y | default("d") }}\n',
    'roles/r/files/a.txt': 'role file\n',
    'roles/r/templates/t.j2': 'role x={{ x }}\n',
  });
});

describe('controller files, searched as copy and template sources are', () => {
  test.each([
    // the role's files/ first, then the playbook's directory
    ["lookup('file', 'a.txt')", 'role file', true],
    ["lookup('file', 'top.txt')", 'top', true],
    ["lookup('file', 'a.txt') ~ '|'", 'hello|', false],
    ["lookup('file', 'a.txt', rstrip=false) ~ '|'", 'hello\n\n|', false],
    ["lookup('file', 'a.txt', 'b.txt')", 'hello,B', false],
    ["lookup('file', 'a.txt', 'b.txt', wantlist=True)", ['hello', 'B'], false],
    ["query('file', 'a.txt')", ['hello'], false],
    ["q('ansible.builtin.file', 'b.txt')", ['B'], false],
    ["lookup('template', 't.j2') ~ '|'", 'x=1 y=d\n|', false],
    ["lookup('template', 't.j2', template_vars={'y': 2}) ~ '|'", 'x=1 y=2\n|', false],
    ["lookup('template', 't.j2')", 'role x=1\n', true],
  ])('%s', (expr, want, inRole) => {
    expect(ev(expr, vars({}, inRole as boolean))).toEqual(want);
  });

  test('first_found: names, a {files, paths} mapping, skip, and a files option replacing the names', () => {
    const v = vars({}, false);
    expect(ev("lookup('first_found', ['nope.txt', 'b.txt'])", v)).toBe(path.join(dir, 'files/b.txt'));
    expect(ev("lookup('first_found', {'files': ['nope.txt', 'a.txt'], 'paths': ['files']})", v)).toBe(path.join(dir, 'files/a.txt'));
    expect(ev("lookup('first_found', 'a.txt', files=['b.txt'])", v)).toBe(path.join(dir, 'files/b.txt'));
    expect(ev("lookup('first_found', 'nope', skip=True)", v)).toEqual([]);
    expect(() => ev("lookup('first_found', ['nope', 'nope2'])", v)).toThrow(/lookup\('first_found'\): No file was found when using first_found/);
  });

  test('fileglob: files only, no dot files unless asked, files/ before the directory itself', () => {
    const v = vars({}, false);
    expect(ev("query('fileglob', '*.txt')", v)).toEqual([path.join(dir, 'files/a.txt'), path.join(dir, 'files/b.txt')]);
    expect(ev("lookup('fileglob', '*.txt')", v)).toBe(`${path.join(dir, 'files/a.txt')},${path.join(dir, 'files/b.txt')}`);
    expect(ev("query('fileglob', 'files/*.conf')", v)).toEqual([path.join(dir, 'files/c.conf')]);
    expect(ev("query('fileglob', '*.none')", v)).toEqual([]);
  });

  test('a missing file fails, naming what was searched; errors= ignore and warn give none / []', () => {
    expect(described(() => ev("lookup('file', 'nope')"))).toMatch(/lookup\('file'\): could not locate file in lookup: nope.*\n.*searched: .*roles\/r\/files\/nope/);
    expect(ev("lookup('file', 'nope', errors='ignore')")).toBeNull();
    expect(ev("query('file', 'nope', errors='ignore')")).toEqual([]);
    warnings.length = 0;
    expect(ev("query('file', 'nope', errors='warn')")).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^lookup\('file'\): could not locate file in lookup: nope/)]);
    expect(() => ev("lookup('file', 'a.txt', errors='loud')")).toThrow(/errors must be strict, warn or ignore/);
    expect(() => ev("lookup('file', 'a.txt', strip=true)")).toThrow(/lookup\('file'\) has no option 'strip'/);
  });

  test('an undefined variable is an error whatever errors= says', () => {
    expect(() => ev("lookup('file', nope, errors='ignore')")).toThrow(/undefined variable 'nope'/);
    fs.writeFileSync(path.join(dir, 'templates/u.j2'), '{{ undefined_here }}');
    expect(() => ev("lookup('template', 'u.j2', errors='ignore')", vars({}, false))).toThrow(/undefined variable 'undefined_here'/);
  });
});

describe('the controller process and the variables', () => {
  test('env, with default', () => {
    process.env.TSPLAY_LOOKUP_T = 'v1';
    expect(ev("lookup('env', 'TSPLAY_LOOKUP_T') ~ '|' ~ lookup('env', 'TSPLAY_NOPE_X') ~ '|' ~ lookup('env', 'TSPLAY_NOPE_X', default='dd')")).toBe('v1||dd');
  });

  test('pipe runs /bin/sh -c in the playbook directory; trailing blanks dropped; a failure names the status', () => {
    expect(ev("lookup('pipe', 'echo hi; echo there') ~ '|'")).toBe('hi\nthere|');
    expect(ev("lookup('pipe', 'cat top.txt')")).toBe('top');
    expect(() => ev("lookup('pipe', 'echo oops >&2; exit 3')")).toThrow(/lookup_plugin\.pipe\(echo oops >&2; exit 3\) returned 3: oops/);
  });

  test('vars, varnames', () => {
    expect(ev("lookup('vars', 'x') ~ ' ' ~ lookup('vars', 'x', 'l') ~ ' ' ~ lookup('vars', 'zz', default='dz')")).toBe("1 [1, ['a', 'b']] dz");
    expect(() => ev("lookup('vars', 'zz')")).toThrow(/No variable found with this name: zz/);
    expect(ev("q('varnames', '^l$')")).toEqual(['l']);
  });
});

describe('list lookups (the with_<name> loops run the same ones)', () => {
  test.each([
    ["lookup('items', l) ~ ' ' ~ lookup('list', l) ~ ' ' ~ query('list', 1, 2)", "a,b ['a', 'b'] [1, 2]"],
    ["lookup('dict', {'a': 1})", { key: 'a', value: 1 }],
    ["lookup('indexed_items', l)", [[0, 'a'], [1, 'b']]],
    ["lookup('sequence', 'start=1 end=3') ~ ' ' ~ query('sequence', 'count=2')", "1,2,3 ['1', '2']"],
    ["query('sequence', start=2, end=4)", ['2', '3', '4']],
    ["lookup('together', l, [1])", [['a', 1], ['b', null]]],
    ["lookup('nested', l, [1])", [['a', 1], ['b', 1]]],
    ["lookup('items', []) ~ '|' ~ lookup('items', [], wantlist=True)", '[]|[]'],
    ["lookup('items', [1]) ~ '|' ~ lookup('items', [1, 2])", '1|[1, 2]'],
    ["query('subelements', [{'n': 'u', 'k': [1, 2]}], 'k')", [[{ n: 'u', k: [1, 2] }, 1], [{ n: 'u', k: [1, 2] }, 2]]],
  ])('%s', (expr, want) => {
    expect(ev(expr)).toEqual(want);
  });

  test('every with_<name> loop the loader accepts is a lookup', () => {
    for (const k of WITH_LOOKUPS) expect(Object.keys(LOOKUPS)).toContain(k);
  });
});

describe('password', () => {
  test('made up once, stored 0600 in a 0700 directory relative to the playbook, then read back; masked', () => {
    const v = vars({}, true);
    const pw = ev("lookup('password', 'creds/a length=8 chars=ascii_lowercase,digits')", v) as string;
    expect(pw).toMatch(/^[a-z0-9]{8}$/);
    const file = path.join(dir, 'creds/a');
    expect(fs.readFileSync(file, 'utf8')).toBe(`${pw}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    expect(ev("lookup('password', 'creds/a')", v)).toBe(pw);
    expect(secrets.mask(`pw=${pw}`)).toBe(`pw=${'*'.repeat(8)}`);
  });

  test('keyword options, the default 20 characters, a literal comma, /dev/null stores nothing', () => {
    expect(ev("lookup('password', 'creds/b', length=6, chars=['digits'])")).toMatch(/^\d{6}$/);
    expect(ev("lookup('password', 'creds/c')")).toMatch(/^[A-Za-z0-9.,:_-]{20}$/);
    expect(ev("lookup('password', 'creds/d length=30 chars=,,')")).toBe(','.repeat(30));
    expect(ev("lookup('password', '/dev/null length=4 chars=digits')")).toMatch(/^\d{4}$/);
    fs.writeFileSync(path.join(dir, 'creds/e'), 'stored salt=abcdefgh\n');
    expect(ev("lookup('password', 'creds/e')")).toBe('stored');
  });

  test('bad parameters fail and create nothing', () => {
    expect(() => ev("lookup('password', 'creds/f length=x')")).toThrow(/length must be an integer/);
    expect(() => ev("lookup('password', 'creds/f colour=red')")).toThrow(/unknown option 'colour'/);
    expect(() => ev("lookup('password', 'creds/f encrypt=sha512_crypt')")).toThrow(/'encrypt' is not supported/);
    expect(fs.existsSync(path.join(dir, 'creds/f'))).toBe(false);
  });

  test('a symlink planted where the file will be is not followed', () => {
    const target = path.join(dir, 'victim');
    fs.symlinkSync(target, path.join(dir, 'creds/g'));
    expect(() => ev("lookup('password', 'creds/g')")).toThrow();
    expect(fs.existsSync(target)).toBe(false);
  });
});

describe('names', () => {
  test('an unknown lookup is an error at the call, and in the check before the run', () => {
    expect(() => ev("lookup('nosuch', 'x')")).toThrow(/unknown lookup 'nosuch'/);
    expect(described(() => t.check("{{ lookup('fiel', 'x') }}", { file: 'site.yml', line: 3 }))).toMatch(/^site\.yml:3.*unknown lookup 'fiel'.*\n.*did you mean 'file'/);
    expect(() => t.check("{{ query('file', 'x') ~ lookup('env', 'HOME') ~ q('ansible.builtin.pipe', 'true') }}")).not.toThrow();
    expect(() => t.check("{{ lookup(name, 'x') }}")).not.toThrow();
  });
});
