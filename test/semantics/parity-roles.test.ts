/**
 * Roles as ansible-core 2.14 runs them (issue 11; repros in ../shared/conformance/repro/):
 * dependencies, self-imports, handler files, public role vars. Local connection, json events.
 */
import path from 'path';
import { makeProject, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

function run(files: Record<string, string>) {
  const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n', ...files });
  return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
}

function msgs(r: ReturnType<typeof run>): unknown[] {
  return results(r)
    .filter((e) => e.show && e.status !== 'failed')
    .map((e) => e.result?.msg);
}

const play = (body: string) => `- hosts: all\n  gather_facts: false\n${body}`;

test('a role may import its own other task file; only the same file again is a cycle (d17)', () => {
  const ok = run({
    'roles/self/tasks/main.yml': '- import_role: { name: self, tasks_from: other }\n',
    'roles/self/tasks/other.yml': '- debug: msg=other\n',
    'pb.yml': play('  roles: [self]\n'),
  });
  expect(ok.code).toBe(0);
  expect(msgs(ok)).toEqual(['other']);
  const cycle = run({
    'roles/self/tasks/main.yml': '- import_role: { name: self, tasks_from: other }\n',
    'roles/self/tasks/other.yml': '- import_role: { name: self, tasks_from: other }\n',
    'pb.yml': play('  roles: [self]\n'),
  });
  expect(cycle.code).toBe(1);
  expect(cycle.stderr).toMatch(/role dependency cycle: self\(other\) -> self\(other\)/);
});

test('include_role of two roles sharing a meta dependency runs it once (d22)', () => {
  const r = run({
    'roles/a/tasks/main.yml': '- debug: msg=A\n',
    'roles/b/meta/main.yml': 'dependencies: [a]\n',
    'roles/b/tasks/main.yml': '- debug: msg=B\n',
    'roles/c/meta/main.yml': 'dependencies: [a]\n',
    'roles/c/tasks/main.yml': '- debug: msg=C\n',
    'pb.yml': play('  tasks:\n    - include_role: { name: b }\n    - include_role: { name: c }\n'),
  });
  expect(msgs(r)).toEqual(['A', 'B', 'C']);
});

test("a meta dependency sees the depending role's params (d31)", () => {
  const r = run({
    'roles/child/tasks/main.yml': '- debug: msg="child {{ p }}"\n',
    'roles/parent/meta/main.yml': 'dependencies: [child]\n',
    'roles/parent/tasks/main.yml': '- debug: msg="parent {{ p }}"\n',
    'pb.yml': play('  vars: { p: play }\n  roles:\n    - { role: parent, p: param }\n'),
  });
  expect(msgs(r)).toEqual(['child param', 'parent param']);
});

test("a role's handlers may import a file from the playbook's directory (d13)", () => {
  const r = run({
    'roles/h/tasks/main.yml': '- command: echo\n  notify: it\n',
    'roles/h/handlers/main.yml': '- import_tasks: handlers.yml\n',
    'handlers.yml': '- name: it\n  debug: msg=handled\n',
    'pb.yml': play('  roles: [h]\n'),
  });
  expect(r.code).toBe(0);
  expect(msgs(r)).toEqual(['handled']);
});

test('a handler of a role imported inside an included role runs (d16)', () => {
  const r = run({
    'roles/outer/tasks/main.yml': '- import_role: { name: inner }\n',
    'roles/inner/tasks/main.yml': '- command: echo\n  notify: inner handler\n',
    'roles/inner/handlers/main.yml': '- name: inner handler\n  debug: msg=inner-ran\n',
    'pb.yml': play('  tasks:\n    - include_role: { name: outer }\n'),
  });
  expect(msgs(r)).toEqual(['inner-ran']);
});

test("an import_role's defaults and vars are visible to the whole play, before the import too (d27)", () => {
  const r = run({
    'roles/s/defaults/main.yml': 'sd: d\n',
    'roles/s/vars/main.yml': 'sv: v\n',
    'roles/s/tasks/main.yml': '- debug: msg=in\n',
    'pb.yml': play('  tasks:\n    - debug: msg="{{ sd | default(\'U\') }} {{ sv | default(\'U\') }}"\n    - import_role: { name: s }\n'),
  });
  expect(msgs(r)).toEqual(['d v', 'in']);
});

test('a handler belongs to the role instance that notified it: two include_role instances, two runs (issue 11)', () => {
  const r = run({
    'roles/r/tasks/main.yml': '- command: echo {{ v }}\n  notify: h\n',
    'roles/r/handlers/main.yml': '- name: h\n  debug: msg="handler {{ v }}"\n',
    'pb.yml': play('  tasks:\n    - include_role: { name: r }\n      vars: { v: one }\n    - include_role: { name: r }\n      vars: { v: two }\n'),
  });
  // ansible-playbook 2.14 on this playbook: "handler one", then "handler two"
  expect(msgs(r)).toEqual(['handler one', 'handler two']);
});
