/**
 * Lookups in a real run, as ansible-playbook 2.14 ran the same playbook in --check: the role's
 * files/ first, with_file / with_fileglob (templated) / with_first_found (a name with an
 * undefined variable skipped; include_vars looks in vars/, template in templates/, debug in
 * files/), pipe and password run on the controller also under --check, the password masked.
 */
import fs from 'fs';
import path from 'path';
import { makeProject, recap, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const FILES = {
  'hosts.ini': 'localhost ansible_connection=local\n',
  'roles/r/files/motd': 'role file\n',
  'roles/r/vars/default.yml': 'from: role-default\n',
  'roles/r/tasks/main.yml': `- debug: msg="{{ lookup('file', 'motd') }}"
- include_vars: "{{ item }}"
  with_first_found: ["{{ no_such_var }}.yml", default.yml]
- debug: msg="{{ from }}"
`,
  'files/motd': 'top motd\n',
  'files/other': 'other\n',
  'vars/default.yml': 'from: default\n',
  'templates/t.j2': 'T {{ from }}\n',
};

test('lookup(), with_<lookup> loops and their search lists under --check', () => {
  const dir = makeProject({
    ...FILES,
    'pb.yml': `- hosts: all
  gather_facts: false
  vars:
    pat: "*"
  roles: [r]
  tasks:
    - debug: msg="{{ lookup('file', 'motd') }}"
    - debug: msg="{{ item }}"
      with_file: [motd, other]
    - debug: msg="{{ item | basename }}"
      with_fileglob: ["{{ pat }}"]
    - debug: msg="{{ item | basename }}"
      with_first_found: [nope, t.j2]
      ignore_errors: true
    - template: src={{ item }} dest={{ playbook_dir }}/out.txt
      with_first_found: [nope.j2, t.j2]
    - debug: msg="{{ lookup('pipe', 'echo ran > pipe-ran; echo piped') }}"
    - debug: msg="pw {{ lookup('password', 'creds/db length=12') | length }}"
    - debug: msg="{{ item.key }}={{ item.value }}"
      with_dict: "{{ {'a': 1} }}"
    - debug: msg="the password is {{ lookup('password', 'creds/db') }}"
`,
  });
  const r = runTsplay(['run', '--check', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: '/' });
  expect(r.code).toBe(0);
  const shown = results(r).map((e) => [e.status, e.item ?? null, e.result?.msg ?? null]);
  const p = (f: string) => path.join(dir, f);
  // ansible-playbook -C on this playbook: the same items and messages (its summary lines aside)
  expect(shown.filter(([, item, msg]) => item !== null || msg !== 'All items completed')).toEqual([
    ['ok', null, 'role file'],
    ['ok', p('roles/r/vars/default.yml'), null],
    ['ok', null, 'role-default'],
    ['ok', null, 'top motd'],
    ['ok', 'top motd', 'top motd'],
    ['ok', 'other', 'other'],
    ['ok', p('files/motd'), 'motd'],
    ['ok', p('files/other'), 'other'],
    ['failed', null, expect.stringMatching(/pb\.yml:12:7: with_first_found: No file was found when using first_found/)],
    ['changed', p('templates/t.j2'), null],
    ['ok', null, 'piped'],
    ['ok', null, 'pw 12'],
    ['ok', '{"key":"a","value":1}', 'a=1'],
    ['ok', null, 'the password is ********'],
  ]);
  expect(recap(r).hosts.localhost).toMatchObject({ ok: 12, changed: 1, failed: 0, ignored: 1 });
  // run on the controller under --check, as Ansible does
  expect(fs.readFileSync(p('pipe-ran'), 'utf8')).toBe('ran\n');
  const pw = fs.readFileSync(p('creds/db'), 'utf8').trim();
  expect(pw).toHaveLength(12);
  expect(r.stdout).not.toContain(pw);
  expect(fs.existsSync(p('out.txt'))).toBe(false);
});

test('an unknown lookup name is an error before the run, naming file:line', () => {
  const dir = makeProject({
    ...FILES,
    'pb.yml': `- hosts: all
  gather_facts: false
  tasks:
    - debug: msg="{{ lookup('pipe', 'echo ran > pipe-ran') }}"
    - debug: msg="{{ lookup('fiel', 'motd') }}"
`,
  });
  const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini')], { cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stderr + r.stdout).toMatch(/pb\.yml:5:\d+: unknown lookup 'fiel'[^\n]*\n\s*did you mean 'file'/);
  expect(fs.existsSync(path.join(dir, 'pipe-ran'))).toBe(false);
});
