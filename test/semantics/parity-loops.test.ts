/**
 * The with_<lookup> loops (together, nested, sequence, subelements, indexed_items, items with a
 * template) as ansible-playbook 2.14 runs them: the same items, in the same order. They were
 * refused at load ("use 'loop'"), which blocked whole Ansible integration targets.
 */
import path from 'path';
import { makeProject, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

test('with_together, with_nested, with_sequence, with_subelements, with_indexed_items, with_items', () => {
  const dir = makeProject({
    'hosts.ini': 'h1 ansible_connection=local\n',
    'pb.yml': `- hosts: all
  gather_facts: false
  vars:
    a: [1, 2]
    b: [x, y, z]
    users: [{name: u1, keys: [k1, k2]}, {name: u2, keys: [k3]}]
    nested_lists: [[1, 2], [3]]
  tasks:
    - debug: msg="{{ item | join('/') }}"
      with_together: ["{{ a }}", "{{ b }}"]
    - debug: msg="{{ item | join('/') }}"
      with_nested: ["{{ a }}", [p, q]]
    - debug: msg="{{ item }}"
      with_sequence: start=1 end={{ a | length }} format=n%02d
    - debug: msg="{{ item.0.name }}-{{ item.1 }}"
      with_subelements: ["{{ users }}", keys]
    - debug: msg="{{ item.0 }}={{ item.1 }}"
      with_indexed_items: "{{ b }}"
    - debug: msg="i{{ item }}"
      with_items: "{{ nested_lists }}"
    - debug: msg="i{{ item }}"
      with_items: ["{{ a }}", c]
`,
  });
  const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir });
  expect(r.code).toBe(0);
  const items = results(r).filter((e) => e.item !== undefined).map((e) => e.result?.msg);
  // ansible-playbook 2.14 on this playbook, item by item
  expect(items).toEqual([
    '1/x', '2/y', 'None/z',
    '1/p', '1/q', '2/p', '2/q',
    'n01', 'n02',
    'u1-k1', 'u1-k2', 'u2-k3',
    '0=x', '1=y', '2=z',
    'i1', 'i2', 'i3',
    'i1', 'i2', 'ic',
  ]);
});
