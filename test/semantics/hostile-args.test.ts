/**
 * Issue 12, hostile input: module arguments and become variables whose values a program could
 * read as options (`-delete`, `--command=...`, `-R`) or as extra input lines. Run by the real CLI
 * over the local connection in a throw-away directory, which is also the shell's cwd, so a value
 * read as an option acts on files the test watches. Each case asserts that nothing it did not
 * ask for ran (no marker, the watched tree unchanged) and that the task either did exactly the
 * literal thing or failed with a clear error (no stack trace).
 */
import fs from 'fs';
import path from 'path';
import { makeProject, results, runTsplay, treeHash, type TsplayRun } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const MARK = 'PWNED-tsplay-h12';

interface Case {
  /** the tasks, as YAML under `tasks:` (indented 4) */
  tasks: string;
  vars?: Record<string, unknown>;
  check?: boolean;
  /** extra files in the project (the watched tree) */
  files?: Record<string, string>;
}

/** A project with a few files to watch, `watched/` and a directory named like an option. */
function project(c: Case): string {
  return makeProject({
    'hosts.ini': 'localhost ansible_connection=local\n',
    'host_vars/localhost.yml': JSON.stringify(c.vars ?? {}),
    'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n${c.tasks}\n`,
    'watched/a.txt': 'a\n',
    'watched/sub/b.txt': 'b\n',
    'keep.txt': 'keep\n',
    ...c.files,
  });
}

function run(dir: string, c: Case): TsplayRun {
  return runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json', ...(c.check ? ['--check'] : [])], { cwd: dir });
}

/** Everything a failed task said, for matching the error. */
function failures(r: TsplayRun): string {
  return results(r)
    .filter((e) => e.status === 'failed')
    .map((e) => `${e.task}: ${e.result?.msg ?? JSON.stringify(e)}`)
    .join('\n') + r.stderr;
}

function noStack(r: TsplayRun): void {
  expect(r.stderr + r.stdout).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
}

function markers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.includes(MARK)) out.push(path.join(d, e.name));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(dir);
  return out.concat(['/' + MARK, '/tmp/' + MARK].filter((p) => fs.existsSync(p)));
}

describe('option-looking paths reach programs as operands', () => {
  it('--check of file recurse on a relative path "-delete" deletes nothing (find read it as its -delete action)', () => {
    const c: Case = {
      check: true,
      vars: { p: '-delete' },
      files: { '-delete/inside.txt': 'x\n' },
      tasks: `    - file: { path: "{{ p }}", state: directory, recurse: true, mode: "0700" }`,
    };
    const dir = project(c);
    const before = treeHash(dir);
    const r = run(dir, c);
    noStack(r);
    expect(fs.existsSync(path.join(dir, 'keep.txt'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'watched/sub/b.txt'))).toBe(true);
    expect(fs.existsSync(path.join(dir, '-delete/inside.txt'))).toBe(true);
    expect(treeHash(dir)).toBe(before);
    expect(r.code).toBe(0);
  });
});

/**
 * Fake sudo/su first on PATH: they log their argv (one word per line, then a blank line) and run
 * the shell tsplay asked for (sudo: what follows `--`; su: the -c script) as the current user,
 * so become works without a password and the test sees exactly what su/sudo were given.
 */
function fakeBecome(dir: string): { env: NodeJS.ProcessEnv; argvs: () => string[][] } {
  const bin = path.join(dir, 'fakebin');
  const log = path.join(dir, 'become.log');
  fs.mkdirSync(bin);
  const logArgv = `for a in "$@"; do printf '%s\\n' "$a" >> '${log}'; done; echo >> '${log}'\n`;
  fs.writeFileSync(path.join(bin, 'sudo'), `#!/bin/sh\n${logArgv}while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done; shift; exec "$@"\n`, { mode: 0o755 });
  fs.writeFileSync(path.join(bin, 'su'), `#!/bin/sh\n${logArgv}while [ $# -gt 0 ] && [ "$1" != -c ]; do shift; done; exec /bin/sh -c "$2"\n`, { mode: 0o755 });
  return {
    env: { PATH: `${bin}:${process.env.PATH}` },
    argvs: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n\n').filter(Boolean).map((b) => b.split('\n').filter((l) => l !== '')) : []),
  };
}

describe('become variables never become options or shell code', () => {
  const hostileUsers: Array<[string, string, RegExp]> = [
    ['su', `--command=touch MARKPATH`, /become_user "--command=touch .*"(\.\.\. \(\d+ characters\))? starts with "-", so a program would read it as an option/],
    ['su', '-', /starts with "-"/],
    ['su', '-m', /starts with "-"/],
    ['sudo', '-s', /starts with "-"/],
    ['sudo', '--preserve-env', /starts with "-"/],
    ['su', 'root -c touch MARKPATH', /characters a user or group name cannot have/],
    ['su', '$(touch MARKPATH)', /cannot have/],
    ['sudo', 'root;touch MARKPATH', /cannot have/],
    ['su', 'nobody\ntouch MARKPATH', /cannot have/],
    ['sudo', '1000', /is a number/],
  ];
  it.each(hostileUsers)('become_method %s, become_user %j: an error at the task, su/sudo never started', (method, user, re) => {
    const base = makeProject({});
    const mark = path.join(base, MARK);
    const c: Case = {
      vars: { u: user.replace('MARKPATH', mark) },
      tasks: `    - name: as someone\n      command: touch ${path.join(base, 'ran')}\n      become: true\n      become_method: ${method}\n      become_user: "{{ u }}"`,
    };
    const dir = project(c);
    const fake = fakeBecome(dir);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: dir, env: fake.env });
    noStack(r);
    expect(r.code).toBe(2);
    const f = results(r, 'as someone')[0];
    expect(f.status).toBe('failed');
    expect(String(f.result.msg)).toMatch(/site\.yml:\d+:\d+: become_user /);
    expect(String(f.result.msg)).toMatch(re);
    expect(fake.argvs()).toEqual([]);
    expect(fs.existsSync(mark)).toBe(false);
    expect(fs.existsSync(path.join(base, 'ran'))).toBe(false);
    expect(markers(dir)).toEqual([]);
  });

  it('with the real su: become_user "--command=touch MARK" does not run touch as root', () => {
    const base = makeProject({});
    const mark = path.join(base, MARK);
    const c: Case = { vars: { u: `--command=touch ${mark}` }, tasks: '    - name: real su\n      command: "true"\n      become: true\n      become_method: su\n      become_user: "{{ u }}"' };
    const dir = project(c);
    const r = run(dir, c);
    noStack(r);
    expect(String(results(r, 'real su')[0].result.msg)).toMatch(/become_user .* starts with "-"/);
    expect(fs.existsSync(mark)).toBe(false);
  });

  it('ansible_become_user / ansible_become_method from the inventory get the same check', () => {
    const base = makeProject({});
    const mark = path.join(base, MARK);
    const c: Case = {
      vars: { ansible_become: true, ansible_become_method: 'su', ansible_become_user: `--command=touch ${mark}` },
      tasks: '    - name: inv\n      command: "true"',
    };
    const dir = project(c);
    const fake = fakeBecome(dir);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: dir, env: fake.env });
    noStack(r);
    expect(String(results(r, 'inv')[0].result.msg)).toMatch(/site\.yml:\d+:\d+: become_user .* starts with "-"/);
    expect(fake.argvs()).toEqual([]);
    expect(fs.existsSync(mark)).toBe(false);
  });

  it('a 200 kB become_user is a short, clear error, no stack trace', () => {
    const c: Case = { vars: { u: 'a'.repeat(200_000) }, tasks: '    - name: huge\n      command: "true"\n      become: true\n      become_user: "{{ u }}"' };
    const dir = project(c);
    const fake = fakeBecome(dir);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: dir, env: fake.env });
    noStack(r);
    const msg = String(results(r, 'huge')[0].result.msg);
    expect(msg).toMatch(/become_user "a{40}"\.\.\. \(200000 characters\) is longer than 32 characters/);
    expect(msg.length).toBeLessThan(300);
    expect(fake.argvs()).toEqual([]);
  });

  it('become_method with shell code is refused', () => {
    const base = makeProject({});
    const c: Case = { vars: { m: `su; touch ${path.join(base, MARK)}` }, tasks: '    - name: m\n      command: "true"\n      become: true\n      become_method: "{{ m }}"' };
    const dir = project(c);
    const fake = fakeBecome(dir);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: dir, env: fake.env });
    noStack(r);
    expect(String(results(r, 'm')[0].result.msg)).toMatch(/become_method 'su; touch .*' is not supported/);
    expect(fake.argvs()).toEqual([]);
    expect(fs.existsSync(path.join(base, MARK))).toBe(false);
  });

  it('su gets `--` before a valid user; become_flags are literal argv words, never shell code', () => {
    const base = makeProject({});
    const mark = path.join(base, MARK);
    const c: Case = {
      vars: { f: `-m $(touch ${mark}) ;touch ${mark}` },
      tasks: '    - name: su\n      command: "true"\n      become: true\n      become_method: su\n      become_user: nobody\n      become_flags: "{{ f }}"',
    };
    const dir = project(c);
    const fake = fakeBecome(dir);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: dir, env: fake.env });
    noStack(r);
    expect(r.code).toBe(0);
    const [argv] = fake.argvs();
    expect(argv.slice(-2)).toEqual(['--', 'nobody']);
    expect(argv.slice(0, 6)).toEqual(['-l', '-m', '$(touch', `${mark})`, ';touch', mark]);
    expect(fs.existsSync(mark)).toBe(false);
  });

  it('each task gets the become_flags it asks for (the become shell is cached per flags too)', () => {
    const c: Case = {
      tasks: [
        '    - { name: one, command: "true", become: true, become_user: nobody, become_flags: "-E" }',
        '    - { name: two, command: "true", become: true, become_user: nobody, become_flags: "--preserve-env=HOME" }',
        '    - { name: three, command: "true", become: true, become_user: nobody, become_flags: "-E" }',
      ].join('\n'),
    };
    const dir = project(c);
    const fake = fakeBecome(dir);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: dir, env: fake.env });
    expect(r.code).toBe(0);
    const flagsOf = (argv: string[]) => argv.filter((a) => a === '-E' || a.startsWith('--preserve-env'));
    expect(fake.argvs().map(flagsOf)).toEqual([['-E'], ['--preserve-env=HOME']]);
  });
});

/** A module-argument case: tasks, then what must hold afterwards (besides no marker, no stack). */
interface ArgCase extends Case {
  /** 'ok': the run succeeds; a RegExp: the named task fails with that message */
  expect: 'ok' | RegExp;
  /** checks on the project directory afterwards */
  after?: (dir: string, r: TsplayRun) => void;
  /** the watched files must be unchanged (default true) */
  watched?: boolean;
}

const exists = (dir: string, rel: string) => fs.existsSync(path.join(dir, rel));
const modeOf = (dir: string, rel: string) => (fs.lstatSync(path.join(dir, rel)).mode & 0o7777).toString(8).padStart(4, '0');
const read = (dir: string, rel: string) => fs.readFileSync(path.join(dir, rel), 'utf8');

const ARG_CASES: Array<[string, ArgCase]> = [
  // file: every state with a path a program could read as an option
  ['file touch path "-n" creates the file "-n"', { tasks: `    - file: { path: "-n", state: touch }`, expect: 'ok', after: (d) => expect(read(d, '-n')).toBe('') }],
  ['file directory path "-delete" creates that directory', { tasks: `    - file: { path: "-delete", state: directory, mode: "0750" }`, expect: 'ok', after: (d) => expect(modeOf(d, '-delete')).toBe('0750') }],
  ['file absent path "-rf" removes only "-rf"', { files: { '-rf': 'x' }, tasks: `    - file: { path: "-rf", state: absent }`, expect: 'ok', after: (d) => expect(exists(d, '-rf')).toBe(false) }],
  ['file link "-l" -> "-s"', { files: { '-s': 's' }, tasks: `    - file: { path: "-l", src: "-s", state: link }`, expect: 'ok', after: (d) => expect(fs.readlinkSync(path.join(d, '-l'))).toBe('-s') }],
  ['file hard link "-x" to "-h", and again (test -ef)', {
    files: { '-h': 'h' },
    tasks: `    - file: { path: "-x", src: "-h", state: hard }\n    - file: { path: "-x", src: "-h", state: hard }`,
    expect: 'ok',
    after: (d) => expect(fs.statSync(path.join(d, '-x')).ino).toBe(fs.statSync(path.join(d, '-h')).ino),
  }],
  ['file recurse (applied) on "-delete" changes only the tree under it', {
    files: { '-delete/inside.txt': 'x\n' },
    tasks: `    - file: { path: "-delete", state: directory, recurse: true, mode: "0700" }`,
    expect: 'ok',
    after: (d) => expect([modeOf(d, '-delete/inside.txt'), read(d, 'keep.txt')]).toEqual(['0700', 'keep\n']),
  }],
  ['file recurse --check on a directory named "!" (a find operator)', { check: true, files: { '!/x': 'x' }, tasks: `    - file: { path: "!", state: directory, recurse: true, mode: "0700" }`, expect: 'ok' }],
  ['file recurse --check on a directory named "(" (a find operator)', { check: true, files: { '(/x': 'x' }, tasks: `    - file: { path: "(", state: directory, recurse: true, mode: "0700" }`, expect: 'ok' }],
  ['file owner "--from=root" is refused', { tasks: `    - name: t\n      file: { path: keep.txt, owner: "--from=root" }`, expect: /owner/ }],
  ['file group "-R" is refused', { tasks: `    - name: t\n      file: { path: watched, group: "-R", recurse: true, state: directory }`, expect: /group/ }],
  ['file recurse with owner "-delete" is refused', { tasks: `    - name: t\n      file: { path: watched, owner: "-delete", recurse: true, state: directory }`, expect: /owner/ }],
  ['file owner from a variable "-h" is refused', { vars: { o: '-h' }, tasks: `    - name: t\n      file: { path: keep.txt, owner: "{{ o }}" }`, expect: /owner/ }],
  ['file mode "--reference=keep.txt" is refused', { tasks: `    - name: t\n      file: { path: keep.txt, mode: "--reference=keep.txt" }`, expect: /mode/ }],
  // copy, template, lineinfile: destinations and attributes
  ['copy content to dest "-delete"', { tasks: `    - copy: { content: "--x\\n", dest: "-delete" }`, expect: 'ok', after: (d) => expect(read(d, '-delete')).toBe('--x\n') }],
  ['copy content to dest "--help"', { tasks: `    - copy: { content: "h", dest: "--help", mode: "0600" }`, expect: 'ok', after: (d) => expect([read(d, '--help'), modeOf(d, '--help')]).toEqual(['h', '0600']) }],
  ['copy owner "-h" is refused', { tasks: `    - name: t\n      copy: { content: "x", dest: "new.txt", owner: "-h" }`, expect: /owner/, after: (d) => expect(exists(d, 'new.txt')).toBe(false) }],
  ['copy group "root:root" is refused', { tasks: `    - name: t\n      copy: { content: "x", dest: "new.txt", group: "root:root" }`, expect: /group/, after: (d) => expect(exists(d, 'new.txt')).toBe(false) }],
  ['template dest "-t"', { files: { 'templates/t.j2': '{{ v }}\n' }, vars: { v: '-v' }, tasks: `    - template: { src: t.j2, dest: "-t" }`, expect: 'ok', after: (d) => expect(read(d, '-t')).toBe('-v\n') }],
  ['template owner "--reference=x" is refused', { files: { 'templates/t.j2': 'x' }, tasks: `    - name: t\n      template: { src: t.j2, dest: "t.out", owner: "--reference=x" }`, expect: /owner/, after: (d) => expect(exists(d, 't.out')).toBe(false) }],
  ['lineinfile path "-i" with line "--x"', { tasks: `    - lineinfile: { path: "-i", line: "--x", create: true }`, expect: 'ok', after: (d) => expect(read(d, '-i')).toBe('--x\n') }],
  ['lineinfile owner "-R" is refused', { tasks: `    - name: t\n      lineinfile: { path: "keep.txt", line: x, owner: "-R" }`, expect: /owner/ }],
  ['stat path "-L"', { files: { '-L': 'l' }, tasks: `    - stat: { path: "-L" }\n      register: s\n    - assert: { that: ["s.stat.exists", "s.stat.size == 1"] }`, expect: 'ok' }],
  // command: its guards and chdir
  ['command chdir "-" runs in the directory "-" (not cd\'s previous directory)', {
    files: { '-/f': '' },
    tasks: `    - command: pwd\n      args: { chdir: "-" }\n      register: p\n    - copy: { content: "{{ p.stdout }}", dest: "pwd.out" }`,
    expect: 'ok',
    after: (d) => expect(read(d, 'pwd.out')).toMatch(/\/-$/),
  }],
  ['command chdir "-P" is a directory, not an option of cd', { files: { '-P/f': '' }, tasks: `    - command: pwd\n      args: { chdir: "-P" }\n      register: p\n    - assert: { that: ["p.stdout is search('/-P$')"] }`, expect: 'ok' }],
  ['command creates "-delete" (exists): skipped', { files: { '-delete': '' }, tasks: `    - command: touch ${MARK}\n      args: { creates: "-delete" }`, expect: 'ok' }],
  ['command removes "-*" (a glob of option-like names, none there): skipped', { tasks: `    - command: touch ${MARK}\n      args: { removes: "-*" }`, expect: 'ok' }],
  // accounts: names that would be options, in check mode (nothing may be created on this machine)
  ['user name "-o" is refused', { check: true, tasks: `    - name: t\n      user: { name: "-o" }`, expect: /name/ }],
  ['user groups "wheel,-G" is refused', { check: true, tasks: `    - name: t\n      user: { name: tsplayh12, groups: "wheel,-G" }`, expect: /groups: "-G" starts with "-"/ }],
  ['user group "--root=/tmp" is refused', { check: true, tasks: `    - name: t\n      user: { name: tsplayh12, group: "--root=/tmp" }`, expect: /group/ }],
  ['user password hash with a newline is refused (would add a chpasswd record for root)', { check: true, vars: { pw: '$6$x$y\nroot:$6$a$b' }, tasks: `    - name: t\n      user: { name: tsplayh12, password: "{{ pw }}" }`, expect: /password contains a newline/ }],
  ['group name "-f" is refused', { check: true, tasks: `    - name: t\n      group: { name: "-f" }`, expect: /name/ }],
  ['file-owner owner "--reference=/etc" is refused', { tasks: `    - name: t\n      file-owner: { path: /tmp, owner: "--reference=/etc" }`, expect: /owner/ }],
  ['package name "-y" is refused', { check: true, tasks: `    - name: t\n      package: { name: "-y" }`, expect: /name/ }],
  ['wait_for path "-x" absent: done at once', { tasks: `    - wait_for: { path: "-x", state: absent, timeout: 5 }`, expect: 'ok' }],
  // modes
  ['mode: 644 unquoted (the decimal 644) is an error with the quoted form', {
    tasks: `    - name: t\n      copy: { content: "x", dest: "m.txt", mode: 644 }`,
    expect: /mode 644 is read by YAML as the decimal number 644 \(octal 1204\): did you mean '0644'\? Quote it: mode: '0644'/,
    after: (d) => expect(exists(d, 'm.txt')).toBe(false),
  }],
  ['mode: 0644 unquoted (YAML octal) is 0644', { tasks: `    - copy: { content: "x", dest: "m.txt", mode: 0644 }`, expect: 'ok', after: (d) => expect(modeOf(d, 'm.txt')).toBe('0644') }],
  ['mode: "0o640" is 0640', { tasks: `    - copy: { content: "x", dest: "m.txt", mode: "0o640" }`, expect: 'ok', after: (d) => expect(modeOf(d, 'm.txt')).toBe('0640') }],
  ['file mode: 755 unquoted is an error', { tasks: `    - name: t\n      file: { path: watched, state: directory, mode: 755 }`, expect: /did you mean '0755'/ }],
];

describe('module arguments that look like options stay operands, or are refused', () => {
  it.each(ARG_CASES)('%s', (_name, c) => {
    const dir = project(c);
    const watched = treeHash(path.join(dir, 'watched'));
    const r = run(dir, c);
    noStack(r);
    if (c.expect === 'ok') {
      expect({ code: r.code, failures: failures(r) }).toEqual({ code: 0, failures: '' });
    } else {
      expect(r.code).not.toBe(0);
      expect(failures(r)).toMatch(c.expect);
    }
    expect(markers(dir)).toEqual([]);
    expect(read(dir, 'keep.txt')).toBe('keep\n');
    if (c.watched !== false) expect(treeHash(path.join(dir, 'watched'))).toBe(watched);
    c.after?.(dir, r);
  });
});

describe('service: unit names that look like options reach systemctl after --', () => {
  // a fake systemctl: logs its argv and reports a loaded, stopped, disabled unit
  function fakeSystemctl(dir: string): { env: NodeJS.ProcessEnv; argvs: () => string[][] } {
    const bin = path.join(dir, 'fakebin');
    const log = path.join(dir, 'systemctl.log');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(
      path.join(bin, 'systemctl'),
      `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> '${log}'; done; echo >> '${log}'\n` +
        `case "$1" in show) printf 'LoadState=loaded\\nActiveState=inactive\\nSubState=dead\\nUnitFileState=disabled\\nNeedDaemonReload=no\\n' ;; esac\n`,
      { mode: 0o755 },
    );
    return {
      env: { PATH: `${bin}:${process.env.PATH}` },
      argvs: () => fs.readFileSync(log, 'utf8').split('\n\n').filter(Boolean).map((b) => b.split('\n').filter((l) => l !== '')),
    };
  }

  it.each(['--now', '-H', '--root=/tmp', '-M'])('service name %j: every systemctl call ends with -- and the literal name', (name) => {
    const c: Case = { vars: { n: name }, tasks: '    - service: { name: "{{ n }}", state: started, enabled: true }' };
    const dir = project(c);
    const fake = fakeSystemctl(dir);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts.ini', '--format', 'json'], { cwd: dir, env: fake.env });
    noStack(r);
    expect(r.code).toBe(0);
    const calls = fake.argvs();
    expect(calls.map((a) => a[0])).toEqual(['show', 'enable', 'start', 'show']);
    for (const argv of calls) expect(argv.slice(-2)).toEqual(['--', name]);
    expect(markers(dir)).toEqual([]);
  });
});
