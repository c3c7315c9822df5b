/**
 * add_host and group_by change the in-memory inventory as ansible-core 2.14 does (checked with
 * ansible-playbook on the same playbook): add_host runs once per batch and only its first host
 * reports it; its extra arguments become host variables; group_by runs per host, always
 * changed, with parents. Later plays target the new groups. Local connection.
 */
import path from 'path';
import { makeProject, recap, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

function run(pb: string, extra: string[] = []) {
  const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\nh2 ansible_connection=local\n', 'pb.yml': pb });
  return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json', ...extra], { cwd: dir });
}

const PB = `- hosts: h1,h2
  gather_facts: false
  tasks:
    - add_host: name=new1 groups=g1,g2 foo=bar ansible_connection=local
    - add_host:
        hostname: new1
        groups: [g3]
    - add_host: name=h1 groups=g1
    - group_by: key=os_{{ inventory_hostname }} parents=par
- hosts: g1
  gather_facts: false
  tasks:
    - name: in g1
      debug: msg="{{ inventory_hostname }} {{ foo | default('-') }} {{ group_names }}"
- hosts: par
  gather_facts: false
  tasks:
    - name: in par
      debug: msg="{{ inventory_hostname }} {{ group_names }}"
`;

describe('add_host and group_by', () => {
  test('the new host, its groups and variables; groups made by group_by under their parents', () => {
    const r = run(PB);
    expect(r.code).toBe(0);
    expect(results(r, 'in g1').map((e) => e.result.msg).sort()).toEqual(["h1 - ['g1', 'os_h1', 'par']", "new1 bar ['g1', 'g2', 'g3']"]);
    expect(results(r, 'in par').map((e) => e.result.msg)).toEqual(["h1 ['g1', 'os_h1', 'par']", "h2 ['os_h2', 'par']"]);
    // add_host: once (h1's three), group_by: per host; the recap as ansible-playbook prints it
    expect(recap(r).hosts.h1).toMatchObject({ ok: 6, changed: 4 });
    expect(recap(r).hosts.h2).toMatchObject({ ok: 2, changed: 1 });
    expect(recap(r).hosts.new1).toMatchObject({ ok: 1, changed: 0 });
  });

  test('in check mode the same (only the in-memory inventory changes)', () => {
    const r = run(PB, ['--check']);
    expect(r.code).toBe(0);
    expect(results(r, 'in g1')).toHaveLength(2);
  });

  test('bad names fail the task with a clear message', () => {
    const r = run(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - add_host: name="a b"\n      ignore_errors: true\n    - group_by: key="x,y"\n      ignore_errors: true\n`);
    const msgs = results(r).map((e) => String(e.result.msg));
    expect(msgs[0]).toMatch(/'a b' is not a valid host name/);
    expect(msgs[1]).toMatch(/key: 'x,y' is not a valid group name/);
  });
});

describe('delegate_facts', () => {
  test('facts of a delegated task go to the delegated host only with delegate_facts: true', () => {
    const r = run(`- hosts: h1
  gather_facts: false
  tasks:
    - set_fact: { x: one }
      delegate_to: h2
      delegate_facts: true
    - set_fact: { y: two }
      delegate_to: h2
    - name: on h1
      debug: msg="{{ hostvars['h2'].x | default('-') }} {{ x | default('-') }} {{ y | default('-') }} {{ hostvars['h2'].y | default('-') }}"
- hosts: h2
  gather_facts: false
  tasks:
    - name: on h2
      debug: msg="{{ x | default('-') }}"
`);
    expect(r.code).toBe(0);
    expect(results(r, 'on h1')[0].result.msg).toBe('one - two -');
    expect(results(r, 'on h2')[0].result.msg).toBe('one');
  });
});

test('delegate_facts to the implicit localhost (not in the inventory): hostvars shows them (delegate_to target)', () => {
  const r = run(`- hosts: h1
  gather_facts: false
  tasks:
    - set_fact: qq1=333
      delegate_facts: true
      delegate_to: localhost
    - block:
        - set_fact: qq2=333
      delegate_facts: true
      delegate_to: localhost
    - assert:
        that: ["qq1 is undefined", "qq2 is undefined", "'qq1' in hostvars['localhost']", "hostvars['localhost'].qq2 == '333'"]
`);
  expect(r.code).toBe(0);
});
