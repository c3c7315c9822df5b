/**
 * Issue 12, hostile input that used to crash or be misread: bad ports (`notaport` connected to
 * NaN, `2222x` to 2222), NUL bytes, YAML aliases inside their own anchor, a known_hosts path
 * that is a directory, bytes that are not UTF-8. Each case runs the real CLI and asserts that
 * nothing ran (the first task would create a marker), that the error is clear and names the
 * file:line (or the host), and that no stack trace is printed.
 */
import fs from 'fs';
import path from 'path';
import { makeProject, runTsplay, type TsplayRun } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const LOCAL = 'localhost ansible_connection=local\n';

/** A playbook whose first task leaves a marker: if it exists, something ran. */
function site(extraVars = ''): string {
  return `
- hosts: all
  gather_facts: false
${extraVars}  tasks:
    - name: marker
      command: touch {{ playbook_dir }}/RAN
    - debug: { msg: "second" }
`;
}

interface Case {
  name: string;
  files: Record<string, string | Buffer>;
  /** inventory path, relative to the project (default hosts.ini) */
  inventory?: string;
  args?: string[];
  code: number;
  /** the error text, with {dir} for the project directory */
  error: RegExp | string;
}

function run(c: Case): { r: TsplayRun; dir: string } {
  const dir = makeProject({});
  made.push(dir);
  const files: Record<string, string | Buffer> = { 'site.yml': site(), 'hosts.ini': LOCAL, ...c.files };
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  const args = (c.args ?? []).map((a) => a.replace('{dir}', dir));
  const r = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, c.inventory ?? 'hosts.ini'), ...args], { cwd: dir });
  return { r, dir };
}

function expectClean(c: Case, r: TsplayRun, dir: string): void {
  const all = r.stdout + r.stderr;
  expect({ code: r.code, out: all }).toEqual({ code: c.code, out: expect.any(String) });
  const want = typeof c.error === 'string' ? c.error.replace('{dir}', dir) : c.error;
  if (typeof want === 'string') expect(all).toContain(want);
  else expect(all).toMatch(want);
  // no stack trace, no internal error
  expect(all).not.toMatch(/^\s+at .*\(.*:\d+:\d+\)$/m);
  expect(all).not.toContain('INTERNAL ERROR');
  expect(all).not.toContain('internal error');
  expect(fs.existsSync(path.join(dir, 'RAN'))).toBe(false);
}

const BAD_PORTS: Case[] = [
  { name: 'INI host line: ansible_port=notaport', files: { 'hosts.ini': 'web ansible_host=127.0.0.1 ansible_port=notaport\n' }, code: 1, error: '{dir}/hosts.ini:1:28: ansible_port must be a whole number, got "notaport"' },
  { name: 'INI host line: ansible_port=2222x', files: { 'hosts.ini': 'web ansible_host=127.0.0.1 ansible_port=2222x\n' }, code: 1, error: '{dir}/hosts.ini:1:28: ansible_port must be a whole number, got "2222x"' },
  { name: 'INI host line: ansible_port=0', files: { 'hosts.ini': '[db]\ndb1 ansible_port=0\n' }, code: 1, error: '{dir}/hosts.ini:2:5: ansible_port must be from 1 to 65535, got 0' },
  { name: 'INI host line: ansible_port=65536', files: { 'hosts.ini': 'db1 ansible_port=65536\n' }, code: 1, error: 'hosts.ini:1:5: ansible_port must be from 1 to 65535, got 65536' },
  { name: 'INI host line: ansible_port=22.5', files: { 'hosts.ini': 'db1 ansible_port=22.5\n' }, code: 1, error: 'hosts.ini:1:5: ansible_port must be a whole number, got 22.5' },
  { name: 'INI host line: ansible_ssh_port=-22', files: { 'hosts.ini': 'db1 ansible_ssh_port=-22\n' }, code: 1, error: 'hosts.ini:1:5: ansible_ssh_port must be from 1 to 65535, got -22' },
  { name: 'INI host:port entry out of range', files: { 'hosts.ini': '[web]\nweb1:99999\n' }, code: 1, error: "hosts.ini:2:1: port 99999 of host 'web1' is out of range (1-65535)" },
  { name: 'INI [all:vars] ansible_port=abc', files: { 'hosts.ini': 'db1\n\n[all:vars]\nansible_port=abc\n' }, code: 1, error: 'hosts.ini:4:1: ansible_port must be a whole number, got "abc"' },
  {
    name: 'YAML inventory host var',
    inventory: 'hosts.yml',
    files: { 'hosts.yml': 'all:\n  hosts:\n    web1:\n      ansible_host: 127.0.0.1\n      ansible_port: notaport\n' },
    code: 1,
    error: 'hosts.yml:5:7: ansible_port must be a whole number, got "notaport"',
  },
  {
    name: 'YAML inventory group var',
    inventory: 'hosts.yml',
    files: { 'hosts.yml': 'all:\n  children:\n    db:\n      hosts: { db1: }\n      vars:\n        ansible_ssh_port: "2222x"\n' },
    code: 1,
    error: 'hosts.yml:6:9: ansible_ssh_port must be a whole number, got "2222x"',
  },
  { name: 'host_vars file: a list', files: { 'hosts.ini': 'db1\n', 'host_vars/db1.yml': '# db\nansible_port: [22]\n' }, code: 1, error: 'host_vars/db1.yml:2:1: ansible_port must be a whole number, got [22]' },
  { name: 'group_vars file: tsplay_port 70000', files: { 'hosts.ini': 'db1\n', 'group_vars/all.yml': 'x: 1\ntsplay_port: 70000\n' }, code: 1, error: 'group_vars/all.yml:2:1: tsplay_port must be from 1 to 65535, got 70000' },
  { name: 'group_vars file: tsplay_keepalive_count 0', files: { 'hosts.ini': 'db1\n', 'group_vars/all.yml': 'tsplay_keepalive_count: 0\n' }, code: 1, error: 'group_vars/all.yml:1:1: tsplay_keepalive_count must be from 1 to 1000, got 0' },
  {
    name: 'a templated port is checked when the connection is built, naming the host',
    files: { 'hosts.ini': 'web ansible_host=127.0.0.1 ansible_port="{{ base_port }}x" base_port=22\n' },
    code: 2,
    error: /fatal: \[web\]: FAILED! => .*web: ansible_port must be a whole number, got \\"22x\\"/,
  },
];

const BAD_JUMPS: Case[] = [
  { name: 'jump host port out of range', files: { 'hosts.ini': 'web ansible_host=127.0.0.1 tsplay_jump=admin@bastion:70000\n' }, code: 2, error: "web: jump host 'admin@bastion:70000': port 70000 is not 1-65535" },
  { name: 'jump host that starts with -', files: { 'hosts.ini': 'web ansible_host=127.0.0.1 tsplay_jump=-oProxyCommand=x\n' }, code: 2, error: "web: jump host '-oProxyCommand=x' is not user@host:port" },
];

const NUL = '\0';
const NULS: Case[] = [
  { name: 'a NUL byte in an INI value', files: { 'hosts.ini': `localhost ansible_connection=local x=a${NUL}b\n` }, code: 1, error: "hosts.ini:1:36: variable 'x' contains a NUL byte" },
  { name: 'a NUL escape in a YAML inventory', inventory: 'hosts.yml', files: { 'hosts.yml': 'all:\n  hosts:\n    localhost:\n      ansible_connection: local\n      p: "/tmp/a\\0b"\n' }, code: 1, error: 'hosts.yml:5:10: a value contains a NUL byte (\\0)' },
  { name: 'a NUL escape in group_vars', files: { 'group_vars/all.yml': 'p: "a\\x00b"\n' }, code: 1, error: 'group_vars/all.yml:1:4: a value contains a NUL byte' },
  { name: 'a NUL escape in play vars', files: { 'site.yml': site('  vars:\n    p: "/tmp/x\\u0000y"\n') }, code: 1, error: 'site.yml:5:8: a value contains a NUL byte' },
  { name: 'a NUL escape in a task argument', files: { 'site.yml': site().replace('debug: { msg: "second" }', 'file: { path: "/tmp/x\\0", state: touch }') }, code: 1, error: 'site.yml:7:21: a value contains a NUL byte' },
  { name: 'a NUL in -e JSON', files: {}, args: ['-e', '{"p": "a\\u0000b"}'], code: 1, error: '-e:1:7: a value contains a NUL byte' },
  { name: 'a NUL in an -e @file', files: { 'extra.yml': 'p: "\\0"\n' }, args: ['-e', '@{dir}/extra.yml'], code: 1, error: 'extra.yml:1:4: a value contains a NUL byte' },
  {
    name: 'a NUL made by a template at run time fails the task clearly',
    files: { 'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: nul\n      command: echo {{ 'AA==' | b64decode }}\n    - command: touch {{ playbook_dir }}/RAN\n` },
    code: 2,
    error: /fatal: \[localhost\]: FAILED! => .*a value contains a NUL byte/,
  },
];

const ALIASES: Case[] = [
  { name: 'alias in its own anchor (sequence), play vars', files: { 'site.yml': site('  vars:\n    a: &a [*a]\n') }, code: 1, error: 'site.yml:5:12: alias *a is inside its own anchor &a' },
  { name: 'alias in its own anchor (mapping), vars file', files: { 'group_vars/all.yml': 'x: &x { y: 1, self: *x }\n' }, code: 1, error: 'group_vars/all.yml:1:21: alias *x is inside its own anchor &x' },
  { name: 'alias loop through two levels, YAML inventory', inventory: 'hosts.yml', files: { 'hosts.yml': 'all:\n  hosts:\n    localhost:\n      loop: &l\n        - a\n        - [*l]\n' }, code: 1, error: 'hosts.yml:6:12: alias *l is inside its own anchor &l' },
  { name: 'alias loop in an -e @file', files: { 'extra.yml': 'a: &a\n  b: *a\n' }, args: ['-e', '@{dir}/extra.yml'], code: 1, error: 'extra.yml:2:6: alias *a is inside its own anchor &a' },
];

const KNOWN_HOSTS: Case[] = [
  {
    name: '--known-hosts names a directory',
    files: { 'hosts.ini': 'web ansible_host=127.0.0.1 ansible_port=1\n', 'kh/.keep': '' },
    args: ['--known-hosts', '{dir}/kh'],
    code: 4,
    error: 'web: cannot read the known_hosts file {dir}/kh: it is a directory',
  },
  {
    name: 'tsplay_known_hosts_file names a directory',
    files: { 'hosts.ini': 'web ansible_host=127.0.0.1 ansible_port=1 tsplay_known_hosts_file="{{ playbook_dir }}"\n' },
    code: 4,
    error: /web: cannot read the known_hosts file \S+: it is a directory/,
  },
];

const LATIN1 = (text: string): Buffer => Buffer.from(text, 'latin1');
const NOT_UTF8: Case[] = [
  { name: 'a latin-1 byte in the playbook', files: { 'site.yml': LATIN1(site('  vars:\n    v: "caf\u00e9"\n')) }, code: 1, error: /site\.yml:5: not valid UTF-8 at byte \d+ \(0xe9\)/ },
  { name: 'a latin-1 byte in an INI inventory', files: { 'hosts.ini': LATIN1('localhost ansible_connection=local motd=caf\u00e9\n') }, code: 1, error: 'hosts.ini:1: not valid UTF-8 at byte 43 (0xe9)' },
  { name: 'a stray byte in group_vars', files: { 'group_vars/all.yml': Buffer.concat([Buffer.from('a: 1\nb: "x'), Buffer.from([0xff]), Buffer.from('"\n')]) }, code: 1, error: 'group_vars/all.yml:2: not valid UTF-8 at byte 10 (0xff)' },
  { name: 'a truncated sequence in an -e @file', files: { 'extra.yml': Buffer.concat([Buffer.from('v: "'), Buffer.from([0xe2, 0x82]), Buffer.from('"\n')]) }, args: ['-e', '@{dir}/extra.yml'], code: 1, error: 'extra.yml:1: not valid UTF-8 at byte 4 (0xe2)' },
  {
    name: 'include_vars of a latin-1 file fails the task, naming the file',
    files: {
      'vars/latin.yml': LATIN1('motd: "caf\u00e9"\n'),
      'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - include_vars: vars/latin.yml\n    - command: touch {{ playbook_dir }}/RAN\n`,
    },
    code: 2,
    error: /fatal: \[localhost\]: FAILED! => .*vars\/latin\.yml:1: not valid UTF-8 at byte 10 \(0xe9\)/,
  },
  {
    name: 'a latin-1 template is refused before the first connection, naming the file and line',
    files: {
      'templates/t.j2': LATIN1('a\nmotd=caf\u00e9\n'),
      'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: touch {{ playbook_dir }}/RAN\n    - template: { src: t.j2, dest: "{{ playbook_dir }}/out" }\n`,
    },
    code: 1,
    error: /templates\/t\.j2:2: not valid UTF-8 at byte 10 \(0xe9\)/,
  },
  { name: 'an encoded surrogate (CESU-8) in the playbook', files: { 'site.yml': Buffer.concat([Buffer.from(site('  vars:\n    v: "')), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"\n')]) }, code: 1, error: /site\.yml:\d+: not valid UTF-8 at byte \d+ \(0xed\)/ },
];

describe.each([
  ['bad ports', BAD_PORTS],
  ['bad jump hosts', BAD_JUMPS],
  ['NUL bytes', NULS],
  ['YAML aliases inside their own anchor', ALIASES],
  ['a known_hosts path that is a directory', KNOWN_HOSTS],
  ['bytes that are not UTF-8', NOT_UTF8],
] as Array<[string, Case[]]>)('%s', (_group, cases) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { r, dir } = run(c);
    expectClean(c, r, dir);
  });
});

test('copy src is binary-safe: bytes that are not UTF-8 arrive unchanged', () => {
  const bytes = Buffer.from([0x00, 0xff, 0xfe, 0xe9, 0x80, 0xed, 0xa0, 0x80, 0x0a, 0xc3]);
  const dir = makeProject({ 'hosts.ini': LOCAL, 'files/blob.bin': '' });
  made.push(dir);
  fs.writeFileSync(path.join(dir, 'files/blob.bin'), bytes);
  fs.writeFileSync(path.join(dir, 'site.yml'), `- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: { src: blob.bin, dest: "{{ playbook_dir }}/out.bin" }\n`);
  const r = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--diff'], { cwd: dir });
  expect(r.code).toBe(0);
  expect(fs.readFileSync(path.join(dir, 'out.bin')).equals(bytes)).toBe(true);
});
