import { loadText } from './helpers';

// The expected values below are what ansible-inventory (ansible-core 2.14) prints for this file.
const INI = `h0 a=1
[web]
web[1:2] x=True
[db]
db1 ansible_port=22
[db:vars]
v=1
[prod:children]
web
db
[prod:vars]
ansible_group_priority=5
[empty]
`;

describe('groupsDict, toListJSON, graph', () => {
  test('groupsDict: all, ungrouped, every group with the hosts of its descendants', async () => {
    const inv = await loadText('hosts', INI);
    expect(inv.groupsDict()).toEqual({
      all: ['h0', 'web1', 'web2', 'db1'],
      ungrouped: ['h0'],
      web: ['web1', 'web2'],
      db: ['db1'],
      prod: ['web1', 'web2', 'db1'],
      empty: [],
    });
  });

  test('toListJSON is ansible-inventory --list', async () => {
    const inv = await loadText('hosts', INI);
    expect(inv.toListJSON()).toEqual({
      _meta: {
        hostvars: {
          h0: { a: 1 },
          web1: { x: true },
          web2: { x: true },
          db1: { ansible_port: 22, v: 1 },
        },
      },
      all: { children: ['ungrouped', 'prod', 'empty'] },
      ungrouped: { hosts: ['h0'] },
      prod: { children: ['web', 'db'] },
      web: { hosts: ['web1', 'web2'] },
      db: { hosts: ['db1'] },
    });
  });

  test('toListJSON({export}) is --list --export: own vars only, group vars and priority on groups', async () => {
    const inv = await loadText('hosts', INI, { 'group_vars/web.yml': 'from_file: 1\n' });
    const out = inv.toListJSON({ export: true });
    expect(out._meta).toEqual({ hostvars: { h0: { a: 1 }, web1: { x: true }, web2: { x: true }, db1: { ansible_port: 22 } } });
    expect(out.db).toEqual({ hosts: ['db1'], vars: { v: 1 } });
    expect(out.prod).toEqual({ children: ['web', 'db'], vars: { ansible_group_priority: 5 } });
    expect(out.web).toEqual({ hosts: ['web1', 'web2'], vars: { from_file: 1 } });
    expect(out).not.toHaveProperty('empty');
  });

  test('graph is ansible-inventory --graph', async () => {
    const inv = await loadText('hosts', INI);
    expect(inv.graph()).toBe(
      [
        '@all:',
        '  |--@ungrouped:',
        '  |  |--h0',
        '  |--@prod:',
        '  |  |--@web:',
        '  |  |  |--web1',
        '  |  |  |--web2',
        '  |  |--@db:',
        '  |  |  |--db1',
        '  |--@empty:',
      ].join('\n'),
    );
    expect(inv.graph('prod').split('\n')[0]).toBe('@prod:');
    expect(() => inv.graph('prd')).toThrow("unknown group 'prd'");
  });

  test('groupsDict returns copies', async () => {
    const inv = await loadText('hosts', INI);
    inv.groupsDict().web.push('x');
    expect(inv.groupsDict().web).toEqual(['web1', 'web2']);
  });
});
