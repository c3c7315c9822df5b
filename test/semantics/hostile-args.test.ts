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
    .map((e) => JSON.stringify(e))
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
