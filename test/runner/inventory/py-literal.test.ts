import { parseIniValue } from '../../../runner/inventory/py-literal';

// Expected values are what Python's ast.literal_eval gives (the string itself where it fails),
// checked against Python 3 while writing this table.
describe('parseIniValue (Ansible INI value typing)', () => {
  const cases: Array<[string, unknown]> = [
    ['22', 22],
    ['-5', -5],
    ['+3', 3],
    ['1_000', 1000],
    ['0x1F', 31],
    ['0o17', 15],
    ['0b101', 5],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['1e3', 1000],
    ['00', 0],
    ['True', true],
    ['False', false],
    ['None', null],
    ["'quoted'", 'quoted'],
    ['"double"', 'double'],
    ["'it''s'", 'its'],
    ['"a" \'b\'', 'ab'],
    ["'''triple'''", 'triple'],
    ["'\\n\\t\\x41\\u00e9\\d'", '\n\tAé\\d'],
    ["r'\\d+'", '\\d+'],
    ["b'bytes'", 'bytes'],
    ['[1, "a", True]', [1, 'a', true]],
    ['[1, 2,]', [1, 2]],
    ['(1,)', [1]],
    ['(7)', 7],
    ['()', []],
    ['{}', {}],
    ["{'k': [1, 2], 3: None}", { k: [1, 2], '3': null }],
    ['{1, 2}', [1, 2]],
    ['1 # a comment', 1],
    ['   7', 7],
    // not Python literals: kept as written
    ['true', 'true'],
    ['yes', 'yes'],
    ['022', '022'],
    ['10.0.0.1', '10.0.0.1'],
    ['foo # not a comment', 'foo # not a comment'],
    ['a b', 'a b'],
    ['', ''],
    ['2j', '2j'],
    ['1__0', '1__0'],
    ["'unterminated", "'unterminated"],
    ['[1, 2', '[1, 2'],
    ['--1', '--1'],
    ['f"x"', 'f"x"'],
    ['99999999999999999999', '99999999999999999999'],
    ['{[1]: 2}', '{[1]: 2}'],
  ];
  test.each(cases)('%s', (text, expected) => {
    expect(parseIniValue(text)).toEqual(expected);
  });
});
