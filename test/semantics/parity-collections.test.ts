/**
 * Roles from collections, found as Ansible finds them: `namespace.collection.role` in
 * ansible_collections/NS/COLL/roles/ROLE under collections/ beside the playbook or the
 * collections path (TSPLAY_COLLECTIONS_PATH, else ANSIBLE_COLLECTIONS_PATH), and short names
 * through a play's `collections:` list. A dependency by short name inside a collection role
 * is its sibling. Local connection.
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { makeProject, results, runTsplay } from '../helpers/run-tsplay';

jest.setTimeout(120_000);

const role = (msg: string, deps = '') => ({
  'tasks/main.yml': `- debug: msg="${msg}"\n`,
  ...(deps ? { 'meta/main.yml': `dependencies: [${deps}]\n` } : {}),
});

function collection(root: string, ns: string, coll: string, roles: Record<string, Record<string, string>>): void {
  for (const [name, files] of Object.entries(roles)) {
    for (const [f, text] of Object.entries(files)) {
      const p = path.join(root, 'ansible_collections', ns, coll, 'roles', name, f);
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, text);
    }
  }
}

function run(dir: string, pb: string, env: NodeJS.ProcessEnv = {}) {
  fs.writeFileSync(path.join(dir, 'pb.yml'), pb);
  return runTsplay(['run', path.join(dir, 'pb.yml'), '-i', path.join(dir, 'hosts.ini'), '--format', 'json'], { cwd: dir, env: { ...process.env, ...env } });
}

const msgs = (r: ReturnType<typeof run>) => results(r).map((e) => e.result?.msg);

describe('roles from collections', () => {
  test('ns.coll.role from collections/ beside the playbook, its dependency by short name is its sibling', () => {
    const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n' });
    collection(path.join(dir, 'collections'), 'acme', 'base', { hardening: role('hardening', 'common'), common: role('common') });
    const r = run(dir, '- hosts: all\n  gather_facts: false\n  roles: [acme.base.hardening]\n');
    expect(r.stderr).toBe('');
    expect(msgs(r)).toEqual(['common', 'hardening']);
  });

  test('the collections path from TSPLAY_COLLECTIONS_PATH, and short names through the play keyword', () => {
    const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n' });
    const cp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-coll-'));
    collection(cp, 'acme', 'db', { postgres: role('pg') });
    const pb = '- hosts: all\n  gather_facts: false\n  collections: [acme.db]\n  roles: [postgres]\n  tasks:\n    - include_role: name=acme.db.postgres\n';
    expect(msgs(run(dir, pb, { TSPLAY_COLLECTIONS_PATH: cp }))).toEqual(['pg', 'pg']);
    expect(msgs(run(dir, pb, { TSPLAY_COLLECTIONS_PATH: '', ANSIBLE_COLLECTIONS_PATH: cp }))).toEqual(['pg', 'pg']);
  });

  test('a collection role that is nowhere: the error names the places searched', () => {
    const dir = makeProject({ 'hosts.ini': 'h1 ansible_connection=local\n' });
    const r = run(dir, '- hosts: all\n  gather_facts: false\n  roles: [acme.none.thing]\n', { TSPLAY_COLLECTIONS_PATH: '/nonexistent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/role 'acme\.none\.thing' not found/);
    expect(r.stderr).toContain(path.join('/nonexistent', 'ansible_collections', 'acme', 'none', 'roles', 'thing'));
  });
});
