import { Inventory } from '../../../runner/inventory';
import { parsePattern } from '../../../runner/inventory/patterns';
import { failure, loadText } from './helpers';

const INI = `
bastion
[web]
web01
web02
web03
[web_eu]
web01
[db]
db1
db2
[prod:children]
web
db
[misc]
10.0.0.5
fe80::5
`;

let inv: Inventory;
beforeAll(async () => {
  inv = await loadText('hosts', INI);
});

describe('host patterns (results in inventory order)', () => {
  test.each([
    ['all', ['bastion', 'web01', 'web02', 'web03', 'db1', 'db2', '10.0.0.5', 'fe80::5']],
    ['*', ['bastion', 'web01', 'web02', 'web03', 'db1', 'db2', '10.0.0.5', 'fe80::5']],
    ['web', ['web01', 'web02', 'web03']],
    ['prod', ['web01', 'web02', 'web03', 'db1', 'db2']],
    ['db2', ['db2']],
    ['ungrouped', ['bastion']],
    // unions, with ':' and ','; result is in inventory order, not pattern order
    ['db:web_eu', ['web01', 'db1', 'db2']],
    ['db, bastion', ['bastion', 'db1', 'db2']],
    // intersection and exclusion
    ['prod:&web_eu', ['web01']],
    ['prod:!web', ['db1', 'db2']],
    ['web:!web01', ['web02', 'web03']],
    // order of operations: unions first, then &, then !, wherever written
    ['!web02:web:&prod', ['web01', 'web03']],
    ['web:!web02:db', ['web01', 'web03', 'db1', 'db2']],
    // only & / ! terms start from all
    ['!prod', ['bastion', '10.0.0.5', 'fe80::5']],
    ['&web_eu', ['web01']],
    // globs over groups and hosts
    ['web0*', ['web01', 'web02', 'web03']],
    ['db?', ['db1', 'db2']],
    ['[wd]*1', ['web01', 'db1']],
    ['web0[!1]', ['web02', 'web03']],
    ['w*_eu', ['web01']],
    ['10.0.0.*', ['10.0.0.5']],
    // regex (anchored at the start, like Python's re.match)
    ['~web0[12]', ['web01', 'web02']],
    ['~(web|db)[0-9]+$', ['web01', 'web02', 'web03', 'db1', 'db2']],
    ['~eb', []],
    ['prod:&~db', ['db1', 'db2']],
    // subscripts
    ['web[0]', ['web01']],
    ['web[-1]', ['web03']],
    ['web[0:1]', ['web01', 'web02']],
    ['web[1:]', ['web02', 'web03']],
    ['web[0:99]', ['web01', 'web02', 'web03']],
    ['prod[3]', ['db1']],
    ['web[1]:db[0]', ['web02', 'db1']],
    // IPv6 is one host, not three terms
    ['fe80::5', ['fe80::5']],
    ['fe80::5:web01', ['web01', 'fe80::5']],
    // unknown names match nothing
    ['nosuch', []],
    ['nosuch:web01', ['web01']],
  ])('%s', (pattern, expected) => {
    expect(inv.select(pattern)).toEqual(expected);
  });

  test('localhost: implicit when not in the inventory, real when it is', async () => {
    expect(inv.select('localhost')).toEqual(['localhost']);
    expect(inv.select('all:&localhost')).toEqual([]);
    expect(inv.select('web01:localhost')).toEqual(['web01', 'localhost']);
    const withLocal = await loadText('hosts', '[g]\nlocalhost ansible_connection=local x=1\n');
    expect(withLocal.select('localhost')).toEqual(['localhost']);
    expect(withLocal.isImplicit('localhost')).toBe(false);
    expect(withLocal.hostVars('localhost')).toEqual({ ansible_connection: 'local', x: 1 });
  });

  test('repeated selects return fresh arrays (the cache cannot be corrupted)', () => {
    const a = inv.select('web');
    a.push('intruder');
    expect(inv.select('web')).toEqual(['web01', 'web02', 'web03']);
  });
});

describe('bad patterns are InventoryErrors naming the pattern', () => {
  test.each([
    ['web:&', /bad host pattern 'web:&': operator '&' has nothing after it/],
    ['web:!', /operator '!' has nothing after it/],
    ['', /bad host pattern '': it is empty/],
    ['  ', /it is empty/],
    [':,', /it names nothing/],
    ['~web[', /unbalanced '\['/],
    ['~(web', /unbalanced '\('/],
    ['web]', /unbalanced '\]'/],
    ['~+web', /invalid regular expression '~\+web'/],
    // as in Ansible, digits in brackets at the end are a subscript, not a glob class
    ['web0[13]', /no hosts matched the subscripted pattern 'web0\[13\]'/],
    ['web db', /'web db' contains whitespace/],
    ['web:!&db', /combines two operators/],
    ['web[5]', /no hosts matched the subscripted pattern 'web\[5\]'/],
    ['web[-4]', /no hosts matched the subscripted pattern/],
  ])('%j', async (pattern, msg) => {
    const f = await failure(() => inv.select(pattern, { file: 'play.yml', line: 3, column: 10 }));
    expect(f.message).toMatch(msg);
    expect(f.where).toBe('play.yml:3:10');
  });

  test('parsePattern keeps brackets, regexes and IPv6 whole', () => {
    expect(parsePattern('web[0:2]:&~db(1|2):!fe80::1,x')).toEqual([
      { op: '', expr: 'web[0:2]' },
      { op: '&', expr: '~db(1|2)' },
      { op: '!', expr: 'fe80::1' },
      { op: '', expr: 'x' },
    ]);
  });
});
