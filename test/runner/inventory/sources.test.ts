import * as path from 'path';
import { Inventory } from '../../../runner/inventory';
import { failure, tree } from './helpers';

describe('inventory sources', () => {
  test('[] is an empty inventory with all and ungrouped', async () => {
    const inv = await Inventory.load([]);
    expect(inv.hostNames()).toEqual([]);
    expect(inv.groupsDict()).toEqual({ all: [], ungrouped: [] });
  });

  test('a directory: every file in sorted order, recursively, skipping what Ansible skips', async () => {
    const dir = tree({
      '20-db.yml': 'all:\n  children:\n    db:\n      hosts:\n        db1:\n',
      '10-web': '[web]\nweb1\n',
      'sub/30-extra.ini': '[extra]\nx1\n',
      'README.md': 'not [an inventory\n',
      'notes.txt': '[[[\n',
      'old~': '[[[\n',
      '.hidden': '[[[\n',
      'site.retry': '[[[\n',
      'ansible.cfg': '[defaults]\nx = y\n',
      'hosts.orig': '[[[\n',
      'group_vars/all.yml': 'a: 1\n',
      'host_vars/web1.yml': 'b: 2\n',
    });
    const inv = await Inventory.load([dir]);
    expect(inv.hostNames()).toEqual(['web1', 'db1', 'x1']);
    expect(inv.files.map((f) => path.relative(dir, f))).toEqual(['10-web', '20-db.yml', path.join('sub', '30-extra.ini')]);
    // group_vars/host_vars of a directory source are inside it
    expect(inv.hostVars('web1')).toEqual({ a: 1, b: 2 });
    expect(inv.hostVars('x1')).toEqual({ a: 1 });
  });

  test('files of one directory may reference each other\'s groups in any order', async () => {
    const dir = tree({ '01-groups': '[prod:children]\nweb\n[web:vars]\nport=80\n', '02-hosts': '[web]\nweb1\n' });
    const inv = await Inventory.load([dir]);
    expect(inv.groupsDict().prod).toEqual(['web1']);
    expect(inv.hostVars('web1')).toEqual({ port: 80 });
  });

  test('an extensionless file is YAML when it is a YAML mapping, INI otherwise', async () => {
    const dir = tree({ yamlish: 'all:\n  hosts:\n    y1:\n', inish: 'i1 a=1\n[g]\ni2\n' });
    const inv = await Inventory.load([path.join(dir, 'yamlish'), path.join(dir, 'inish')]);
    expect(inv.hostNames()).toEqual(['y1', 'i1', 'i2']);
    expect(inv.hostVars('i1')).toEqual({ a: 1 });
  });

  test('an extensionless YAML inventory with a syntax error reports the YAML error', async () => {
    const dir = tree({ hosts: 'all:\n  hosts: { a: 1\n' });
    const f = await failure(Inventory.load([path.join(dir, 'hosts')]));
    expect(f.message).toMatch(/^YAML syntax error/);
    expect(f.where).toMatch(/^hosts:3:/);
  });

  test('several sources merge; hosts keep the file that first defined them', async () => {
    const dir = tree({ 'a/hosts': '[g]\nh1 x=1\n', 'b/hosts.yml': 'all:\n  children:\n    g:\n      hosts:\n        h1: { y: 2 }\n        h2:\n' });
    const inv = await Inventory.load([path.join(dir, 'a/hosts'), path.join(dir, 'b/hosts.yml')]);
    expect(inv.groupsDict().g).toEqual(['h1', 'h2']);
    expect(inv.hostVars('h1')).toEqual({ x: 1, y: 2 });
    expect(inv.hostSource('h1').file).toBe(path.join(dir, 'a/hosts'));
    expect(inv.hostSource('h2').dir).toBe(path.join(dir, 'b'));
    expect(inv.basedirs).toEqual([path.join(dir, 'a'), path.join(dir, 'b')]);
  });

  test('the same file given twice is read once', async () => {
    const dir = tree({ hosts: '[g:vars]\nx=1\n[g]\nh\n' });
    const inv = await Inventory.load([path.join(dir, 'hosts'), path.join(dir, 'hosts'), dir]);
    expect(inv.files).toEqual([path.join(dir, 'hosts')]);
  });

  test('a comma-separated host list', async () => {
    const inv = await Inventory.load(['web1,web2:2222,db[1:2],']);
    expect(inv.hostNames()).toEqual(['web1', 'web2', 'db1', 'db2']);
    expect(inv.groupsDict().ungrouped).toEqual(['web1', 'web2', 'db1', 'db2']);
    expect(inv.hostVars('web2')).toEqual({ ansible_port: 2222 });
    expect(inv.hostSource('web1').file).toBe('');
  });

  test('a vault-encrypted inventory file is decrypted with the decrypt option', async () => {
    const dir = tree({ hosts: '$ANSIBLE_VAULT;1.1;AES256\n6162\n' });
    const seen: string[] = [];
    const inv = await Inventory.load([path.join(dir, 'hosts')], {
      decrypt: (ct, loc) => {
        seen.push(`${path.basename(loc.file)}:${loc.line}`);
        expect(ct.startsWith('$ANSIBLE_VAULT;')).toBe(true);
        return '[g]\nsecret-host a=1\n';
      },
    });
    expect(seen).toEqual(['hosts:1']);
    expect(inv.groupsDict().g).toEqual(['secret-host']);
  });

  test('a vault-encrypted inventory without a password is an error', async () => {
    const dir = tree({ hosts: '$ANSIBLE_VAULT;1.1;AES256\n6162\n' });
    const f = await failure(Inventory.load([path.join(dir, 'hosts')]));
    expect(f.where).toBe('hosts:1:1');
    expect(f.message).toMatch(/vault-encrypted/);
  });

  test('a missing source is an error (not silently an empty inventory)', async () => {
    const f = await failure(Inventory.load(['/nonexistent/tsplay/inventory']));
    expect(f.message).toBe('inventory source not found: /nonexistent/tsplay/inventory');
    expect(f.hint).toMatch(/-i/);
  });
});
