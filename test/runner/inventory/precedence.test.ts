import * as path from 'path';
import { Inventory } from '../../../runner/inventory';
import { failure, tree } from './helpers';

/**
 * Every level that can set `v` for host h1 (in group child, under parent), lowest first.
 * The order is Ansible's default VARIABLE_PRECEDENCE (checked against ansible-core 2.14).
 */
const LEVELS: Array<[string, Record<string, string>]> = [
  ['all inline', { 'inv/hosts': '[all:vars]\nv=all_inline' }],
  ['parent inline', { 'inv/hosts': '[parent:vars]\nv=parent_inline' }],
  ['child inline', { 'inv/hosts': '[child:vars]\nv=child_inline' }],
  ['inventory group_vars/all', { 'inv/group_vars/all.yml': 'v: inv_gv_all\n' }],
  ['playbook group_vars/all', { 'pb/group_vars/all.yml': 'v: pb_gv_all\n' }],
  ['inventory group_vars/parent', { 'inv/group_vars/parent.yml': 'v: inv_gv_parent\n' }],
  ['inventory group_vars/child', { 'inv/group_vars/child.yml': 'v: inv_gv_child\n' }],
  ['playbook group_vars/parent', { 'pb/group_vars/parent.yml': 'v: pb_gv_parent\n' }],
  ['playbook group_vars/child', { 'pb/group_vars/child.yml': 'v: pb_gv_child\n' }],
  ['host inline', { 'inv/hosts': '[child]\nh1 v=host_inline' }],
  ['inventory host_vars', { 'inv/host_vars/h1.yml': 'v: inv_hv\n' }],
  ['playbook host_vars', { 'pb/host_vars/h1': 'v: pb_hv\n' }],
];

const BASE = '[child]\nh1\n[parent:children]\nchild\n';

async function load(levels: typeof LEVELS): Promise<Inventory> {
  const files: Record<string, string> = { 'inv/hosts': BASE, 'pb/.keep': '' };
  for (const [, f] of levels) {
    for (const [k, v] of Object.entries(f)) files[k] = k === 'inv/hosts' ? `${files[k]}\n${v}\n` : v;
  }
  const dir = tree(files);
  const inv = await Inventory.load([path.join(dir, 'inv/hosts')]);
  await inv.addVarsDir(path.join(dir, 'pb'));
  return inv;
}

describe('variable precedence', () => {
  test.each(LEVELS.map((l, i) => [l[0], i] as const))('%s overrides every level below it', async (_name, i) => {
    const inv = await load(LEVELS.slice(0, i + 1));
    const expected = Object.values(LEVELS[i][1])[0].split(/[=:]\s*/).pop()!.trim();
    expect(inv.hostVars('h1').v).toBe(expected);
  });

  test('a level below does not override one above (all levels present)', async () => {
    const inv = await load([...LEVELS].reverse());
    expect(inv.hostVars('h1').v).toBe('pb_hv');
  });

  test('merging replaces top-level keys; it does not deep-merge dicts', async () => {
    const dir = tree({ hosts: '[g]\nh1\n', 'group_vars/all.yml': 'd: { a: 1, b: 1 }\nkeep: 1\n', 'group_vars/g.yml': 'd: { b: 2 }\n' });
    const inv = await Inventory.load([path.join(dir, 'hosts')]);
    expect(inv.hostVars('h1')).toEqual({ d: { b: 2 }, keep: 1 });
  });

  test('groups of the same depth merge alphabetically; ansible_group_priority reorders them', async () => {
    const plain = tree({ hosts: '[b]\nh1\n[a]\nh1\n[a:vars]\nv=a\n[b:vars]\nv=b\n' });
    expect((await Inventory.load([path.join(plain, 'hosts')])).hostVars('h1').v).toBe('b');
    const prio = tree({ hosts: '[b]\nh1\n[a]\nh1\n[a:vars]\nv=a\nansible_group_priority=2\n[b:vars]\nv=b\n' });
    const inv = await Inventory.load([path.join(prio, 'hosts')]);
    expect(inv.hostVars('h1').v).toBe('a');
    expect(inv.groupsOf('h1')).toEqual(['all', 'b', 'a']);
  });

  test('depth beats priority: a child group wins over a higher-priority parent', async () => {
    const dir = tree({ hosts: '[c]\nh1\n[p:children]\nc\n[p:vars]\nv=p\nansible_group_priority=100\n[c:vars]\nv=c\n' });
    expect((await Inventory.load([path.join(dir, 'hosts')])).hostVars('h1').v).toBe('c');
  });

  test('depth is the longest path from all', async () => {
    // x is a child of both `top` (depth 1) and `mid` (depth 2): x merges after mid
    const dir = tree({ hosts: '[x]\nh1\n[mid:children]\nx\n[top:children]\nmid\nx\n[x:vars]\nv=x\n[mid:vars]\nv=mid\n' });
    const inv = await Inventory.load([path.join(dir, 'hosts')]);
    expect(inv.groupsOf('h1')).toEqual(['all', 'top', 'mid', 'x']);
    expect(inv.hostVars('h1').v).toBe('x');
  });

  test('group_vars/NAME/ directory: files merged in sorted order, recursively', async () => {
    const dir = tree({
      hosts: '[web]\nh1\n',
      'group_vars/web/10-base.yml': 'v: base\nbase: 1\n',
      'group_vars/web/20-over.yaml': 'v: over\n',
      'group_vars/web/sub/30-deep.json': '{"deep": true}',
      'group_vars/web/.hidden.yml': 'v: hidden\n',
      'group_vars/web/backup.yml~': 'v: backup\n',
      'group_vars/web/notes.md': 'v: md\n',
    });
    const inv = await Inventory.load([path.join(dir, 'hosts')]);
    expect(inv.hostVars('h1')).toEqual({ v: 'over', base: 1, deep: true });
  });

  test('group_vars file names: NAME (file or dir) > NAME.yml > NAME.yaml > NAME.json, losers are warned about', async () => {
    const dir = tree({
      hosts: '[a]\nh1\n[b]\nh2\n',
      'group_vars/a.yml': 'v: a_yml\n',
      'group_vars/a.json': '{"v": "a_json"}',
      'group_vars/b': 'v: b_plain\n',
      'group_vars/b.yaml': 'v: b_yaml\n',
      'group_vars/nosuchgroup.yml': 'v: 1\n',
    });
    const inv = await Inventory.load([path.join(dir, 'hosts')]);
    expect(inv.hostVars('h1').v).toBe('a_yml');
    expect(inv.hostVars('h2').v).toBe('b_plain');
    expect(inv.warnings.map((w) => w.message).sort()).toEqual([
      "group_vars/a.json is ignored: group_vars/a.yml takes precedence for 'a'",
      "group_vars/b.yaml is ignored: group_vars/b takes precedence for 'b'",
      'group_vars/nosuchgroup.yml matches no group of the inventory',
    ]);
  });

  test('host_vars for a host whose name has dots', async () => {
    const dir = tree({ hosts: 'db1.example.com\n', 'host_vars/db1.example.com.yml': 'v: 1\n' });
    expect((await Inventory.load([path.join(dir, 'hosts')])).hostVars('db1.example.com')).toEqual({ v: 1 });
  });

  test('vault: whole-file and !vault values in group_vars go through decrypt', async () => {
    const dir = tree({
      hosts: '[g]\nh1\n',
      'group_vars/g/plain.yml': 'token: !vault |\n  CIPHER1\n',
      'group_vars/g/vault.yml': '$ANSIBLE_VAULT;1.1;AES256\nCIPHER2\n',
    });
    const inv = await Inventory.load([path.join(dir, 'hosts')], {
      decrypt: (ct) => (ct.includes('CIPHER2') ? 'password: from-vault-file\n' : 'from-vault-value'),
    });
    expect(inv.hostVars('h1')).toEqual({ token: 'from-vault-value', password: 'from-vault-file' });
  });

  test('addVarsDir invalidates memoized hostVars; adding the same dir twice is harmless', async () => {
    const dir = tree({ 'inv/hosts': '[g]\nh1 x=1\n', 'pb/group_vars/all.yml': 'y: 2\n', 'pb/host_vars/h1.yml': 'x: 3\n' });
    const inv = await Inventory.load([path.join(dir, 'inv/hosts')]);
    expect(inv.hostVars('h1')).toEqual({ x: 1 });
    await inv.addVarsDir(path.join(dir, 'pb'));
    await inv.addVarsDir(path.join(dir, 'pb'));
    expect(inv.hostVars('h1')).toEqual({ x: 3, y: 2 });
  });

  test('a vars file that is not a mapping is an error naming it', async () => {
    const dir = tree({ hosts: '[g]\nh1\n', 'group_vars/g.yml': '- a\n- b\n' });
    const f = await failure(Inventory.load([path.join(dir, 'hosts')]));
    expect(f.where).toBe('g.yml:1:1');
    expect(f.message).toMatch(/must be a mapping of variable names/);
  });

  test('implicit localhost: all-group vars, ansible_connection=local, host_vars/localhost', async () => {
    const dir = tree({ hosts: '[all:vars]\na=1\n[g]\nh1\n', 'host_vars/localhost.yml': 'b: 2\n' });
    const inv = await Inventory.load([path.join(dir, 'hosts')]);
    expect(inv.select('localhost')).toEqual(['localhost']);
    expect(inv.isImplicit('localhost')).toBe(true);
    expect(inv.hostVars('localhost')).toEqual({ a: 1, ansible_connection: 'local', b: 2 });
    expect(inv.groupsOf('localhost')).toEqual([]);
    expect(inv.hasHost('localhost')).toBe(false);
    expect(inv.select('all')).toEqual(['h1']);
    expect(inv.warnings).toEqual([]);
  });

  test('unknown host is an error with a suggestion', async () => {
    const dir = tree({ hosts: 'web1\n' });
    const inv = await Inventory.load([path.join(dir, 'hosts')]);
    const f = await failure(() => inv.hostVars('webl'));
    expect(f.message).toBe("unknown host 'webl'");
    expect(f.hint).toBe("did you mean 'web1'?");
  });
});
