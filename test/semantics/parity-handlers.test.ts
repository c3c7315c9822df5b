/**
 * Handlers and host order as ansible-core 2.14 runs them (the handlers target's
 * test_force_handlers.yml, test_handlers_infinite_loop.yml and order.yml, checked with
 * ansible-playbook): force_handlers from the play or --force-handlers, a handler notified
 * again by a later handler waits for the next flush, a handler notifying itself is not
 * rerun, and the play's `order`. Local connection; assertions on json events.
 */
import path from 'path';
import { makeProject, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const HOSTS = 'A ansible_connection=local\nB ansible_connection=local\nC ansible_connection=local\n';

function run(pb: string, extra: string[] = [], hosts = HOSTS) {
  const dir = makeProject({ 'hosts.ini': hosts, 'pb.yml': pb });
  return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json', ...extra], { cwd: dir });
}

/** hosts on which the task named `task` ran (any status but skipped) */
function ranOn(r: ReturnType<typeof run>, task: string): string[] {
  return results(r, task).filter((e) => e.status !== 'skipped').map((e) => e.host).sort();
}

// A and B are notified; A and C fail afterwards (the target's role, shortened)
const FORCE = (head = '') => `- hosts: all
  gather_facts: false
${head}  tasks:
    - command: echo
      notify: echoing handler
      when: inventory_hostname in ['A', 'B']
    - fail: msg=all
      when: fail_all | default(false) | bool
    - fail: msg=A_or_C
      when: inventory_hostname in ['A', 'C']
    - name: after
      command: echo
  handlers:
    - name: echoing handler
      command: echo
`;

describe('force_handlers', () => {
  test('without it only the host that did not fail runs the handler', () => {
    expect(ranOn(run(FORCE()), 'echoing handler')).toEqual(['B']);
  });

  test('--force-handlers runs it on the failed host too; later tasks still only on the others', () => {
    const r = run(FORCE(), ['--force-handlers']);
    expect(ranOn(r, 'echoing handler')).toEqual(['A', 'B']);
    expect(ranOn(r, 'after')).toEqual(['B']);
  });

  test('--force-handlers runs handlers even when every host failed', () => {
    expect(ranOn(run(FORCE(), ['--force-handlers', '-e', 'fail_all=yes']), 'echoing handler')).toEqual(['A', 'B']);
  });

  test('the play keyword: true forces, false wins over --force-handlers, a template is rendered', () => {
    expect(ranOn(run(FORCE('  force_handlers: true\n')), 'echoing handler')).toEqual(['A', 'B']);
    expect(ranOn(run(FORCE('  force_handlers: false\n'), ['--force-handlers']), 'echoing handler')).toEqual(['B']);
    expect(ranOn(run(FORCE('  vars: { f: yes }\n  force_handlers: "{{ f }}"\n')), 'echoing handler')).toEqual(['A', 'B']);
  });
});

describe('handlers notifying handlers', () => {
  test('a later handler notified runs in the same flush; an earlier one in the next flush; none notifies itself', () => {
    const r = run(`- hosts: A
  gather_facts: false
  tasks:
    - command: echo
      notify: [handler1, self_notify]
  handlers:
    - name: handler1
      debug: msg=handler1
      changed_when: true
      notify: handler2
    - name: handler2
      debug: msg=handler2
      changed_when: true
      notify: handler1
    - name: self_notify
      debug: msg=self
      changed_when: true
      notify: self_notify
`);
    expect(r.code).toBe(0);
    // the tasks' flush, then the post_tasks' flush runs what handler2 notified; the last
    // notification (handler1 by handler2 again) has no flush left
    expect(results(r).map((e) => e.task)).toEqual(['command', 'handler1', 'handler2', 'self_notify', 'handler1', 'handler2']);
  });
});

describe('play order', () => {
  const ORDER = (o: string) => `- hosts: all\n  gather_facts: false\n  order: ${o}\n  serial: 1\n  tasks:\n    - debug: msg=x\n`;
  const hosts = 'b ansible_connection=local\nc ansible_connection=local\na ansible_connection=local\n';
  test.each([
    ['inventory', ['b', 'c', 'a']],
    ['reverse_inventory', ['a', 'c', 'b']],
    ['sorted', ['a', 'b', 'c']],
    ['reverse_sorted', ['c', 'b', 'a']],
  ])('order: %s', (order, expected) => {
    expect(results(run(ORDER(order), [], hosts)).map((e) => e.host)).toEqual(expected);
  });

  test('shuffle runs every host once', () => {
    expect(results(run(ORDER('shuffle'), [], hosts)).map((e) => e.host).sort()).toEqual(['a', 'b', 'c']);
  });

  test('an unknown order is an error at load naming the line, and nothing runs', () => {
    const r = run(ORDER('sideways'), [], hosts);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pb\.yml:3:\d+: unknown host order 'sideways'/);
    expect(results(r)).toHaveLength(0);
  });
});

describe('ansible_failed_task / ansible_failed_result (blocks target)', () => {
  test('set when a host enters rescue, and still visible after the block', () => {
    const r = run(`- hosts: A
  gather_facts: false
  tasks:
    - block:
        - name: template error
          debug: msg="{{ nope }}"
      rescue:
        - debug: msg="{{ ansible_failed_task.name }} {{ ansible_failed_task.action }} {{ ansible_failed_result.failed }}"
    - debug: msg="{{ ansible_failed_task.name }}"
    - debug: msg="{{ (ansible_failed_task is defined) | string }}"
      delegate_to: localhost
`);
    expect(r.code).toBe(0);
    expect(results(r, 'debug').map((e) => e.result.msg)).toEqual(['template error debug True', 'template error', 'True']);
  });

  test('not set by a failure outside any block with rescue', () => {
    const r = run(`- hosts: A
  gather_facts: false
  tasks:
    - fail: msg=x
      ignore_errors: true
    - command: /bin/false
      ignore_errors: true
    - debug: msg="{{ (ansible_failed_task is defined) | string }}"
`);
    expect(results(r, 'debug').map((e) => e.result.msg)).toEqual(['False']);
  });
});

describe('include_tasks as a handler (handlers target: 79776, include_handlers_fail_force)', () => {
  function runWith(files: Record<string, string>, extra: string[] = []) {
    const dir = makeProject({ 'hosts.ini': HOSTS, ...files });
    return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json', ...extra], { cwd: dir });
  }
  const files = (tail = '') => ({
    'h.yml': '- name: included step\n  debug: msg="handler for {{ inventory_hostname }}"\n',
    'pb.yml': `- hosts: A,B
  gather_facts: false
  tasks:
    - command: echo
      notify: by-name
      when: inventory_hostname == "A"
    - command: echo
      notify: topic
      when: inventory_hostname == "B"
${tail}  handlers:
    - name: by-name
      include_tasks: h.yml
    - include_tasks: h.yml
      listen: topic
`,
  });

  test('notified by name or by a listen topic, its tasks run on the notified hosts only', () => {
    const r = runWith(files());
    expect(r.code).toBe(0);
    expect(results(r, 'included step').map((e) => `${e.host}:${e.result.msg}`).sort()).toEqual(['A:handler for A', 'B:handler for B']);
  });

  test('with --force-handlers a host that failed after the notification still runs the included tasks', () => {
    const tail = '    - fail: msg=boom\n      when: inventory_hostname == "A"\n';
    expect(results(runWith(files(tail)), 'included step').map((e) => e.host)).toEqual(['B']);
    expect(results(runWith(files(tail), ['--force-handlers']), 'included step').map((e) => e.host).sort()).toEqual(['A', 'B']);
  });

  test('a missing included file is reported before the run with its line (syntax check)', () => {
    const dir = makeProject({ 'hosts.ini': HOSTS, 'pb.yml': '- hosts: A\n  gather_facts: false\n  tasks:\n    - command: echo\n      notify: h\n  handlers:\n    - name: h\n      include_tasks: nope.yml\n' });
    const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--syntax-check'], { cwd: dir });
    expect(r.stdout + r.stderr).toMatch(/pb\.yml:8:\d+.*nope\.yml/);
  });
});

describe('any_errors_fatal on a failed include (any_errors_fatal target, 50897)', () => {
  test.each(['include_role:\n        name: no-such-role', 'include_tasks: no-such-file.yml'])('%s on one host stops the play for all', (inc) => {
    const r = run(`- hosts: A,B
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - name: the include
      ${inc}
      when: inventory_hostname == 'B'
    - name: never
      debug: msg=reached
`);
    expect(r.code).toBe(2);
    expect(results(r, 'never')).toHaveLength(0);
  });
});

test('ansible_failed_task.name is the task name as written, without its role (blocks finalized_task.yml)', () => {
  const dir = makeProject({
    'hosts.ini': HOSTS,
    'roles/failing/tasks/main.yml': '- name: Fail\n  fail: msg=fail\n',
    'pb.yml': `- hosts: A
  gather_facts: false
  tasks:
    - block:
        - include_role:
            name: '{{ item }}'
          loop: [failing]
      rescue:
        - debug: msg="{{ ansible_failed_task.name }} {{ ansible_failed_task.action }}"
`,
  });
  const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
  expect(r.code).toBe(0);
  expect(results(r, 'debug')[0].result.msg).toBe('Fail fail');
});

test("an included role's own handler with a templated name answers its notify, not the play's of the same name (test_templating_in_handlers)", () => {
  const dir = makeProject({
    'hosts.ini': HOSTS,
    'roles/r/handlers/main.yml': '- name: "{{ h }}"\n  set_fact: { from_role: true }\n',
    'roles/r/tasks/main.yml': '- command: echo\n  notify: "{{ h }}"\n- meta: flush_handlers\n- debug: msg="{{ from_role | default(false) }} {{ from_play | default(false) }}"\n',
    'pb.yml': `- hosts: A
  gather_facts: false
  vars: { h: name2 }
  handlers:
    - name: "{{ h }}"
      set_fact: { from_play: true }
  tasks:
    - include_role: name=r
`,
  });
  const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
  expect(r.code).toBe(0);
  expect(results(r, 'r : debug')[0].result.msg).toBe('True False');
});
