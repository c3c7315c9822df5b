/**
 * loop_control as ansible-core 2.14 reads it (the loops target; each expectation checked with
 * ansible-playbook): `extended` and `extended_allitems`, no ansible_loop without `extended`, a
 * templated loop_var, and what each item's registered result carries. Local connection.
 */
import path from 'path';
import { makeProject, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

function msgs(body: string): unknown[] {
  const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n', 'pb.yml': `- hosts: all\n  gather_facts: false\n  vars: { lv: thing }\n  tasks:\n${body}` });
  const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
  expect(r.stderr).toBe('');
  // each item's message, and the message of a task without a loop (not the loop's summary)
  return results(r).map((e) => e.result?.msg).filter((m) => m !== undefined && m !== 'All items completed');
}

describe('loop_control', () => {
  test('extended: index, revindex0, first, previtem, nextitem, allitems', () => {
    expect(msgs(`    - debug: msg="{{ ansible_loop.index }}/{{ ansible_loop.revindex0 }} {{ ansible_loop.first }} {{ ansible_loop.previtem | default('-') }} {{ ansible_loop.nextitem | default('-') }} {{ ansible_loop.allitems | length }}"
      loop: [a, b, c]
      loop_control: { extended: true }
`)).toEqual(['1/2 True - b 3', '2/1 False a c 3', '3/0 False b - 3']);
  });

  test('without extended there is no ansible_loop (only ansible_loop_var)', () => {
    expect(msgs(`    - debug: msg="{{ ansible_loop is defined }} {{ ansible_loop_var }}"
      loop: [a]
`)).toEqual(['False item']);
  });

  test('a templated loop_var, extended_allitems: false, and the registered item results', () => {
    expect(msgs(`    - debug: msg="{{ thing }} {{ ansible_loop.allitems is defined }}"
      loop: [x]
      loop_control: { loop_var: "{{ lv }}", extended: true, extended_allitems: false }
      register: r
    - debug: msg="{{ r.results[0].ansible_loop_var }} {{ r.results[0].thing }} {{ r.results[0].ansible_loop.index }}"
`)).toEqual(['x False', 'thing x 1']);
  });

  test('a loop_var that renders to something that is not a name fails the task', () => {
    const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n', 'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg=x\n      loop: [1]\n      loop_control: { loop_var: "{{ 'a b' }}" }\n` });
    const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(JSON.stringify(results(r))).toMatch(/loop_var rendered to 'a b'/);
  });
});

describe('include_tasks / import_tasks file=NAME (copy target)', () => {
  test.each(['include_tasks', 'import_tasks'])('%s: file=other.yml is the file other.yml', (kw) => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'other.yml': '- debug: msg=included\n',
      'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - ${kw}: file=other.yml\n`,
    });
    const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(results(r).map((e) => e.result?.msg)).toContain('included');
  });
});
