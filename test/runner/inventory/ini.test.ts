import * as path from 'path';
import { failure, loadText } from './helpers';

const INI = `# a comment
; another comment
bastion ansible_host=10.0.0.9

[web]
web[01:02] http_port=8080 motd="hello world" flag=True quoted="'1'" list="[1, 'a']"
web-lb:2222 ansible_user=deploy   # trailing comment
[db]
db1 ansible_port=5433 ansible_host=10.0.0.21

[db:vars]
pg_version = 15
pg_flag = true
pg_name = 'main'
pg_dsn = host=db1 port=5432

[prod:children]   # comment after a header
web
db

[all:vars]
ntp = ntp.example.com
`;

describe('INI inventories', () => {
  test('hosts, groups, ungrouped, children, inventory order', async () => {
    const inv = await loadText('hosts', INI);
    expect(inv.hostNames()).toEqual(['bastion', 'web01', 'web02', 'web-lb', 'db1']);
    expect(inv.groupNames()).toEqual(['all', 'ungrouped', 'web', 'db', 'prod']);
    const groups = inv.groupsDict();
    expect(groups.ungrouped).toEqual(['bastion']);
    expect(groups.prod).toEqual(['web01', 'web02', 'web-lb', 'db1']);
    expect(groups.all).toEqual(inv.hostNames());
    expect(inv.groupsOf('web01')).toEqual(['all', 'prod', 'web']);
    expect(inv.groupsOf('bastion')).toEqual(['all', 'ungrouped']);
  });

  test('host-line values are typed like Python literals after shell-style unquoting', async () => {
    const inv = await loadText('hosts', INI);
    expect(inv.hostVars('web01')).toMatchObject({ http_port: 8080, motd: 'hello world', flag: true, quoted: '1', list: [1, 'a'] });
    expect(inv.hostVars('web-lb')).toMatchObject({ ansible_port: 2222, ansible_user: 'deploy' });
    expect(inv.hostVars('web-lb')).not.toHaveProperty('#');
    expect(inv.hostVars('db1')).toMatchObject({ ansible_port: 5433, ansible_host: '10.0.0.21' });
  });

  test(':vars values: Python literals typed, anything else kept as the string written', async () => {
    const inv = await loadText('hosts', INI);
    expect(inv.hostVars('db1')).toMatchObject({ pg_version: 15, pg_flag: 'true', pg_name: 'main', pg_dsn: 'host=db1 port=5432', ntp: 'ntp.example.com' });
    expect(inv.hostVars('web01')).not.toHaveProperty('pg_version');
  });

  test('a later line for the same host adds groups and variables', async () => {
    const inv = await loadText('hosts', '[a]\nh1 x=1 y=1\n[b]\nh1 y=2\n');
    expect(inv.hostNames()).toEqual(['h1']);
    expect(inv.groupsOf('h1')).toEqual(['all', 'a', 'b']);
    expect(inv.hostVars('h1')).toEqual({ x: 1, y: 2 });
  });

  test('a host listed before any section and in a group is not ungrouped', async () => {
    const inv = await loadText('hosts', 'h1\nh2\n[g]\nh1\n');
    expect(inv.groupsDict().ungrouped).toEqual(['h2']);
    expect(inv.groupsOf('h1')).toEqual(['all', 'g']);
  });

  test('unknown child group in :children is created empty (a later file may fill it)', async () => {
    const inv = await loadText('hosts', '[prod:children]\nweb\n');
    expect(inv.hasGroup('web')).toBe(true);
    expect(inv.groupsDict().web).toEqual([]);
    expect(inv.toListJSON().all).toEqual({ children: ['ungrouped', 'prod'] });
  });

  test('children of any depth; depth orders groups parents-first', async () => {
    const inv = await loadText('hosts', '[l3]\nh\n[l2:children]\nl3\n[l1:children]\nl2\n[a:children]\nl3\n');
    expect(inv.groupsOf('h')).toEqual(['all', 'a', 'l1', 'l2', 'l3']);
    expect(inv.groupsDict().l1).toEqual(['h']);
  });

  test('hostSource names the file and directory that first defined the host', async () => {
    const inv = await loadText('hosts', INI);
    const src = inv.hostSource('db1');
    expect(path.basename(src.file)).toBe('hosts');
    expect(src.dir).toBe(path.dirname(src.file));
    expect(src.loc).toMatchObject({ line: 9, column: 1 });
  });

  test('ansible_group_priority is the group priority, not a variable', async () => {
    const inv = await loadText('hosts', '[a]\nh\n[b]\nh\n[a:vars]\nx=a\nansible_group_priority=5\n[b:vars]\nx=b\n');
    expect(inv.hostVars('h')).toEqual({ x: 'a' });
  });

  test('CRLF line endings', async () => {
    const inv = await loadText('hosts', '[g]\r\nh1 a=1\r\n[g:vars]\r\nb=2\r\n');
    expect(inv.hostVars('h1')).toEqual({ a: 1, b: 2 });
  });
});

describe('INI errors name file:line:column', () => {
  test.each([
    ['[web\nh1\n', 'hosts:1:1', /bad section header: \[web/],
    ['[web servers]\n', 'hosts:1:1', /bad section header/],
    ['[web:child]\nh\n', 'hosts:1:6', /unknown type 'child'/],
    ['[web]\nh1 novalue\n', 'hosts:2:4', /expected key=value after host 'h1', got 'novalue'/],
    ['[web]\nh1 =x\n', 'hosts:2:4', /expected key=value/],
    ['[web]\nh1 a=1 a=2\n', 'hosts:2:8', /'a' is set twice on this line/],
    ['[web]\n  h1 "unclosed\n', 'hosts:2:6', /unclosed " quote/],
    ['[g:vars]\njust a line\n[g]\nh\n', 'hosts:2:1', /expected key=value in \[g:vars\]/],
    ['[g]\nh\n[g:vars]\nx=1\n[g:vars]\nx=2\n', 'hosts:6:1', /'x' of group 'g' is set twice in this file \(first on line 4\)/],
    ['[g:children]\ntwo words\n', 'hosts:2:1', /expected a group name in \[g:children\]/],
    ['[web]\nweb\n', 'hosts:2:1', /'web' is both a host and a group/],
    ['[a]\nh\n[a_typo:vars]\nx=1\n', 'hosts:3:1', /\[a_typo:vars\] is for a group that is defined nowhere/],
    ['[a:children]\nb\n[b:children]\na\n', 'hosts:4:1', /creates a cycle: b -> a -> b/],
    ['[a:children]\na\n', 'hosts:2:1', /cannot be a child of itself/],
    ['[g]\nh[5:1]\n', 'hosts:2:1', /bad host range \[5:1\]/],
    ['[g]\nh x=1\n[g:vars]\nansible_group_priority=high\n', 'hosts:4:1', /ansible_group_priority of group 'g' must be an integer/],
    ['---\nall:\n  hosts: [\n', 'hosts:1:1', /YAML syntax error|looks like a YAML file/],
  ])('%j', async (text, where, msg) => {
    const f = await failure(loadText('hosts', text));
    expect(f.where).toBe(where);
    expect(f.message).toMatch(msg);
  });

  test('a mistyped :vars group gets a did-you-mean hint', async () => {
    const f = await failure(loadText('hosts', '[postgres]\nh\n[postgrse:vars]\nx=1\n'));
    expect(f.hint).toBe('did you mean [postgres:vars]?');
  });

  test('an unknown section type suggests the right one', async () => {
    const f = await failure(loadText('hosts', '[g:var]\nx=1\n'));
    expect(f.hint).toBe('did you mean [g:vars]?');
  });
});
