import { Templar } from '../../../runner/templating/index';

const t = new Templar();
const V = {
  a: 1,
  b: 2,
  s: 'hello',
  list: [3, 1, 2],
  d: { x: { y: 5 }, k: 'v' },
  n: null,
  yes: true,
  no: false,
  hostvars: { web1: { ip: '10.0.0.1', port: 5432 } },
  inventory_hostname: 'web1',
};
const ev = (e: string, vars: Record<string, unknown> = V) => t.evaluateExpression(e, vars);

describe('literals', () => {
  it.each([
    ["'a'", 'a'],
    ['"b"', 'b'],
    ['1', 1],
    ['2.5', 2.5],
    ['1_000', 1000],
    ['true', true],
    ['True', true],
    ['false', false],
    ['False', false],
    ['none', null],
    ['None', null],
    ['null', null],
    ['nil', null],
    ['[1, "x", [2]]', [1, 'x', [2]]],
    ['[1, 2,]', [1, 2]],
    ["{'k': 1, \"j\": [true]}", { k: 1, j: [true] }],
    ['(1, 2)', [1, 2]],
    ['(1..4)', [1, 2, 3, 4]],
    ['[]', []],
    ['{}', {}],
  ])('%s', async (src, want) => {
    expect(await ev(src)).toEqual(want);
  });

  it('processes Python string escapes and keeps unknown ones (regexes)', async () => {
    expect(await ev("'a\\nb'")).toBe('a\nb');
    expect(await ev("'it\\'s'")).toBe("it's");
    expect(await ev("'\\d+'")).toBe('\\d+');
    expect(await ev("'back\\\\slash'")).toBe('back\\slash');
  });
});

describe('access', () => {
  it.each([
    ['d.x.y', 5],
    ["d['x']['y']", 5],
    ['d["k"]', 'v'],
    ['list[0]', 3],
    ['list[-1]', 2],
    ['list.0', 3],
    ['list[1:]', [1, 2]],
    ['list[:2]', [3, 1]],
    ['list[::-1]', [2, 1, 3]],
    ['s[1:3]', 'el'],
    ['s[0]', 'h'],
    ["hostvars[inventory_hostname]['ip']", '10.0.0.1'],
    ['hostvars[inventory_hostname].port', 5432],
    ['list.size', 3],
    ['list.first', 3],
    ['list.last', 2],
    ['s.size', 5],
  ])('%s', async (src, want) => {
    expect(await ev(src)).toEqual(want);
  });
});

describe('operators', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['2 ** 3 ** 2', 64], // Jinja's ** is left-associative
    ['7 // 2', 3],
    ['-7 // 2', -4],
    ['7 % 3', 1],
    ['-7 % 3', 2],
    ['7 / 2', 3.5],
    ['-a + 3', 2],
    ["'a' ~ 1 ~ true", 'a1True'],
    ["'ab' + 'cd'", 'abcd'],
    ['[1] + [2]', [1, 2]],
    ["'ab' * 2", 'abab'],
    ['(1 + 2) ~ 3', '33'],
    ["2 * 3 ~ 'x'", '6x'],
  ])('%s', async (src, want) => {
    expect(await ev(src)).toEqual(want);
  });

  it('~ binds tighter than + and looser than * (Jinja)', async () => {
    // 1 + (2 ~ 3): adding a number and a string is an error, which shows the grouping
    await expect(ev('1 + 2 ~ 3')).rejects.toThrow(/unsupported operand types for \+: int and str/);
  });

  it.each([
    ['a == 1', true],
    ['a != 1', false],
    ['a <> 2', true],
    ['a < b', true],
    ['a <= 1', true],
    ['b > a', true],
    ['b >= 3', false],
    ['1 < a + 1 < 3', true], // chained comparison
    ['1 < 2 > 3', false],
    ["'b' > 'a'", true],
    ['[1, 2] == [1, 2]', true],
    ["{'a': [1]} == {'a': [1]}", true],
    ["{'a': 1} == {'a': 2}", false],
    ['1 == 1.0', true],
    ["'1' == 1", false],
    ['3 in list', true],
    ['4 not in list', true],
    ["'ell' in s", true],
    ["'k' in d", true],
    ["'zz' in d", false],
    ["s contains 'll'", true],
    ['list contains 1', true],
  ])('%s -> %s', async (src, want) => {
    expect(await ev(src)).toBe(want);
  });

  it('and/or return operands and bind and tighter than or', async () => {
    expect(await ev("s or 'x'")).toBe('hello');
    expect(await ev("n or 'x'")).toBe('x');
    expect(await ev("a and 'yes'")).toBe('yes');
    expect(await ev('0 and missing')).toBe(0); // short-circuit: missing is never read
    expect(await ev('true or false and false')).toBe(true);
    expect(await ev('(true or false) and false')).toBe(false);
    expect(await ev('not false and false')).toBe(false);
    expect(await ev('not (false and false)')).toBe(true);
  });

  it('not binds looser than comparisons and tests', async () => {
    expect(await ev('not a == 2')).toBe(true);
    expect(await ev('not missing is defined')).toBe(true);
    expect(await ev('not 3 in list')).toBe(false);
  });

  it('filters bind tighter than arithmetic and comparison', async () => {
    expect(await ev('list | length > 2')).toBe(true);
    expect(await ev('1 + list | length')).toBe(4);
    expect(await ev("'5' | int + 1")).toBe(6);
    expect(await ev('-a | abs')).toBe(1); // the minus is applied before the filter, as in Jinja
  });

  it('ternary', async () => {
    expect(await ev("'x' if a == 1 else 'y'")).toBe('x');
    expect(await ev("'x' if a == 2 else 'y'")).toBe('y');
    expect(await ev("'x' if no")).toBe('');
    expect(await ev("'a' if no else 'b' if yes else 'c'")).toBe('b');
    expect(await ev("('x' if yes else 'y') ~ '!'")).toBe('x!');
  });

  it('type errors name the types', async () => {
    await expect(ev("'a' + 1")).rejects.toThrow(/unsupported operand types for \+: str and int/);
    await expect(ev("'a' < 1")).rejects.toThrow(/cannot compare str with int/);
    await expect(ev('1 / 0')).rejects.toThrow(/division by zero/);
    await expect(ev('1 in 5')).rejects.toThrow(/'in' needs a list, string or mapping/);
  });
});

describe('methods and functions', () => {
  it.each([
    ["s.startswith('he')", true],
    ["s.endswith(('x', 'lo'))", true],
    ["'a,b,,c'.split(',')", ['a', 'b', '', 'c']],
    ["'  a b  '.split()", ['a', 'b']],
    ["'a,b,c'.split(',', 1)", ['a', 'b,c']],
    ["'  pad  '.strip()", 'pad'],
    ["'xxpadxx'.strip('x')", 'pad'],
    ["'xxpad'.lstrip('x')", 'pad'],
    ["s.upper()", 'HELLO'],
    ["s.replace('l', 'L')", 'heLLo'],
    ["','.join(['a', 'b'])", 'a,b'],
    ["s.find('l')", 2],
    ["d.get('k')", 'v'],
    ["d.get('nope', 7)", 7],
    ["d.get('nope')", null],
    ['d.keys()', ['x', 'k']],
    ["d.items() | first", ['x', { y: 5 }]],
    ['list.index(1)', 1],
    ['range(3)', [0, 1, 2]],
    ['range(1, 7, 2)', [1, 3, 5]],
  ])('%s', async (src, want) => {
    expect(await ev(src)).toEqual(want);
  });

  it('refuses unknown methods and functions', async () => {
    await expect(ev('s.constructor()')).rejects.toThrow(/str has no method 'constructor'/);
    await expect(ev("eval('1')")).rejects.toThrow(/'eval' is not a function/);
    await expect(ev('range(10000000)')).rejects.toThrow(/too large/);
  });
});

describe('syntax errors', () => {
  it.each([
    ['a ==', /unexpected end of expression at column 5 of "a =="/],
    ['(a', /expected '\)' but found end of expression/],
    ["'open", /unterminated string at column 1/],
    ['a $ b', /unexpected character '\$' at column 3/],
    ['a b', /unexpected 'b' at column 3/],
    ['list[', /unexpected end of expression/],
    ['a | ', /expected a filter name after '\|'/],
    ['a is', /expected a test name after 'is'/],
    ['', /empty expression/],
  ])('%s', async (src, re) => {
    await expect(ev(src)).rejects.toThrow(re);
  });
});
