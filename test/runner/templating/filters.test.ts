import { createHash } from 'crypto';
import { TemplateError } from '../../../runner/errors';
import { registerFilter, Templar } from '../../../runner/templating/index';

const t = new Templar();
const V = {
  s: 'Hello World',
  list: [3, 1, 2, 3],
  words: ['b', 'A', 'c'],
  users: [
    { name: 'ann', uid: 1001, admin: true, tags: ['x'] },
    { name: 'bob', uid: 1000, admin: false, tags: ['y', 'z'] },
  ],
  d: { b: 2, a: { x: 1, l: [1] } },
  empty: '',
  zero: 0,
  n: null,
  path: '/etc/patroni/patroni.yml',
  hostvars: { h1: { ip: '10.0.0.1' }, h2: { ip: '10.0.0.2' } },
  hosts: ['h1', 'h2'],
};
const ev = (e: string, vars: Record<string, unknown> = V) => t.evaluateExpression(e, vars);

describe('filters', () => {
  it.each<[string, unknown]>([
    // default / d / mandatory
    ["missing | default('x')", 'x'],
    ["missing | d('x')", 'x'],
    ["missing | default: 'x'", 'x'],
    ['missing | default', ''],
    ["empty | default('x')", ''],
    ["empty | default('x', true)", 'x'],
    ["zero | default('x', boolean=true)", 'x'],
    ["n | default('x')", null],
    ["n | default('x', true)", 'x'],
    ["missing.deeper | default('x')", 'x'],
    ["d.nokey | default('x')", 'x'],
    ['missing | default(other | default(3))', 3],
    ["s | mandatory", 'Hello World'],
    // conversion
    ["'yes' | bool", true],
    ["'On' | bool", true],
    ["'false' | bool", false],
    ["'foo' | bool", false],
    ['1 | bool', true],
    ["'42' | int", 42],
    ["'4.7' | int", 4],
    ["'x' | int", 0],
    ["'x' | int(7)", 7],
    ["'0x1F' | int(base=16)", 31],
    ['3.9 | int', 3],
    ['true | int', 1],
    ["'2.5' | float", 2.5],
    ["'nope' | float", 0],
    ['5 | string', '5'],
    ['[1] | string', '[1]'],
    ["'ab' | list", ['a', 'b']],
    ['d | list', ['b', 'a']],
    // strings
    ['s | lower', 'hello world'],
    ['s | upper', 'HELLO WORLD'],
    ["'hello wORLD' | capitalize", 'Hello world'],
    ["'hello world' | title", 'Hello World'],
    ["'  x  ' | trim", 'x'],
    ["'--x--' | trim('-')", 'x'],
    ["s | replace('o', '0')", 'Hell0 W0rld'],
    ["s | replace: 'o', '0'", 'Hell0 W0rld'],
    ["s | replace('o', '0', 1)", 'Hell0 World'],
    ["'a,b' | split(',')", ['a', 'b']],
    ["'a,b' | split: ','", ['a', 'b']],
    ["' a  b ' | split", ['a', 'b']],
    ["s | regex_replace('o(\\w)', '0\\\\1')", 'Hello W0rld'], // 'o ' does not match: \\w is not a space
    ["'ab12cd' | regex_replace('\\d+', '')", 'abcd'],
    ["'ab12' | regex_replace('(?P<num>\\d+)', '<\\g<num>>')", 'ab<12>'],
    ["'a.b' | regex_replace('\\.', '$')", 'a$b'],
    ["'ABC' | regex_replace('b', 'x', ignorecase=true)", 'AxC'],
    ["'ABC' | regex_replace('(?i)b', 'x')", 'AxC'],
    ["'aaa' | regex_replace('a', 'b', count=2)", 'bba'],
    ["'server12 server7' | regex_search('server(\\d+)')", 'server12'],
    ["'server12' | regex_search('server(\\d+)', '\\\\1')", ['12']],
    ["'k=v' | regex_search('(?P<k>\\w)=(?P<v>\\w)', '\\\\g<v>', '\\\\g<k>')", ['v', 'k']],
    ["'abc' | regex_search('z')", null],
    ["'a1b22c333' | regex_findall('\\d+')", ['1', '22', '333']],
    ["'a=1 b=2' | regex_findall('(\\w)=(\\d)')", [['a', '1'], ['b', '2']]],
    ["'a.b*' | regex_escape", 'a\\.b\\*'],
    ["'hello' | b64encode", 'aGVsbG8='],
    ["'aGVsbG8=' | b64decode", 'hello'],
    ["'héllo' | b64encode | b64decode", 'héllo'],
    ["'abc' | hash('sha256')", createHash('sha256').update('abc').digest('hex')],
    ["'abc' | hash('md5')", createHash('md5').update('abc').digest('hex')],
    ["'abc' | hash", createHash('sha1').update('abc').digest('hex')],
    ["'abc' | checksum", createHash('sha1').update('abc').digest('hex')],
    ["\"it's $(rm -rf /)\" | quote", `'it'\\''s $(rm -rf /)'`],
    ["'plain' | quote", 'plain'],
    ["['a b', 'c'] | quote", "'a b' c"],
    ['path | basename', 'patroni.yml'],
    ['path | dirname', '/etc/patroni'],
    ["'/a/b/' | basename", ''],
    ["'/' | dirname", '/'],
    ["'a\\nb\\n\\nc' | indent(2)", 'a\n  b\n\n  c'],
    ["'a\\nb' | indent(2, true)", '  a\n  b'],
    // serialisation
    ['d | to_json', '{"b": 2, "a": {"x": 1, "l": [1]}}'],
    ["{'u': 'é✓', 'q': 'a\"b'} | to_json", '{"u": "\\u00e9\\u2713", "q": "a\\"b"}'],
    ['d | to_nice_json', '{\n    "a": {\n        "l": [\n            1\n        ],\n        "x": 1\n    },\n    "b": 2\n}'],
    ['d | to_nice_json(indent=2)', '{\n  "a": {\n    "l": [\n      1\n    ],\n    "x": 1\n  },\n  "b": 2\n}'],
    ['d | to_yaml', 'a:\n  l: [1]\n  x: 1\nb: 2\n'],
    ["{'y': 'yes', 's': \"it's\", 'e': []} | to_yaml", "e: []\ns: it's\n'y': 'yes'\n"],
    ['d | to_nice_yaml', 'a:\n    l:\n        - 1\n    x: 1\nb: 2\n'],
    ['\'{"a": [1, true]}\' | from_json', { a: [1, true] }],
    ["'a: 1\\nb: [x]' | from_yaml", { a: 1, b: ['x'] }],
    ['d | to_json | from_json == d', true],
    // lists
    ['list | length', 4],
    ['list | count', 4],
    ['s | length', 11],
    ['d | length', 2],
    ['list | size', 4],
    ['list | first', 3],
    ['list | last', 3],
    ["'abc' | first", 'a'],
    ['list | reverse', [3, 2, 1, 3]],
    ["'abc' | reverse", 'cba'],
    ["list | join(',')", '3,1,2,3'],
    ["list | join: ', '", '3, 1, 2, 3'],
    ['list | join', '3123'],
    ["users | join(',', attribute='name')", 'ann,bob'],
    ['list | unique', [3, 1, 2]],
    ['[{"a": 1}, {"a": 1}] | unique', [{ a: 1 }]],
    ['list | sort', [1, 2, 3, 3]],
    ['list | sort(reverse=true)', [3, 3, 2, 1]],
    ['list | sort(true)', [3, 3, 2, 1]],
    ['words | sort', ['A', 'b', 'c']],
    ['words | sort(case_sensitive=true)', ['A', 'b', 'c']],
    ["users | sort(attribute='uid') | map(attribute='name') | list", ['bob', 'ann']],
    ["users | sort: 'uid' | map: 'name'", ['bob', 'ann']],
    ['list | min', 1],
    ['list | max', 3],
    ["users | max(attribute='uid') | extract({'x': 1}) | default('no')", 'no'],
    ["(users | min(attribute='uid')).name", 'bob'],
    ['list | sum', 9],
    ["users | sum(attribute='uid')", 2001],
    ['[[1], [2]] | sum(start=[])', [1, 2]],
    ['[1, [2, [3, [4]]]] | flatten', [1, 2, 3, 4]],
    ['[1, [2, [3, [4]]]] | flatten(1)', [1, 2, [3, [4]]]],
    ['[1, none, [2]] | flatten', [1, 2]],
    ['[1, 2] | union([2, 3])', [1, 2, 3]],
    ['[1, 2, 2] | intersect([2, 3])', [2]],
    ['[1, 2, 3] | difference([2])', [1, 3]],
    ['[1, 2] | symmetric_difference([2, 3])', [1, 3]],
    ["[1, 2, 3] | zip(['a', 'b'])", [[1, 'a'], [2, 'b']]],
    ['{"a": 1} | dict2items', [{ key: 'a', value: 1 }]],
    ["{'a': 1} | dict2items(key_name='k', value_name='v')", [{ k: 'a', v: 1 }]],
    ["[{'key': 'a', 'value': 1}] | items2dict", { a: 1 }],
    ["[{'n': 'a', 'v': 1}] | items2dict(key_name='n', value_name='v')", { a: 1 }],
    ["d | combine({'b': 3, 'c': 4})", { b: 3, a: { x: 1, l: [1] }, c: 4 }],
    ["d | combine({'a': {'y': 2}})", { b: 2, a: { y: 2 } }],
    ["d | combine({'a': {'y': 2}}, recursive=true)", { b: 2, a: { x: 1, l: [1], y: 2 } }],
    ["d | combine({'a': {'l': [2]}}, recursive=true, list_merge='append')", { b: 2, a: { x: 1, l: [1, 2] } }],
    ["[{'a': 1}, {'b': 2}] | combine", { a: 1, b: 2 }],
    ['d | keys', ['b', 'a']],
    ['{"a": 1} | values', [1]],
    ['{"a": 1} | items', [['a', 1]]],
    // map / select / extract
    ["users | map(attribute='name') | list", ['ann', 'bob']],
    ["users | map(attribute='nick', default='?') | list", ['?', '?']],
    ["users | map(attribute='tags.0') | list", ['x', 'y']],
    ["['a', 'b'] | map('upper') | list", ['A', 'B']],
    ["['a1', 'b2'] | map('regex_replace', '\\d', '') | list", ['a', 'b']],
    ["hosts | map('extract', hostvars, 'ip') | list", ['10.0.0.1', '10.0.0.2']],
    ["'h1' | extract(hostvars) | to_json", '{"ip": "10.0.0.1"}'],
    ['[0, 1, "", "a", none] | select | list', [1, 'a']],
    ["list | select('equalto', 3) | list", [3, 3]],
    ["list | select('>', 1) | list", [3, 2, 3]],
    ["list | reject('equalto', 3) | list", [1, 2]],
    ["['abc', 'xbc'] | select('match', 'a') | list", ['abc']],
    ["['abc', 'xbc'] | select('search', 'b') | list", ['abc', 'xbc']],
    ["users | selectattr('admin') | map(attribute='name') | list", ['ann']],
    ["users | rejectattr('admin') | map(attribute='name') | list", ['bob']],
    ["users | selectattr('uid', '>', 1000) | map(attribute='name') | list", ['ann']],
    ["users | selectattr('name', 'equalto', 'bob') | first | extract({'x': 1}) | default('none')", 'none'],
    ["users | selectattr('nick', 'defined') | list", []],
    ["users | selectattr('nick', 'undefined') | list | length", 2],
    // numbers / logic
    ['-3 | abs', 3],
    ['2.567 | round(2)', 2.57],
    ['2.5 | round', 3],
    ["2.1 | round(0, 'ceil')", 3],
    ["true | ternary('y', 'n')", 'y'],
    ["zero | ternary('y', 'n')", 'n'],
    ["n | ternary('y', 'n', 'none')", 'none'],
    ["'1.10' | version_compare('1.9', '>')", true],
    ['s | type_debug', 'str'],
    ['missing | type_debug', 'AnsibleUndefined'],
    ['list | type_debug', 'list'],
    // Liquid's own filters stay available
    ["s | append: '!'", 'Hello World!'],
    ["s | prepend: '>'", '>Hello World'],
    ['s | downcase', 'hello world'],
    ['5 | plus: 3', 8],
    ["s | truncate: 8", 'Hello...'],
    // filters with a namespace (ansible.builtin.*) resolve to the short name
    ['list | ansible.builtin.unique', [3, 1, 2]],
  ])('%s', async (src, want) => {
    expect(await ev(src)).toEqual(want);
  });

  it.each<[string, RegExp]>([
    ["missing | mandatory", /mandatory variable 'missing' is not defined/],
    ["missing | mandatory('set db_password')", /set db_password/],
    ["'x' | nosuch", /unknown filter 'nosuch'/],
    ["'x' | hash('crc')", /unsupported hash type 'crc'/],
    ["'x' | regex_replace('(', '')", /invalid regular expression "\("/],
    ["'{bad' | from_json", /from_json:/],
    ['5 | length', /'length' filter expects a string, list or mapping, got int/],
    ['[] | first | upper', /no first item: the list is empty/],
    ["users | selectattr('nick', 'equalto', 1) | list", /undefined variable 'item.nick'/],
    ["users | map(attribute='nick') | list", /undefined variable 'item.nick'/],
    ["d | combine({'a': 1}, list_merge='bogus')", /unknown list_merge/],
    ["[{'x': 1}] | items2dict", /no 'key' key/],
    ["'abc' | regex_replace('a', '\\\\2')", /refers to group 2/],
  ])('%s fails clearly', async (src, re) => {
    await expect(ev(src)).rejects.toThrow(re);
  });

  it('suggests a near filter name', async () => {
    const err = (await ev("'x' | lowr").catch((e) => e)) as TemplateError;
    expect(err.describe()).toMatch(/unknown filter 'lowr'[^\n]*\n  did you mean 'lower'\?/);
  });

  it('default evaluates its fallback only when needed', async () => {
    // `other` is undefined, but never read because s is defined
    expect(await ev('s | default(other)')).toBe('Hello World');
    await expect(ev('missing | default(other)')).rejects.toThrow(/undefined variable 'other'/);
  });

  it('registerFilter adds a filter for templates and conditions', async () => {
    registerFilter('double', (x, times) => Number(x) * Number(times ?? 2));
    expect(await ev('3 | double')).toBe(6);
    expect(await ev('3 | double(3)')).toBe(9);
    expect(await t.renderString('{{ 2 | double }}', {})).toBe('4');
    expect(await t.evaluate('2 | double == 4', {})).toBe(true);
    expect(() => registerFilter('bad name', () => 1)).toThrow(/invalid filter name/);
  });
});
