/**
 * Dynamic includes are validated when they are included, not up front (issue 13, "Loading"):
 * a role's setup-FreeBSD.yml with a FreeBSD-only module must not stop a run on Debian, while a
 * file that does run is still refused before its first task, with every error and file:line
 * under the include's own TASK banner. --syntax-check still reads every literal include target
 * and shows its problems as warnings. Static import_tasks stays validated up front.
 */

import fs from 'fs';
import path from 'path';
import { LOCAL_INVENTORY, makeProject, runTsplay } from '../helpers/run-tsplay';

const MARKER = (name: string) => `    - name: ${name}\n      file: { path: "{{ playbook_dir }}/${name}", state: touch }\n`;
const PLAY = (tasks: string, vars = '') => `- hosts: all\n  gather_facts: false\n${vars}  tasks:\n${tasks}`;
const exists = (dir: string, f: string) => fs.existsSync(path.join(dir, f));

/** a tasks file that first creates `inner`, then uses a module tsplay does not have */
const BAD_FILE = '- name: inner\n  file: { path: "{{ playbook_dir }}/inner", state: touch }\n- name: freebsd only\n  pkgng: { name: nginx }\n- debug: { msg: "{{ x | nofilter9 }}" }\n';

describe('include_tasks is validated when it is included', () => {
  test('a file that is never included does not stop the run (the setup-FreeBSD.yml case)', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': PLAY(`${MARKER('before')}    - include_tasks: setup-FreeBSD.yml\n      when: ansible_os_family == 'FreeBSD'\n${MARKER('after')}`, '  vars: { ansible_os_family: Debian }\n'),
      'setup-FreeBSD.yml': BAD_FILE,
    });
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/TASK \[include_tasks: setup-FreeBSD.yml\][^\n]*\nskipping: \[localhost\]/);
    expect(exists(dir, 'before') && exists(dir, 'after')).toBe(true);
    expect(exists(dir, 'inner')).toBe(false);
  });

  test('--syntax-check reads it anyway and warns with file:line, exit 0', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': PLAY(`    - include_tasks: setup-FreeBSD.yml\n      when: false\n`),
      'setup-FreeBSD.yml': BAD_FILE,
    });
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts', '--syntax-check'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/syntax OK/);
    expect(r.stderr).toContain(`[WARNING]: included file: ${path.join(dir, 'setup-FreeBSD.yml')}:4:3: unknown module 'pkgng'`);
    expect(r.stderr).not.toMatch(/^ERROR/m);
  });

  test('a templated include whose file is invalid: every error with file:line under its own TASK banner, before its first task', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': PLAY(`${MARKER('before')}    - name: os setup\n      include_tasks: "setup-{{ os }}.yml"\n${MARKER('after')}`, '  vars: { os: FreeBSD }\n'),
      'setup-FreeBSD.yml': BAD_FILE.replace('- debug:', '- copy: { dest: /tmp/x, nosuch: 1 }\n- debug:'),
    });
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(2);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const start = events.findIndex((e) => e.type === 'task_start' && e.name === 'os setup');
    expect(start).toBeGreaterThan(0);
    const fail = events[start + 1] as { type: string; task: string; status: string; msg: string };
    expect([fail.type, fail.task, fail.status]).toEqual(['host_result', 'os setup', 'failed']);
    const f = path.join(dir, 'setup-FreeBSD.yml');
    expect(fail.msg).toContain("included file 'setup-FreeBSD.yml' is not valid (3 errors)");
    expect(fail.msg).toContain(`${f}:4:3: unknown module 'pkgng'`);
    expect(fail.msg).toMatch(new RegExp(`${f.replace(/[.+]/g, '\\$&')}:5:\\d+: module 'copy': unsupported argument 'nosuch'`));
    // the file's first task never ran: validation comes before it, and the host stopped
    expect(exists(dir, 'before')).toBe(true);
    expect(exists(dir, 'inner')).toBe(false);
    expect(exists(dir, 'after')).toBe(false);
  });

  test('the human output shows the failure under the include banner, not the previous task', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': PLAY(`${MARKER('before')}    - include_tasks: "{{ f }}"\n`, '  vars: { f: bad.yml }\n'),
      'bad.yml': BAD_FILE,
    });
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/TASK \[include_tasks: \{\{ f \}\}\][^\n]*\nfatal: \[localhost\]: FAILED! => [^\n]*bad\.yml:4:3: unknown module 'pkgng'/);
  });

  test('include_role of a role that is never included does not stop the run; one that runs is checked first', () => {
    const files = {
      hosts: LOCAL_INVENTORY,
      'roles/bsd/tasks/main.yml': BAD_FILE,
    };
    const skipped = makeProject({ ...files, 'site.yml': PLAY(`    - include_role: { name: bsd }\n      when: false\n${MARKER('after')}`) });
    const r1 = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: skipped });
    expect([r1.code, exists(skipped, 'after')]).toEqual([0, true]);
    const ran = makeProject({ ...files, 'site.yml': PLAY(`    - include_role: { name: bsd }\n${MARKER('after')}`) });
    const r2 = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: ran });
    expect(r2.code).toBe(2);
    expect(r2.stdout).toContain(`${path.join(ran, 'roles/bsd/tasks/main.yml')}:4:3: unknown module 'pkgng'`);
    expect([exists(ran, 'inner'), exists(ran, 'after')]).toEqual([false, false]);
  });

  test('import_tasks stays validated up front: nothing runs', () => {
    const dir = makeProject({
      hosts: LOCAL_INVENTORY,
      'site.yml': PLAY(`${MARKER('before')}    - import_tasks: setup-FreeBSD.yml\n      when: false\n`),
      'setup-FreeBSD.yml': BAD_FILE,
    });
    const r = runTsplay(['run', 'site.yml', '-i', 'hosts'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, 'setup-FreeBSD.yml')}:4:3: unknown module 'pkgng'`);
    expect(exists(dir, 'before')).toBe(false);
  });
});
