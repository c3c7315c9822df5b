/**
 * How a play reaches its hosts, as ansible-core 2.14 decides it: the `connection` and
 * `remote_user` keywords, `-c` / `-u`, `-i host1,host2,` host lists, and the meta actions
 * that act on connections and batches (reset_connection, end_batch). Also set_fact's
 * templated variable names. Local connection; assertions on json events and exit codes.
 */
import fs from 'fs';
import path from 'path';
import { makeProject, recap, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

/** ansible_host on a loopback port nothing listens on: any SSH attempt is unreachable at once */
const NO_SSH = 'ansible_host=127.0.0.9 ansible_port=1';

function run(files: Record<string, string>, inventory: string, extra: string[] = []) {
  const dir = makeProject({ 'hosts.ini': inventory, ...files });
  return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json', '--timeout', '2', ...extra], { cwd: dir });
}

const PLAY = (head: string, body = '    - command: "true"\n') => `- hosts: all\n  gather_facts: false\n${head}  tasks:\n${body}`;

describe('connection keyword and -c', () => {
  test('a play with connection: local runs on the controller for a host the inventory gives no connection', () => {
    const r = run({ 'pb.yml': PLAY('  connection: local\n') }, `h1 ${NO_SSH}\n`);
    expect(r.code).toBe(0);
    expect(recap(r).hosts.h1.changed).toBe(1);
  });

  test('without it the same host is reached over SSH (and here unreachable): the keyword is what made it local', () => {
    const r = run({ 'pb.yml': PLAY('') }, `h1 ${NO_SSH}\n`);
    expect(r.code).toBe(4);
    expect(recap(r).hosts.h1.unreachable).toBe(1);
  });

  test("the inventory's ansible_connection wins over the keyword, as in Ansible", () => {
    const r = run({ 'pb.yml': PLAY('  connection: local\n') }, `h1 ansible_connection=ssh ${NO_SSH}\n`);
    expect(r.code).toBe(4);
  });

  test('a task-level connection: local overrides the play, and may be a template', () => {
    const r = run({ 'pb.yml': PLAY('  vars: { how: local }\n', '    - command: "true"\n      connection: "{{ how }}"\n') }, `h1 ${NO_SSH}\n`);
    expect(r.code).toBe(0);
  });

  test('-c local applies to hosts without ansible_connection; an inventory value still wins', () => {
    expect(run({ 'pb.yml': PLAY('') }, `h1 ${NO_SSH}\n`, ['-c', 'local']).code).toBe(0);
    expect(run({ 'pb.yml': PLAY('') }, `h1 ansible_connection=ssh ${NO_SSH}\n`, ['-c', 'local']).code).toBe(4);
  });

  test('-c with an unknown type and -u with an option-like name are usage errors that run nothing', () => {
    const bad = run({ 'pb.yml': PLAY('') }, 'h1 ansible_connection=local\n', ['-c', 'winrm']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--connection expects ssh or local, got 'winrm'/);
    const opt = run({ 'pb.yml': PLAY('') }, 'h1 ansible_connection=local\n', ['-u', '-oProxyCommand=x']);
    expect(opt.code).toBe(1);
    expect(opt.stderr).toMatch(/--user .*starts with "-"/);
    expect(results(opt)).toHaveLength(0);
  });

  test('-i with a comma-separated host list, as Ansible reads it', () => {
    const dir = makeProject({ 'pb.yml': PLAY('  connection: local\n', '    - debug: msg="{{ inventory_hostname }}"\n') });
    const r = runTsplay(['run', path.join(dir, 'pb.yml'), '-i', 'a1,a2,', '--format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(results(r).map((e) => e.host).sort()).toEqual(['a1', 'a2']);
  });
});

describe('meta actions on connections and batches', () => {
  test('reset_connection: the next task runs on a new persistent shell', () => {
    const dir = makeProject({});
    const marker = path.join(dir, 'shells');
    const body = [
      `    - shell: ps -o ppid= -p $PPID >> ${marker}`,
      `    - shell: ps -o ppid= -p $PPID >> ${marker}`,
      '    - meta: reset_connection',
      `    - shell: ps -o ppid= -p $PPID >> ${marker}`,
      '',
    ].join('\n');
    const r = run({ 'pb.yml': PLAY('', body) }, 'h1 ansible_connection=local\n');
    expect(r.code).toBe(0);
    const pids = fs.readFileSync(marker, 'utf8').trim().split('\n').map((p) => p.trim());
    expect(pids).toHaveLength(3);
    // the persistent shell runs each command through a wrapper (the command's parent): the
    // wrapper's parent is that shell, the same before the reset, another after
    expect(pids[0]).toBe(pids[1]);
    expect(pids[2]).not.toBe(pids[1]);
  });

  test('end_batch ends the current serial batch only: the next batch runs the play again', () => {
    const body = '    - debug: msg=before\n    - meta: end_batch\n    - debug: msg=after\n';
    const r = run({ 'pb.yml': PLAY('  serial: 1\n', body) }, 'h1 ansible_connection=local\nh2 ansible_connection=local\n');
    expect(r.code).toBe(0);
    const shown = results(r).map((e) => `${e.host}:${e.result?.msg}`);
    expect(shown).toEqual(['h1:before', 'h2:before']);
  });
});

describe('set_fact with templated variable names (lookup_items, lookup_together, loops targets)', () => {
  test('k=v and mapping forms render the name per item', () => {
    const body = [
      '    - set_fact: "{{ item }}=moo"',
      '      loop: [a, b]',
      '    - set_fact: "user_{{ item.0 }}={{ item.1 }}"',
      '      loop: [[x, 1], [y, 2]]',
      '    - set_fact:',
      `        "{{ 'k' ~ 'ey' }}": val`,
      '    - debug: msg="{{ a }} {{ b }} {{ user_x }} {{ user_y }} {{ key }}"',
      '',
    ].join('\n');
    const r = run({ 'pb.yml': PLAY('', body) }, 'h1 ansible_connection=local\n');
    expect(r.code).toBe(0);
    expect(results(r, 'debug')[0].result.msg).toBe('moo moo 1 2 val');
  });

  test('a name that renders to something that is not a variable name fails the task', () => {
    const r = run({ 'pb.yml': PLAY('', `    - set_fact: "{{ 'bad name' }}=1"\n`) }, 'h1 ansible_connection=local\n');
    expect(r.code).toBe(2);
    expect(JSON.stringify(results(r))).toMatch(/bad name/);
  });
});
