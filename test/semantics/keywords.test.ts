/**
 * Templated boolean keywords (issue 11, first section): every keyword Ansible lets you template
 * is rendered per host with the task's variables and read with the one boolean rule
 * (runner/booleans.ts). Before, `check_mode: "{{ dry }}"` reached a truthiness test as raw text,
 * said false, and a dry run ran the command for real.
 */
import fs from 'fs';
import path from 'path';
import { makeProject, recap, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

function run(dir: string, extra: string[] = []) {
  return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json', ...extra], { cwd: dir });
}

function project(tasks: string, inventory = 'h1 ansible_connection=local\n', vars = ''): string {
  return makeProject({ 'hosts.ini': inventory, 'pb.yml': `- hosts: all\n  gather_facts: false\n  vars:\n${vars || '    unused: 1\n'}  tasks:\n${tasks}` });
}

describe('check_mode as a template', () => {
  test.each([
    ['true', 'a boolean variable'],
    ["'yes'", 'the word yes'],
    ["'On'", 'the word On'],
    ['1', 'the number 1'],
  ])('check_mode: "{{ dry }}" with dry=%s (%s) changes nothing', (value) => {
    const dir = project(`    - command: touch {{ playbook_dir }}/x\n      check_mode: "{{ dry }}"\n`, undefined, `    dry: ${value}\n`);
    const r = run(dir);
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    expect(results(r)[0].status).toBe('changed');
  });

  test('check_mode: "{{ dry }}" with dry=false runs the task', () => {
    const dir = project(`    - command: touch {{ playbook_dir }}/x\n      check_mode: "{{ dry }}"\n`, undefined, '    dry: false\n');
    expect(run(dir).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(true);
  });

  test('a templated check_mode on a block reaches its tasks', () => {
    const dir = project(`    - block:\n        - command: touch {{ playbook_dir }}/x\n      check_mode: "{{ dry }}"\n`, undefined, '    dry: "yes"\n');
    expect(run(dir).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });

  test('check_mode per host: each host renders it with its own variables', () => {
    const dir = project(
      `    - command: touch {{ playbook_dir }}/{{ inventory_hostname }}\n      check_mode: "{{ dry }}"\n`,
      'h1 ansible_connection=local dry=true\nh2 ansible_connection=local dry=false\n',
    );
    const r = run(dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'h1'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'h2'))).toBe(true);
  });

  test.each(['maybe', 'none', '2', ''])('a value that is not a boolean (%p) is an error naming the task, and nothing runs', (value) => {
    const dir = project(`    - command: touch {{ playbook_dir }}/x\n      check_mode: "{{ dry }}"\n`, undefined, `    dry: "${value}"\n`);
    const r = run(dir);
    expect(r.code).toBe(2);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
    const msg = String(results(r)[0].result?.msg ?? results(r)[0].msg);
    expect(msg).toMatch(/check_mode: .* is not a boolean/);
    expect(JSON.stringify(results(r)[0])).toContain('pb.yml');
  });
});

describe('the other templated boolean keywords', () => {
  test('diff: "{{ d }}" shows a diff without --diff', () => {
    const dir = project(`    - copy: { content: "new\\n", dest: "{{ playbook_dir }}/f" }\n      diff: "{{ d }}"\n`, undefined, '    d: "yes"\n');
    const r = run(dir);
    expect(r.code).toBe(0);
    expect(results(r)[0].diff).toBeDefined();
  });

  test('run_once: "{{ once }}" runs on the first host only', () => {
    const dir = project(
      `    - command: touch {{ playbook_dir }}/{{ inventory_hostname }}\n      run_once: "{{ once }}"\n`,
      'h1 ansible_connection=local\nh2 ansible_connection=local\n',
      '    once: "true"\n',
    );
    expect(run(dir).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'h1'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'h2'))).toBe(false);
  });

  test('any_errors_fatal: "{{ fatal }}" stops every host after one fails', () => {
    const dir = project(
      `    - fail: { msg: boom }\n      when: inventory_hostname == 'h1'\n      any_errors_fatal: "{{ fatal }}"\n    - command: touch {{ playbook_dir }}/{{ inventory_hostname }}\n`,
      'h1 ansible_connection=local\nh2 ansible_connection=local\n',
      '    fatal: "on"\n',
    );
    expect(run(dir).code).toBe(2);
    expect(fs.existsSync(path.join(dir, 'h2'))).toBe(false);
  });

  test('ignore_unreachable: "{{ iu }}" keeps an unreachable host in the play', () => {
    const dir = project(
      `    - ping:\n      ignore_unreachable: "{{ iu }}"\n    - debug: { msg: after }\n`,
      'ghost ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh\n',
      '    iu: true\n',
    );
    const r = run(dir, ['--timeout', '2']);
    expect(recap(r).hosts.ghost.unreachable).toBe(1);
    // the host stayed in the play: the next task ran on it
    expect(results(r, 'debug').map((e) => e.host)).toEqual(['ghost']);
  });

  test("an include's ignore_errors: \"{{ ie }}\" ignores a missing file", () => {
    const dir = project(
      // a templated file name, so the missing file is found at run time, not at load
      `    - include_tasks: "{{ f }}"\n      ignore_errors: "{{ ie }}"\n    - command: touch {{ playbook_dir }}/after\n`,
      undefined,
      '    ie: "yes"\n    f: missing.yml\n',
    );
    expect(run(dir).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'after'))).toBe(true);
  });

  test('gather_facts and become take the same rule', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'pb.yml': `- hosts: all\n  gather_facts: "{{ g }}"\n  vars: { g: "no", b: "off" }\n  tasks:\n    - command: id -u\n      become: "{{ b }}"\n      register: r\n    - copy: { content: "{{ r.stdout }} {{ ansible_facts | default({}) | length }}", dest: "{{ playbook_dir }}/out" }\n`,
    });
    expect(run(dir).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'out'), 'utf8')).toBe(`${process.getuid!()} 0`);
  });
});

describe('static keyword values', () => {
  test.each(['y', 'T', 'yes', 'ON', '1'])('check_mode: %s is true at load', (word) => {
    const dir = project(`    - command: touch {{ playbook_dir }}/x\n      check_mode: "${word}"\n`);
    expect(run(dir).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
  });

  test('check_mode: maybe is a load error with file and line, before anything runs', () => {
    const dir = project(`    - command: touch {{ playbook_dir }}/first\n    - command: touch {{ playbook_dir }}/x\n      check_mode: maybe\n`);
    const r = run(dir);
    expect(r.code).toBe(1);
    expect(r.stderr + r.stdout).toMatch(/pb\.yml:\d+.*check_mode/s);
    expect(fs.existsSync(path.join(dir, 'first'))).toBe(false);
  });
});

describe('templated play keywords and action names', () => {
  const PB = `- hosts: all
  gather_facts: no
  serial: "{{ n | default(omit) }}"
  strategy: "{{ s | default('linear') }}"
  tasks:
    - set_fact: { m: debug }
      when: inventory_hostname == 'h1'
    - set_fact: { m: ping }
      when: inventory_hostname == 'h2'
    - action:
        module: '{{ m }}'
      register: out
    - copy: { content: "{{ 'ping' in out }} {{ ansible_play_batch | join(',') }}", dest: "{{ playbook_dir }}/{{ inventory_hostname }}" }
`;
  const TWO = 'h1 ansible_connection=local\nh2 ansible_connection=local\n';

  test.each([
    [[], 'h1,h2', 'h1,h2'],
    [['-e', 'n=1', '-e', 's=free'], 'h1', 'h2'],
  ])('serial/strategy from templates (%p); action module chosen per host', (extra, b1, b2) => {
    const dir = makeProject({ 'hosts.ini': TWO, 'pb.yml': PB });
    const r = run(dir, extra as string[]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'h1'), 'utf8')).toBe(`False ${b1}`);
    expect(fs.readFileSync(path.join(dir, 'h2'), 'utf8')).toBe(`True ${b2}`);
  });

  test('a strategy that renders to something else is an error naming the play', () => {
    const dir = makeProject({ 'hosts.ini': TWO, 'pb.yml': PB });
    const r = run(dir, ['-e', 's=fast']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pb\.yml:1.*strategy: 'fast'/);
  });
});

describe('the change line says "would" exactly when the task ran in check mode', () => {
  test.each([
    [[] as string[], '    dry: true\n', 'would: '],
    [['--check'], '    dry: false\n', ''],
  ])('%p with %s', (extra, vars, prefix) => {
    const dir = project(`    - copy: { content: "x\\n", dest: "{{ playbook_dir }}/f" }\n      check_mode: "{{ dry }}"\n`, undefined, vars);
    const r = run(dir, [...extra, '-v']);
    expect(r.code).toBe(0);
    expect(String(results(r)[0].msg)).toMatch(new RegExp(`^${prefix}create `));
  });
});
