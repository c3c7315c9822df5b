/**
 * Engine semantics: small playbooks run by the real CLI over the local connection, asserting on
 * files and on the json event stream.
 */
import fs from 'fs';
import path from 'path';
import { makeProject, recap, results, runTsplay, treeHash } from '../helpers/run-tsplay';

/** Three inventory hosts that are all this machine, over the local connection. */
const THREE_HOSTS = `[web]
h1
h2
[db]
h3
[all:vars]
ansible_connection=local
`;

function run(dir: string, playbook: string, extra: string[] = [], inventory = 'hosts.ini') {
  return runTsplay(['run', path.join(dir, playbook), '-i', path.join(dir, inventory), '--format', 'json', ...extra], { cwd: dir });
}

/** msg of the debug result for a host and task name */
function msgOf(r: ReturnType<typeof run>, task: string, host = 'h1'): unknown {
  const e = results(r, task).find((x) => x.host === host);
  if (!e) throw new Error(`no result for ${task} on ${host}:\n${r.stdout}\n${r.stderr}`);
  return e.result?.msg;
}

describe('variable precedence', () => {
  test('each level overrides the one below, extra vars win', () => {
    // level N sets v1..vN; a debug prints each v: the winner of vK is the highest level that sets it
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'group_vars/all.yml': 'v1: group_all\nv2: group_all\nv3: group_all\nv4: group_all\nv5: group_all\nv6: group_all\nv7: group_all\nv8: group_all\nv9: group_all\nv10: group_all\n',
      'host_vars/h1.yml': 'v3: host_vars\nv4: host_vars\nv5: host_vars\nv6: host_vars\nv7: host_vars\nv8: host_vars\nv9: host_vars\nv10: host_vars\n',
      'vars.yml': 'v5: vars_files\nv6: vars_files\nv7: vars_files\nv8: vars_files\nv9: vars_files\nv10: vars_files\n',
      'roles/r/defaults/main.yml': 'v0: role_default\nv1: role_default\n',
      'roles/r/vars/main.yml': 'v6: role_vars\nv7: role_vars\nv8: role_vars\nv9: role_vars\nv10: role_vars\n',
      'roles/r/tasks/main.yml': `
- block:
    - set_fact:
        v9: set_fact
        v10: set_fact
    - debug:
        msg: "{{ v0 }} {{ v1 }} {{ v3 }} {{ v4 }} {{ v5 }} {{ v6 }} {{ v7 }} {{ v8 }} {{ v9 }} {{ v10 }}"
      vars:
        v8: task_vars
  vars:
    v7: block_vars
    v8: block_vars
`,
      'site.yml': `
- hosts: all
  gather_facts: false
  vars:
    v4: play_vars
    v5: play_vars
  vars_files: [vars.yml]
  roles: [r]
`,
    });
    const r = run(dir, 'site.yml', ['-e', 'v10=extra']);
    expect(r.code).toBe(0);
    expect(msgOf(r, 'r : debug')).toBe(
      'role_default group_all host_vars play_vars vars_files role_vars block_vars task_vars set_fact extra',
    );
  });

  test('vars referring to vars resolve, typed single expressions keep their type', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  vars:
    ver: 15
    data_dir: "/var/lib/postgresql/{{ ver }}/main"
    nodes: [a, b, c]
    count: "{{ nodes | length }}"
    nodes_copy: "{{ nodes }}"
  tasks:
    - debug: { msg: "{{ data_dir }}" }
    - assert:
        that:
          - count == 3
          - nodes_copy | length == 3
          - nodes_copy[1] == 'b'
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    expect(msgOf(r, 'debug')).toBe('/var/lib/postgresql/15/main');
    expect(results(r, 'assert')[0].status).toBe('ok');
  });
});

describe('lazy variables', () => {
  test('a variable sees another one rendered whatever the order; self-reference is an error; output is data', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  vars:
    a: "{{ b }}"
    b: "{{ a }}"
    dir: /opt/HA
  tasks:
    - name: "{{ dir }} check"
      debug: { msg: "{{ b_list | join('+') }}" }
      vars:
        b_list: "{{ a_text.split(',') }}"
        a_text: "{% for i in [1, 2] %}{{ i }},{% endfor %}"
    - shell: "printf '%s' '{''{ nope }}'"
      register: out
    - name: echo
      debug: { msg: "{{ out.stdout }}" }
    - name: loop
      debug: { msg: "{{ a }}" }
      ignore_errors: true
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    expect(msgOf(r, '/opt/HA check')).toBe('1+2+');
    expect(msgOf(r, 'echo')).toBe('{{ nope }}');
    expect(results(r, 'loop')[0].msg).toMatch(/recursive loop detected in template: variable '(a|b)'/);
  });
});

describe('loops, register, when', () => {
  test('loop with loop_control, register of results, when per item', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: echo
      command: echo {{ n.name }}
      loop: [{name: a}, {name: b}, {name: c}]
      loop_control: { loop_var: n, label: "{{ n.name }}" }
      when: n.name != 'b'
      register: out
    - debug:
        msg: "{{ out.results | map(attribute='stdout') | select('defined') | list | join(',') }}"
      when: out is changed
    - debug: { msg: never }
      when: out is not defined
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    const items = results(r, 'echo').filter((e) => e.item !== undefined);
    expect(items.map((e) => [e.item, e.status])).toEqual([
      ['a', 'changed'],
      ['b', 'skipped'],
      ['c', 'changed'],
    ]);
    expect(msgOf(r, 'debug')).toBe('a,c');
    expect(results(r, 'debug')[1].status).toBe('skipped');
  });

  test('until/retries retries and reports each attempt', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: count
      shell: n=$(cat {{ playbook_dir }}/n 2>/dev/null || echo 0); echo $((n+1)) > {{ playbook_dir }}/n; echo $((n+1))
      register: c
      until: c.stdout | int >= 3
      retries: 5
      delay: 0
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    expect(r.events.filter((e) => e.type === 'retry')).toHaveLength(2);
    expect(fs.readFileSync(path.join(dir, 'n'), 'utf8').trim()).toBe('3');
  });

  test('changed_when and failed_when', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: quiet
      command: echo hello
      changed_when: false
    - name: judged
      shell: echo nope; exit 3
      register: j
      failed_when: "'nope' not in j.stdout"
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    expect(results(r, 'quiet')[0].status).toBe('ok');
    // the command ran (rc 3) and failed_when cleared it: changed, as ansible-playbook 2.14 says
    expect(results(r, 'judged')[0].status).toBe('changed');
  });
});

describe('handlers', () => {
  test('run once at the end, in definition order, only on notifying hosts, listen works', () => {
    const dir = makeProject({
      'hosts.ini': THREE_HOSTS,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: touch
      command: echo {{ inventory_hostname }}
      changed_when: inventory_hostname != 'h3'
      notify: [second, first]
    - name: again
      command: echo again
      changed_when: inventory_hostname == 'h1'
      notify: first
    - name: topic
      command: echo t
      changed_when: inventory_hostname == 'h2'
      notify: restart things
  handlers:
    - name: first
      debug: { msg: "first on {{ inventory_hostname }}" }
    - name: second
      debug: { msg: "second on {{ inventory_hostname }}" }
    - name: third
      debug: { msg: "third" }
      listen: restart things
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    const starts = r.events.filter((e) => e.type === 'task_start' && e.handler).map((e) => e.name);
    expect(starts).toEqual(['first', 'second', 'third']);
    expect(results(r, 'first').map((e) => e.host).sort()).toEqual(['h1', 'h2']);
    expect(results(r, 'second').map((e) => e.host).sort()).toEqual(['h1', 'h2']);
    expect(results(r, 'third').map((e) => e.host)).toEqual(['h2']);
  });

  test('meta: flush_handlers runs them at that point', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - command: echo x
      notify: h
    - meta: flush_handlers
    - name: after
      debug: { msg: after }
  handlers:
    - name: h
      debug: { msg: handler }
`,
    });
    const r = run(dir, 'site.yml');
    const order = r.events.filter((e) => e.type === 'task_start').map((e) => e.name);
    expect(order.indexOf('h')).toBeLessThan(order.indexOf('after'));
    expect(order.filter((n) => n === 'h')).toHaveLength(1);
  });

  test('notify of a handler that does not exist is an error before any host is touched', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - command: touch {{ playbook_dir }}/touched
      notify: restart nginxx
  handlers:
    - name: restart nginx
      debug: { msg: x }
`,
    });
    const r = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.yml:6:\d+: notify 'restart nginxx' matches no handler.*did you mean 'restart nginx'/);
    expect(fs.existsSync(path.join(dir, 'touched'))).toBe(false);
  });
});

describe('block / rescue / always', () => {
  test('rescue runs on failure, always runs regardless, the host is counted rescued not failed', () => {
    const dir = makeProject({
      'hosts.ini': THREE_HOSTS,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - name: maybe fail
          command: /bin/false
          when: inventory_hostname == 'h2'
        - name: after fail
          debug: { msg: ran }
      rescue:
        - name: rescuing
          debug: { msg: "rescued {{ inventory_hostname }}" }
      always:
        - name: always
          debug: { msg: always }
    - name: next
      debug: { msg: next }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    expect(results(r, 'after fail').map((e) => e.host).sort()).toEqual(['h1', 'h3']);
    expect(results(r, 'rescuing').map((e) => e.host)).toEqual(['h2']);
    expect(results(r, 'always').map((e) => e.host).sort()).toEqual(['h1', 'h2', 'h3']);
    expect(results(r, 'next').map((e) => e.host).sort()).toEqual(['h1', 'h2', 'h3']);
    const rc = recap(r).hosts;
    expect(rc.h2.rescued).toBe(1);
    expect(rc.h2.failed).toBe(0);
  });

  test('a failure in rescue fails the host, always still runs', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - block:
        - command: /bin/false
      rescue:
        - fail: { msg: rescue failed too }
      always:
        - name: always
          debug: { msg: always }
    - name: never
      debug: { msg: never }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(2);
    expect(results(r, 'always')).toHaveLength(1);
    expect(results(r, 'never')).toHaveLength(0);
  });
});

describe('failure handling', () => {
  test('a failed host leaves the play, the others go on, exit 2', () => {
    const dir = makeProject({
      'hosts.ini': THREE_HOSTS,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - command: /bin/false
      when: inventory_hostname == 'h1'
    - name: second
      debug: { msg: x }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(2);
    expect(results(r, 'second').map((e) => e.host).sort()).toEqual(['h2', 'h3']);
    expect(recap(r).hosts.h1.failed).toBe(1);
  });

  test('ignore_errors keeps the host, counted as ignored', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - command: /bin/false
      ignore_errors: true
    - name: second
      debug: { msg: x }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    expect(results(r, 'second')).toHaveLength(1);
    expect(recap(r).hosts.h1.ignored).toBe(1);
  });

  test('any_errors_fatal stops every host', () => {
    const dir = makeProject({
      'hosts.ini': THREE_HOSTS,
      'site.yml': `
- hosts: all
  gather_facts: false
  any_errors_fatal: true
  tasks:
    - command: /bin/false
      when: inventory_hostname == 'h3'
    - name: second
      debug: { msg: x }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(2);
    expect(results(r, 'second')).toHaveLength(0);
  });

  test('max_fail_percentage stops the play when exceeded', () => {
    const dir = makeProject({
      'hosts.ini': THREE_HOSTS,
      'site.yml': `
- hosts: all
  gather_facts: false
  max_fail_percentage: 30
  tasks:
    - command: /bin/false
      when: inventory_hostname == 'h3'
    - name: second
      debug: { msg: x }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(2);
    expect(results(r, 'second')).toHaveLength(0);
  });
});

describe('serial and strategies', () => {
  test('serial runs the whole play per batch', () => {
    const dir = makeProject({
      'hosts.ini': THREE_HOSTS,
      'site.yml': `
- hosts: all
  gather_facts: false
  serial: [1, 2]
  tasks:
    - name: one
      debug: { msg: x }
    - name: two
      debug: { msg: x }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    const seq = results(r).map((e) => `${e.task}@${e.host}`);
    expect(seq.slice(0, 2)).toEqual(['one@h1', 'two@h1']);
    expect(seq.slice(2, 4).sort()).toEqual(['one@h2', 'one@h3']);
    expect(seq.slice(4).sort()).toEqual(['two@h2', 'two@h3']);
  });

  test('more concurrent hosts than 10 (the default listener limit): no warning on stderr', () => {
    const dir = makeProject({
      'hosts.ini': `[many]\nm[01:15]\n[all:vars]\nansible_connection=local\n`,
      'site.yml': `
- hosts: many
  gather_facts: false
  tasks:
    - name: wait together
      wait_for: { path: /, timeout: 5 }
`,
    });
    const r = run(dir, 'site.yml', ['--forks', '20']);
    expect(r.code).toBe(0);
    expect(results(r, 'wait together')).toHaveLength(15);
    expect(r.stderr).not.toMatch(/Warning/);
  });

  test('run_once runs on one host and registers for all', () => {
    const dir = makeProject({
      'hosts.ini': THREE_HOSTS,
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: once
      command: echo from {{ inventory_hostname }}
      run_once: true
      register: o
    - name: show
      debug: { msg: "{{ o.stdout }}" }
`,
    });
    const r = run(dir, 'site.yml');
    expect(results(r, 'once')).toHaveLength(1);
    expect(results(r, 'show').map((e) => e.result.msg)).toEqual(['from h1', 'from h1', 'from h1']);
  });

  test('delegate_to runs on another host with this host\'s vars', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\nh2 ansible_connection=local\n',
      'site.yml': `
- hosts: h1
  gather_facts: false
  tasks:
    - name: deleg
      command: echo {{ inventory_hostname }}
      delegate_to: h2
      register: d
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    const e = results(r, 'deleg')[0];
    expect(e.delegated_to).toBe('h2');
    expect(e.result.stdout).toBe('h1');
  });
});

describe('check mode and idempotence', () => {
  const files = (target: string) => ({
    'hosts.ini': 'h1 ansible_connection=local\n',
    'templates/conf.j2': 'name={{ inventory_hostname }}\nport={{ port }}\n',
    'site.yml': `
- hosts: all
  gather_facts: false
  vars: { port: 5432 }
  tasks:
    - file: { path: "${target}/d/sub", state: directory, mode: "0750" }
    - copy: { dest: "${target}/d/a.txt", content: "hello\\n", mode: "0640" }
    - template: { src: conf.j2, dest: "${target}/d/conf" }
    - lineinfile: { path: "${target}/d/b.txt", line: "second line", create: true }
    - command: touch ${target}/d/made
      args: { creates: "${target}/d/made" }
`,
  });

  test('--check changes nothing; a real run then a second run reports changed=0', () => {
    const target = fs.mkdtempSync('/tmp/tsplay-target-');
    const dir = makeProject(files(target));
    const before = treeHash(target);
    const c = run(dir, 'site.yml', ['--check', '--diff']);
    expect(c.code).toBe(0);
    expect(treeHash(target)).toBe(before);
    expect(recap(c).hosts.h1.changed).toBe(5);
    // the diff of the template shows the rendered content
    const tpl = results(c, 'template')[0];
    expect(JSON.stringify(tpl.diff)).toContain('port=5432');

    const first = run(dir, 'site.yml');
    expect(first.code).toBe(0);
    expect(recap(first).hosts.h1.changed).toBe(5);
    expect(fs.readFileSync(path.join(target, 'd/a.txt'), 'utf8')).toBe('hello\n');
    expect(fs.readFileSync(path.join(target, 'd/b.txt'), 'utf8')).toBe('second line\n');
    expect(fs.readFileSync(path.join(target, 'd/conf'), 'utf8')).toBe('name=h1\nport=5432\n');
    expect((fs.statSync(path.join(target, 'd/sub')).mode & 0o777).toString(8)).toBe('750');

    const second = run(dir, 'site.yml');
    expect(second.code).toBe(0);
    expect(recap(second).hosts.h1.changed).toBe(0);

    const after = treeHash(target);
    const check2 = run(dir, 'site.yml', ['--check']);
    expect(recap(check2).hosts.h1.changed).toBe(0);
    expect(treeHash(target)).toBe(after);
  });
});

describe('check mode sees its own planned files', () => {
  test('copy then lineinfile on a new file: the dry run plans the edit on the copied content', () => {
    const target = fs.mkdtempSync('/tmp/tsplay-target-');
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - copy: { dest: "${target}/new.conf", content: "a=1\\n" }
    - lineinfile: { path: "${target}/new.conf", regexp: "^a=", line: "a=2" }
`,
    });
    const r = run(dir, 'site.yml', ['--check', '--diff']);
    expect(r.code).toBe(0);
    const d = results(r, 'lineinfile')[0].diff[0];
    expect(d.before).toBe('a=1\n');
    expect(d.after).toBe('a=2\n');
    expect(fs.readdirSync(target)).toEqual([]);
  });
});

describe('check mode probes', () => {
  test('a task forcing check_mode: true is a probe and is not remembered as written', () => {
    const target = fs.mkdtempSync('/tmp/tsplay-target-');
    fs.writeFileSync(path.join(target, 'dest.txt'), 'old\n');
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'templates/t.j2': 'new {{ inventory_hostname }}\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: probe
      template: { src: t.j2, dest: "${target}/dest.txt" }
      check_mode: true
    - name: real
      template: { src: t.j2, dest: "${target}/dest.txt" }
`,
    });
    const r = run(dir, 'site.yml', ['--check', '--diff']);
    expect(results(r, 'real')[0].status).toBe('changed');
    expect(results(r, 'real')[0].diff[0].after).toBe('new h1\n');
  });
});

describe('tags, start-at-task, list and syntax', () => {
  const pb = `
- hosts: all
  gather_facts: false
  tasks:
    - name: a
      debug: { msg: a }
      tags: [one]
    - name: b
      debug: { msg: b }
      tags: [two]
    - name: c
      debug: { msg: c }
      tags: [always]
    - name: d
      debug: { msg: d }
      tags: [never, debugonly]
`;
  test('--tags, --skip-tags, always and never', () => {
    const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n', 'site.yml': pb });
    const names = (r: ReturnType<typeof run>) => results(r).map((e) => e.task);
    expect(names(run(dir, 'site.yml'))).toEqual(['a', 'b', 'c']);
    expect(names(run(dir, 'site.yml', ['--tags', 'two']))).toEqual(['b', 'c']);
    expect(names(run(dir, 'site.yml', ['--skip-tags', 'one']))).toEqual(['b', 'c']);
    expect(names(run(dir, 'site.yml', ['--tags', 'debugonly']))).toEqual(['c', 'd']);
    expect(names(run(dir, 'site.yml', ['--start-at-task', 'b']))).toEqual(['b', 'c']);
  });

  test('--list-tasks and --list-hosts', () => {
    const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\nh2 ansible_connection=local\n', 'site.yml': pb });
    const t = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--list-tasks']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/a\tTAGS: \[one\]/);
    const h = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--list-hosts', '--limit', 'h2']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/hosts \(1\):\n\s+h2/);
  });
});

describe('includes', () => {
  test('include_tasks with a templated file; a missing one fails that host only (ignore_errors honoured)', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\nh2 ansible_connection=local\n',
      'tasks-h1.yml': '- name: inner\n  debug: { msg: "in {{ inventory_hostname }}" }\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - include_tasks: tasks-{{ inventory_hostname }}.yml
    - name: after
      debug: { msg: after }
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(2);
    expect(results(r, 'inner').map((e) => e.host)).toEqual(['h1']);
    expect(results(r, 'after').map((e) => e.host)).toEqual(['h1']);
    expect(recap(r).hosts.h2.failed).toBe(1);
  });
});

describe('bad input', () => {
  test('--syntax-check reports every error with file:line:column and touches nothing', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  gather_facts: false
  tasks:
    - name: one
      copyy: { dest: /tmp/x, content: y }
    - name: two
      file: { path: /tmp/x, state: sideways }
    - name: three
      debug: { msg: x }
      whne: true
`,
    });
    const r = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini'), '--syntax-check']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.yml:6:\d+: .*copyy.*did you mean 'copy'/);
    expect(r.stderr).toMatch(/site\.yml:8:\d+: .*state/);
    expect(r.stderr).toMatch(/site\.yml:11:\d+: .*whne.*did you mean 'when'/);
  });

  test('YAML syntax error names file and line', () => {
    const dir = makeProject({ 'hosts.ini': 'h1\n', 'site.yml': '- hosts: all\n  tasks:\n    - debug: {msg: [1\n' });
    const r = runTsplay(['run', path.join(dir, 'site.yml'), '-i', path.join(dir, 'hosts.ini')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/site\.yml:\d+:\d+: YAML syntax error/);
  });

  test('undefined variable fails the task naming the variable and the task location', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: { msg: "{{ nope }}" }\n',
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(2);
    const e = results(r, 'debug')[0];
    expect(e.status).toBe('failed');
    expect(e.msg).toMatch(/nope/);
    expect(e.msg).toMatch(/site\.yml:4/);
  });

  test('unknown option and missing playbook are usage errors with help', () => {
    const a = runTsplay(['run', 'x.yml', '--chek']);
    expect(a.code).toBe(1);
    expect(a.stderr).toMatch(/unknown option '--chek'.*\n.*did you mean '--check'/);
    const b = runTsplay(['run']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/missing PLAYBOOK/);
  });
});

describe('facts', () => {
  test('gather_facts sets documented names', () => {
    const dir = makeProject({
      'hosts.ini': 'h1 ansible_connection=local\n',
      'site.yml': `
- hosts: all
  tasks:
    - assert:
        that:
          - ansible_facts.os_family == 'Debian'
          - ansible_distribution == 'Debian'
          - ansible_processor_vcpus | int > 0
          - ansible_memtotal_mb | int > 0
          - ansible_hostname | length > 0
          - ansible_service_mgr is defined
          - ansible_pkg_mgr == 'apt'
`,
    });
    const r = run(dir, 'site.yml');
    expect(r.code).toBe(0);
    expect(results(r, 'Gathering Facts')[0].status).toBe('ok');
  });
});
