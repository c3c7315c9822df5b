/**
 * Issue 12, hostile runs: Ctrl-C at awkward moments, input that only fails mid-run
 * (--syntax-check must find it before the first connection), and unbounded include recursion.
 * The real CLI over the local connection. Every case that must change nothing has an earlier
 * task that would create a marker file: it must not exist afterwards.
 */
import { spawn, spawnSync } from 'child_process';
import fs from 'fs';
import path from 'path';
import { BIN, LOCAL_INVENTORY, makeProject, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

interface LiveRun {
  code: number;
  stdout: string;
  stderr: string;
  /** ms from the first SIGINT to the exit */
  afterSigint: number;
}

/** Start the CLI, wait for `ready` (a file), send SIGINT (`count` times), collect the outcome. */
function runAndInterrupt(dir: string, ready: string, count = 1): Promise<LiveRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'run', 'site.yml', '-i', 'hosts'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    let sentAt = 0;
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const started = Date.now();
    const poll = setInterval(() => {
      if (sentAt === 0 && fs.existsSync(path.join(dir, ready))) {
        sentAt = Date.now();
        clearInterval(poll);
        for (let i = 0; i < count; i++) setTimeout(() => child.kill('SIGINT'), i * 100);
      } else if (Date.now() - started > 60_000) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`never got ready\n${stdout}\n${stderr}`));
      }
    }, 20);
    child.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code: code ?? -1, stdout, stderr, afterSigint: sentAt ? Date.now() - sentAt : -1 });
    });
  });
}

/** Processes whose argv is exactly `args` (a unique sleep duration tags each test's sleep). */
function running(args: string): number {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.stdout.split('\n').filter((l) => l.trim() === args).length;
}

/** a sleep duration of about 30 s that no other test uses */
const tag = (): string => `30.${process.pid % 1000}${Date.now() % 1000}`;

describe('Ctrl-C', () => {
  test('during the last task, a long command: interrupted at once, exit 130, "interrupted", the command is gone', async () => {
    const t = tag();
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: long
      shell: touch started && exec sleep ${t}
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(r.stdout + r.stderr).toMatch(/interrupted after/);
    expect(r.stdout).not.toMatch(/finished in/);
    expect(r.afterSigint).toBeLessThan(2500);
    expect(running(`sleep ${t}`)).toBe(0);
  });

  test('during a controller-side wait (pause) in the last task: exit 130, not 2', async () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - file: { path: "{{ playbook_dir }}/started", state: touch }
    - pause: { seconds: 20 }
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(r.stdout).toMatch(/interrupted after/);
    expect(r.afterSigint).toBeLessThan(5000);
  });

  test('a command that ignores SIGINT is killed after a grace period; no later task starts', async () => {
    const t = tag();
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - shell: trap '' INT; touch started; sleep ${t}
    - file: { path: "{{ playbook_dir }}/later", state: touch }
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(r.afterSigint).toBeLessThan(6000);
    expect(fs.existsSync(path.join(dir, 'later'))).toBe(false);
    await new Promise((res) => setTimeout(res, 700));
    expect(running(`sleep ${t}`)).toBe(0);
  });

  test('a write in progress finishes (new content in place, no temp file), then the run stops', async () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'dest.txt': 'old\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - copy:
        content: "new\\n"
        dest: "{{ playbook_dir }}/dest.txt"
        validate: sh -c "touch {{ playbook_dir }}/started; sleep 1.5" %s
    - file: { path: "{{ playbook_dir }}/later", state: touch }
`,
    });
    const r = await runAndInterrupt(dir, 'started');
    expect(r.code).toBe(130);
    expect(fs.readFileSync(path.join(dir, 'dest.txt'), 'utf8')).toBe('new\n');
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('.tsplay-tmp'))).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'later'))).toBe(false);
  });

  test('a second Ctrl-C quits at once, even while a command ignores the first', async () => {
    const t = tag();
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - shell: trap '' INT; touch started; sleep ${t}
`,
    });
    const r = await runAndInterrupt(dir, 'started', 2);
    expect(r.code).toBe(130);
    expect(r.afterSigint).toBeLessThan(1500);
  });
});

const MARKER_TASK = `    - name: marker
      file: { path: "{{ playbook_dir }}/marker", state: touch }
`;

/** A project whose play first creates `marker`, then `tasks` (YAML lines at task indent). */
function project(tasks: string, files: Record<string, string> = {}, roles = ''): string {
  return makeProject({
    hosts: LOCAL_INVENTORY,
    'site.yml': `- hosts: all\n  gather_facts: false\n${roles}  tasks:\n${MARKER_TASK}${tasks}`,
    ...files,
  });
}

/** line of the first line of `file` (relative to dir) containing `needle`, 1-based */
function lineOf(dir: string, file: string, needle: string): number {
  const i = fs.readFileSync(path.join(dir, file), 'utf8').split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`${needle} not in ${file}`);
  return i + 1;
}

const ROLE_TEMPLATE_TASK = `
- name: render
  template:
    src: app.conf.j2
    dest: /tmp/tsplay-h12-never
`;

/** [title, tasks, extra files, roles line, file:needle the error must name, message pattern] */
const BAD: Array<[string, string, Record<string, string>, string, [string, string], RegExp]> = [
  ['a role template with a syntax error', '', { 'roles/r/tasks/main.yml': ROLE_TEMPLATE_TASK, 'roles/r/templates/app.conf.j2': 'a=1\n{% if x %}\nno end\n' }, '  roles: [r]\n', ['roles/r/templates/app.conf.j2', '{% if'], /app\.conf\.j2:\d+/],
  ['an unknown filter inside a role template', '', { 'roles/r/tasks/main.yml': ROLE_TEMPLATE_TASK, 'roles/r/templates/app.conf.j2': 'a=1\nb={{ x | frobnicate }}\n' }, '  roles: [r]\n', ['roles/r/templates/app.conf.j2', 'frobnicate'], /unknown filter 'frobnicate'/],
  ['a template src that does not exist', `    - template: { src: missing.j2, dest: /tmp/tsplay-h12-never }\n`, {}, '', ['site.yml', 'missing.j2'], /template src 'missing\.j2' not found/],
  ['a copy src that does not exist', `    - copy:\n        src: nothere.txt\n        dest: /tmp/tsplay-h12-never\n`, {}, '', ['site.yml', 'nothere.txt'], /copy src 'nothere\.txt' not found/],
  ['a when expression that does not parse', `    - debug: { msg: hi }\n      when: x ==\n`, {}, '', ['site.yml', 'when: x =='], /when|expression|syntax/i],
  ['a when with an unknown test', `    - debug: { msg: hi }\n      when: x is frobbed\n`, {}, '', ['site.yml', 'frobbed'], /unknown test 'frobbed'/],
  ['an unknown filter in a module argument', `    - debug:\n        msg: "{{ 'a' | nosuchfilter }}"\n`, {}, '', ['site.yml', 'nosuchfilter'], /unknown filter 'nosuchfilter'/],
  ['an unknown filter in a when', `    - debug: { msg: hi }\n      when: (x | nosuch2) == 1\n`, {}, '', ['site.yml', 'nosuch2'], /unknown filter 'nosuch2'/],
  ['a bad changed_when', `    - command: "true"\n      changed_when: rc ==== 1\n`, {}, '', ['site.yml', 'rc ===='], /syntax|expect|unexpected/i],
  ['a bad assert that (a raw argument)', `    - assert:\n        that:\n          - 1 +\n`, {}, '', ['site.yml', '- 1 +'], /syntax|expect|unexpected|end/i],
  ['a syntax error in a play variable', `    - debug: { msg: hi }\n`, {}, '  vars:\n    v: "{{ x | | y }}"\n', ['site.yml', '{{ x | | y }}'], /syntax|expect|unexpected/i],
];

describe('--syntax-check finds what used to fail mid-run', () => {
  it.each(BAD)('%s', (_title, tasks, files, roles, [file, needle], message) => {
    const dir = project(tasks, files, roles);
    const where = `${path.join(dir, file)}:${lineOf(dir, file, needle)}`;
    for (const extra of [['--syntax-check'], []]) {
      const r = runTsplay(['run', 'site.yml', '-i', 'hosts', ...extra], { cwd: dir });
      expect({ extra, code: r.code }).toEqual({ extra, code: 1 });
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain(where);
      expect(r.stderr).not.toMatch(/INTERNAL|\n\s+at /);
      expect(r.stdout).not.toMatch(/syntax OK|PLAY \[/);
      expect(fs.existsSync(path.join(dir, 'marker'))).toBe(false);
    }
  });

  test('all problems are reported together', () => {
    const dir = project(`    - debug: { msg: "{{ 1 | nope5 }}" }\n    - copy: { src: gone.txt, dest: /tmp/x }\n      when: a is nope6\n`);
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts', '--syntax-check'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope5/);
    expect(r.stderr).toMatch(/gone\.txt/);
    expect(r.stderr).toMatch(/nope6/);
  });

  test('what is only known at run time passes: templated src, raw blocks, loop variables, registered results', () => {
    const dir = project(
      `    - command: echo hi\n      register: out\n      changed_when: out.rc != 0 and item is defined\n      loop: [1]\n` +
        `    - template: { src: "{{ name }}.j2", dest: "{{ playbook_dir }}/never" }\n      when: false\n` +
        `    - copy: { src: /etc/tsplay-not-here, dest: /tmp/x, remote_src: true }\n      when: false\n` +
        `    - template: { src: ok.j2, dest: "{{ playbook_dir }}/ok.out" }\n`,
      { 'templates/ok.j2': '{% raw %}{{ not | a | template }}{% endraw %} {{ inventory_hostname | upper }}\n' },
    );
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts', '--syntax-check'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const run = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir });
    expect(run.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'ok.out'), 'utf8')).toBe('{{ not | a | template }} LOCALHOST\n');
  });
});

describe('include recursion', () => {
  test('include_tasks of itself stops at depth 64 with the chain, quickly', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: again.yml\n`,
      'again.yml': `- debug: { msg: deeper }\n- include_tasks: again.yml\n`,
    });
    const t0 = Date.now();
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir, timeoutMs: 60_000 });
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/include depth limit \(64\)/);
    expect(r.stdout).toContain(`${path.join(dir, 'site.yml')}:4`);
    expect(r.stdout).toContain(`${path.join(dir, 'again.yml')}:2`);
    expect(r.stdout).not.toMatch(/INTERNAL|\n\s+at /);
    expect((r.stdout.match(/deeper/g) ?? []).length).toBe(64);
  });

  // include_role is dynamic (validated when included, as include_tasks): its recursion stops
  // at the same depth limit, naming the chain
  test('include_role of itself stops at the include depth limit, naming the place', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n${MARKER_TASK}    - include_role: { name: loop }\n`,
      'roles/loop/tasks/main.yml': `- include_role: { name: loop }\n`,
    });
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/include depth limit \(64\)/);
    expect(r.stdout).toContain(`${path.join(dir, 'roles/loop/tasks/main.yml')}:1`);
    expect(r.stdout).not.toMatch(/INTERNAL|\n\s+at /);
  });
});
