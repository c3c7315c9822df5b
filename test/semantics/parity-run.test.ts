/**
 * The same playbook means the same thing (issue 11): the executor's handling of handlers,
 * results, retries, blocks and exit codes, each checked against what ansible-core 2.14 does
 * (the repro of ../shared/conformance/repro/ named on each test). Local connection; the
 * assertions are on files and json events.
 */
import path from 'path';
import { makeProject, recap, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

function run(files: Record<string, string>, extra: string[] = []) {
  const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n', ...files });
  return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json', ...extra], { cwd: dir });
}

/** A one-play playbook on all hosts, without fact gathering: `body` is its task list. */
function tasks(body: string): string {
  return `- hosts: all\n  gather_facts: false\n  tasks:\n${body}`;
}

/** The debug messages of a run, in order (one host). */
function msgs(r: ReturnType<typeof run>, host = 'h1'): unknown[] {
  return results(r)
    .filter((e) => e.host === host && e.show && e.status !== 'failed')
    .map((e) => e.result?.msg);
}

describe('handlers', () => {
  test('every handler listening to a topic runs, in definition order (d11)', () => {
    const r = run({
      'pb.yml': tasks(`    - command: echo
      notify: topic
  post_tasks:
    - debug: msg="{{ a | default('NO') }} {{ b | default('NO') }} {{ order | default([]) | join(',') }}"
  handlers:
    - name: named
      set_fact: { a: ran, order: "{{ (order | default([])) + ['named'] }}" }
      listen: topic
    - set_fact: { b: ran, order: "{{ (order | default([])) + ['unnamed'] }}" }
      listen: topic
`),
    });
    expect(r.code).toBe(0);
    expect(msgs(r)).toEqual(['ran ran named,unnamed']);
  });

  test('a handler with a templated name runs when notified by the same template (d12)', () => {
    const r = run({
      'pb.yml': `- hosts: all
  gather_facts: false
  vars: { hname: restart-it }
  handlers:
    - name: "{{ hname }}"
      set_fact: { ran: "done" }
  tasks:
    - command: echo
      notify: "{{ hname }}"
    - meta: flush_handlers
    - debug: msg="{{ ran | default('NO') }}"
`,
    });
    expect(msgs(r)).toEqual(['done']);
  });

  test('meta: flush_handlers with a false when does not flush (d26)', () => {
    const r = run({
      'pb.yml': tasks(`    - command: echo
      notify: h
    - meta: flush_handlers
      when: false
    - fail: { msg: stop }
  handlers:
    - name: h
      debug: { msg: handler ran }
`),
    });
    expect(r.code).toBe(2);
    expect(msgs(r)).toEqual([]);
  });
});

describe('results', () => {
  test("a successful task's registered result has failed: false; failed_when adds failed_when_result (d05)", () => {
    const r = run({
      'pb.yml': tasks(`    - shell: exit 0
      register: a
    - shell: exit 0
      failed_when: false
      register: b
    - debug: msg="{{ a.failed }} {{ 'failed_when_result' in b }} {{ b.failed_when_result }}"
`),
    });
    expect(msgs(r)).toEqual(['False True False']);
  });

  test("a changed_when that errors fails the task and keeps the command's fields (d18)", () => {
    const r = run({
      'pb.yml': tasks(`    - command: echo foo
      changed_when: nosuchvar
      register: r
      ignore_errors: true
    - debug: msg="{{ r is failed }} {{ r.stdout }} {{ r.changed_when_result is defined }}"
`),
    });
    expect(r.code).toBe(0);
    expect(msgs(r)).toEqual(['True foo True']);
  });

  test('until with retries: 3 that never holds reports attempts: 3 after 4 runs (d30)', () => {
    const r = run({
      'pb.yml': tasks(`    - shell: echo x >> {{ playbook_dir }}/runs
      register: u
      failed_when: true
      until: u is successful
      retries: 3
      delay: 0
      ignore_errors: true
    - shell: wc -l < {{ playbook_dir }}/runs
      register: n
    - debug: msg="{{ u.attempts }} {{ n.stdout | trim }}"
`),
    });
    expect(msgs(r)).toEqual(['3 4']);
  });
});

describe('blocks and failures', () => {
  const TWO = 'h1 ansible_connection=local\nh2 ansible_connection=local\n';

  test('a host that failed leaves ansible_play_batch and ansible_play_hosts (d09)', () => {
    const r = run({
      'hosts.ini': TWO,
      'pb.yml': tasks(`    - block:
        - fail:
          when: inventory_hostname == 'h1'
      rescue:
        - fail:
          when: inventory_hostname == 'h1'
    - debug: msg="{{ ansible_play_hosts | join(',') }} {{ ansible_play_batch | join(',') }}"
`),
    });
    expect(r.code).toBe(2);
    expect(msgs(r, 'h2')).toEqual(['h2 h2']);
  });

  test('meta: clear_host_errors in always brings the host back; the run exits 0 (d08)', () => {
    const r = run({
      'hosts.ini': TWO,
      'pb.yml': tasks(`    - block:
        - fail:
          when: inventory_hostname == 'h1'
      always:
        - meta: clear_host_errors
    - debug: msg=after
`),
    });
    expect(r.code).toBe(0);
    expect(msgs(r, 'h1')).toEqual(['after']);
    expect(recap(r).hosts.h1.failed).toBe(1);
  });

  test('with any_errors_fatal, always still runs after block and rescue failed (d04)', () => {
    const r = run({
      'pb.yml': `- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - block:
        - command: /bin/false
      rescue:
        - command: /bin/false
      always:
        - debug: msg=always
    - debug: msg=never
`,
    });
    expect(r.code).toBe(2);
    expect(msgs(r)).toEqual(['always']);
  });

  test('ignore_unreachable registers the result and the run exits 0 (d29)', () => {
    const r = run({
      'hosts.ini': 'h1 ansible_connection=local\nghost ansible_host=127.0.0.1 ansible_port=1 ansible_connection=ssh\n',
      'pb.yml': `- hosts: h1
  gather_facts: false
  tasks:
    - ping:
      delegate_to: ghost
      ignore_unreachable: true
      register: u
    - debug: msg="{{ u is unreachable }}"
`,
    }, ['--timeout', '2']);
    expect(msgs(r)).toEqual(['true']);
    expect(r.code).toBe(0);
  });
});

describe('variables, loops and tags', () => {
  test('set_fact turns the strings true/false/yes/no into booleans, k=v form included (d01)', () => {
    const r = run({
      'pb.yml': tasks(`    - set_fact: a=false b=Yes c=on
    - set_fact: { d: "{{ 'no' }}" }
    - debug: msg="{{ a is boolean }} {{ b is boolean }} {{ c is string }} {{ d is boolean }}"
    - debug: msg=ran
      when: a
`),
    });
    expect(msgs(r)).toEqual(['True True True True']);
  });

  test('ansible_host is the inventory name when the inventory does not set it (d02)', () => {
    const r = run({ 'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: msg="{{ ansible_host }}"\n` });
    expect(msgs(r)).toEqual(['h1']);
  });

  test('a false when skips a task whose loop is undefined; a true one fails on it (d06)', () => {
    const r = run({
      'pb.yml': tasks(`    - debug: msg="{{ item }}"
      loop: "{{ nosuch }}"
      when: nosuch is defined
    - debug: msg="{{ item }}"
      loop: "{{ nosuch }}"
      when: true
      ignore_errors: true
      register: r2
    - debug: msg="{{ r2 is failed }}"
`),
    });
    expect(results(r)[0].status).toBe('skipped');
    expect(msgs(r)).toEqual(['true']);
  });

  test('set_fact in a loop sees what the previous item set, over task vars (d23)', () => {
    const r = run({
      'pb.yml': tasks(`    - set_fact: { acc: "{{ acc + [item] }}" }
      loop: [two, three]
      vars: { acc: [one] }
    - debug: msg="{{ acc | join(',') }}"
`),
    });
    expect(msgs(r)).toEqual(['one,two,three']);
  });

  test('a variable whose template names an undefined one is undefined (d28)', () => {
    const r = run({
      'pb.yml': `- hosts: all
  gather_facts: false
  vars: { deep: "{{ nosuch }}" }
  tasks:
    - debug: msg="{{ deep | default('dflt') }} {{ deep is undefined }}"
    - debug: msg="{{ deep }}"
`,
    });
    expect(msgs(r)).toEqual(['dflt True']);
    expect(String(results(r)[1].result?.msg)).toMatch(/undefined variable 'nosuch'/);
  });

  test.each([
    [['--tags', 'tagged'], ['tagged', 'always']],
    [['--tags', 'donever'], ['never', 'always']],
    [['--tags', 'all'], ['tagged', 'untagged', 'always']],
    [['--tags', 'untagged'], ['untagged', 'always']],
    [['--skip-tags', 'tag'], ['untagged', 'always']],
    [['--skip-tags', 'keep'], ['tagged', 'untagged']],
    [['--skip-tags', 'all'], ['always']],
    [['--skip-tags', 'tagged'], ['untagged']],
  ])('tags %p run %p (evaluate_tags; d25)', (args, want) => {
    const r = run(
      {
        'pb.yml': tasks(`    - debug: msg=never
      tags: [never, donever]
    - debug: msg=tagged
      tags: tag
    - debug: msg=untagged
    - debug: msg=always
      tags: [always, keep]
`),
      },
      args,
    );
    expect(msgs(r)).toEqual(want);
  });
});

describe('includes', () => {
  const ROLE = {
    'roles/r/tasks/main.yml': '- debug: msg="main {{ item | default(\'-\') }}"\n',
    'roles/r/tasks/other.yml': '- debug: msg="other"\n',
    'roles/t/tasks/main.yml': '- debug: msg=one\n  tags: one\n- debug: msg=two\n  tags: two\n',
    'inc.yml': '- debug: msg="inc {{ item }}"\n',
  };

  test('include_tasks with a loop runs the file once per item, item visible inside (d19)', () => {
    const r = run({ ...ROLE, 'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: inc.yml\n      loop: [a, b]\n` });
    expect(msgs(r)).toEqual(['inc a', 'inc b']);
  });

  test('include_role in a loop: the role sees item (d14), and the name may come from it (d10)', () => {
    const r = run({
      ...ROLE,
      'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role: { name: r }\n      loop: [1, 2]\n    - include_role: { name: "{{ item }}" }\n      loop: [r]\n`,
    });
    expect(r.code).toBe(0);
    expect(msgs(r)).toEqual(['main 1', 'main 2', 'main r']);
  });

  test('include_role tasks_from is templated; omit means main (d20)', () => {
    const r = run({
      ...ROLE,
      'pb.yml': `- hosts: all\n  gather_facts: false\n  vars: { tf: other }\n  tasks:\n    - include_role: { name: r, tasks_from: "{{ tf }}" }\n    - include_role: { name: r, tasks_from: "{{ omit }}" }\n`,
    });
    expect(msgs(r)).toEqual(['other', 'main -']);
  });

  test("an include's own tags select it but are not given to the included tasks (d15)", () => {
    const r = run({ ...ROLE, 'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role: { name: t }\n      tags: [one, two]\n` }, ['--tags', 'one']);
    expect(msgs(r)).toEqual(['one']);
  });

  test('templated tags are rendered with the play vars (d24)', () => {
    const r = run({
      'pb.yml': `- hosts: all\n  gather_facts: false\n  vars: { the_tags: [t3] }\n  tasks:\n    - debug: msg=templated\n      tags: "{{ the_tags }}"\n    - debug: msg=other\n      tags: t4\n`,
    }, ['--tags', 't3']);
    expect(msgs(r)).toEqual(['templated']);
  });
});

describe('recap', () => {
  test('an ignored failure of a command counts as ok, ignored and changed; a rescued one as rescued', () => {
    const r = run({
      'pb.yml': tasks(`    - command: /bin/false
      ignore_errors: true
    - shell: exit 3
      ignore_errors: true
      register: r
    - debug: msg="{{ r.changed }}"
    - block:
        - command: /bin/false
      rescue:
        - debug: msg=rescued
`),
    });
    expect(r.code).toBe(0);
    // ansible-playbook 2.14 on this playbook: ok=4 changed=2 failed=0 rescued=1 ignored=2
    expect(recap(r).hosts.h1).toEqual({ ok: 4, changed: 2, unreachable: 0, failed: 0, skipped: 0, rescued: 1, ignored: 2 });
  });
});

describe('handler names', () => {
  test('a name notifies the first handler of that name only; every listener of it runs', () => {
    const r = run({
      'pb.yml': tasks(`    - command: echo
      notify: n
    - meta: flush_handlers
    - debug: msg="{{ a | default('-') }} {{ b | default('-') }} {{ c | default('-') }}"
  handlers:
    - name: n
      set_fact: { a: first }
    - name: n
      set_fact: { b: second }
    - name: other
      set_fact: { c: listener }
      listen: n
`),
    });
    // ansible-playbook 2.14 (targets/handlers/test_handlers_listen.yml): first - listener
    expect(msgs(r)).toEqual(['first - listener']);
  });

  test('notify: "{{ list }}" notifies each handler of the list', () => {
    const r = run({
      'pb.yml': `- hosts: all
  gather_facts: false
  vars: { hl: [h5, h6] }
  tasks:
    - command: echo
      notify: "{{ hl }}"
    - meta: flush_handlers
    - debug: msg="{{ a | default('-') }} {{ b | default('-') }}"
  handlers:
    - name: h5
      set_fact: { a: five }
    - set_fact: { b: six }
      listen: h6
`,
    });
    expect(msgs(r)).toEqual(['five six']);
  });
});

describe('any_errors_fatal and clear_host_errors', () => {
  test('clear_host_errors in an outer always resumes the play after an any_errors_fatal failure (targets/blocks/main.yml)', () => {
    const r = run({
      'pb.yml': tasks(`    - block:
        - block:
            - fail:
          any_errors_fatal: true
      always:
        - set_fact: { ran_always: yes }
        - meta: clear_host_errors
  post_tasks:
    - debug: msg="post {{ ran_always }}"
`),
    });
    // ansible-playbook 2.14: the post task runs, recap failed=1, exit 0
    expect(msgs(r)).toEqual(['post True']);
    expect(r.code).toBe(0);
  });
});

test('a vars file may be a list of mappings, merged in order (Ansible preprocess_vars; targets/var_precedence)', () => {
  const r = run({
    'v.yml': '- a: 1\n  b: 1\n- b: 2\n',
    'pb.yml': `- hosts: all\n  gather_facts: false\n  vars_files: [v.yml]\n  tasks:\n    - debug: msg="{{ a }} {{ b }}"\n`,
  });
  expect(msgs(r)).toEqual(['1 2']);
});

test('changed_when judges a failed command too: changed_when false + failed_when false is ok (the HA roles rely on it)', () => {
  const r = run({
    'pb.yml': tasks(`    - command: /bin/false
      changed_when: false
      failed_when: false
    - command: /bin/false
      changed_when: false
      ignore_errors: true
    - command: /bin/false
      failed_when: false
`),
  });
  // ansible-playbook 2.14: ok, failed (ignored), changed; recap ok=3 changed=1 ignored=1
  expect(results(r).map((e) => e.status)).toEqual(['ok', 'failed', 'changed']);
  expect(recap(r).hosts.h1).toMatchObject({ ok: 3, changed: 1, ignored: 1 });
});

test('include_vars is below set_fact and register (Ansible precedence 18 < 19), whatever the order', () => {
  const r = run({
    'iv.yml': 'a: from_include_vars\nb: from_include_vars\nc: from_include_vars\n',
    'pb.yml': tasks(`    - set_fact: { a: from_set_fact }
    - command: echo x
      register: b
    - include_vars: iv.yml
    - debug: msg="{{ a }} {{ b.stdout }} {{ c }}"
`),
  });
  // ansible-playbook 2.14: from_set_fact x from_include_vars
  expect(msgs(r)).toEqual(['from_set_fact x from_include_vars']);
});

