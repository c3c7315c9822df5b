import { failure, loadText } from './helpers';

const YAML = `all:
  vars:
    ntp: ntp.example.com
  hosts:
    bastion:
    "gw:2200": { x: 1 }
  children:
    web:
      hosts:
        web[01:03]: { role: web }
        web-lb:
          ansible_host: 10.0.0.5
      vars: { http_port: 8080, nested: { a: [1, 2] } }
      children:
        web_eu:
          hosts:
            web01:
    db:
      hosts: db1
      children: replicas
    replicas:
      hosts:
        db2:
`;

describe('YAML inventories', () => {
  test('groups, nested children, ranges, ports, single-name hosts/children', async () => {
    const inv = await loadText('inv.yml', YAML);
    expect(inv.hostNames()).toEqual(['bastion', 'gw', 'web01', 'web02', 'web03', 'web-lb', 'db1', 'db2']);
    expect(inv.groupNames()).toEqual(['all', 'ungrouped', 'web', 'web_eu', 'db', 'replicas']);
    const groups = inv.groupsDict();
    expect(groups.ungrouped).toEqual(['bastion', 'gw']);
    expect(groups.web).toEqual(['web01', 'web02', 'web03', 'web-lb']);
    expect(groups.db).toEqual(['db1', 'db2']);
    expect(inv.groupsOf('web01')).toEqual(['all', 'web', 'web_eu']);
    expect(inv.groupsOf('db2')).toEqual(['all', 'db', 'replicas']);
  });

  test('variables keep their YAML types; host vars beat group vars', async () => {
    const inv = await loadText('inv.yml', YAML);
    expect(inv.hostVars('web02')).toEqual({ ntp: 'ntp.example.com', http_port: 8080, nested: { a: [1, 2] }, role: 'web' });
    expect(inv.hostVars('gw')).toEqual({ ntp: 'ntp.example.com', ansible_port: 2200, x: 1 });
    expect(inv.hostVars('web-lb').ansible_host).toBe('10.0.0.5');
  });

  test('hostVars returns a copy: changing it does not change the inventory', async () => {
    const inv = await loadText('inv.yml', YAML);
    const v = inv.hostVars('web01');
    v.role = 'changed';
    expect(inv.hostVars('web01').role).toBe('web');
  });

  test('JSON is read as YAML', async () => {
    const inv = await loadText('inv.json', JSON.stringify({ all: { children: { g: { hosts: { h1: { a: 1 } }, vars: { b: true } } } } }));
    expect(inv.groupsDict().g).toEqual(['h1']);
    expect(inv.hostVars('h1')).toEqual({ a: 1, b: true });
  });

  test('ansible-inventory --list JSON (with _meta) loads back to the same inventory', async () => {
    const first = await loadText('inv.yml', YAML);
    const dumped = first.toListJSON();
    const again = await loadText('dump.json', JSON.stringify(dumped));
    expect(again.hostNames().sort()).toEqual(first.hostNames().sort());
    expect(again.groupsDict()).toEqual(first.groupsDict());
    for (const h of first.hostNames()) expect(again.hostVars(h)).toEqual(first.hostVars(h));
  });

  test('an empty YAML file is an empty inventory', async () => {
    const inv = await loadText('empty.yml', '# nothing yet\n');
    expect(inv.hostNames()).toEqual([]);
    expect(inv.groupNames()).toEqual(['all', 'ungrouped']);
  });

  test('!vault values are decrypted through the decrypt option', async () => {
    const text = 'all:\n  hosts:\n    h1:\n      secret: !vault |\n        CIPHERTEXT\n';
    const inv = await loadText('inv.yml', text, {}, { decrypt: (c) => `plain(${c.trim()})` });
    expect(inv.hostVars('h1').secret).toBe('plain(CIPHERTEXT)');
  });
});

describe('YAML errors name file:line:column', () => {
  test.each([
    ['all:\n  host:\n    h1:\n', 'inv.yml:2:3', /unknown key 'host' in group 'all'/, "did you mean 'hosts'?"],
    ['all:\n  hosts:\n    - h1\n', 'inv.yml:3:5', /hosts of group 'all' must be a mapping of host names, got a list/, /not as a list item/],
    ['all:\n  children:\n    - web\n', 'inv.yml:3:5', /children of group 'all' must be a mapping/, /not as a list item/],
    ['all:\n  hosts:\n    h1: [1]\n', 'inv.yml:3:9', /host 'h1' must have a mapping of variables or nothing, got a list/, undefined],
    ['all:\n  vars: [a]\n', 'inv.yml:2:9', /vars of group 'all' must be a mapping/, undefined],
    ['all: [h1]\n', 'inv.yml:1:6', /group 'all' must be a mapping/, undefined],
    ['- h1\n', 'inv.yml:1:1', /must be a mapping of group names, got a list/, undefined],
    ['hosts:\n  h1:\n', 'inv.yml:1:1', /top-level key 'hosts' is taken as a group name/, undefined],
    ['plugin: aws_ec2\n', 'inv.yml:1:1', /plugin configurations .* are not supported/, undefined],
    ['all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n', 'inv.yml:5:9', /creates a cycle: a -> b -> a/, undefined],
    ['all:\n  hosts:\n    h1:\n  children:\n    h1:\n', 'inv.yml:3:5', /'h1' is both a host and a group/, undefined],
    ['all:\n  hosts:\n    "db[3:1]":\n', 'inv.yml:3:5', /bad host range/, undefined],
    ['all:\n  hosts: { a: 1\n', 'inv.yml:3:1', /YAML syntax error/, undefined],
    // where the duplicate is reported is up to runner/yaml.ts: only the line range is checked
    ['all:\n  hosts:\n    h1:\n    h1:\n', /^inv\.yml:[34]:/, /YAML syntax error: Map keys must be unique/, undefined],
  ])('%j', async (text, where, msg, hint) => {
    const f = await failure(loadText('inv.yml', text));
    if (where instanceof RegExp) expect(f.where).toMatch(where);
    else expect(f.where).toBe(where);
    expect(f.message).toMatch(msg);
    if (hint instanceof RegExp) expect(f.hint).toMatch(hint);
    else if (hint) expect(f.hint).toBe(hint);
  });
});
