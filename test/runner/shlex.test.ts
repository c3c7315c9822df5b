import { ShlexError, shlexSplit } from '../../runner/shlex';

// Expected values are Python 3's shlex.split() output for the same input (what Ansible runs).
const TABLE: Array<[string, string[]]> = [
  ['visudo -cf %s', ['visudo', '-cf', '%s']],
  ["a 'b c' d", ['a', 'b c', 'd']],
  ['a "b c" d', ['a', 'b c', 'd']],
  ['a\\ b', ['a b']],
  ['"a\\"b"', ['a"b']],
  ['"a\\\\b"', ['a\\b']],
  ['"a\\nb"', ['a\\nb']],
  ["'a\\b'", ['a\\b']],
  ["a''b", ['ab']],
  ["a '' b", ['a', '', 'b']],
  ['""', ['']],
  ['x;touch /tmp/X', ['x;touch', '/tmp/X']],
  ['$(touch X) `y`', ['$(touch', 'X)', '`y`']],
  ['a\tb\nc', ['a', 'b', 'c']],
  ['  lead  trail  ', ['lead', 'trail']],
  ['a"b c"d', ['ab cd']],
  ["it's\\'", ['its\\']],
  ['#c d', ['#c', 'd']],
  ['a#b', ['a#b']],
  ['\\#x', ['#x']],
  ['--file=%s', ['--file=%s']],
  ['', []],
  ['   ', []],
  ['é "ü x"', ['é', 'ü x']],
];

describe('shlexSplit (Python shlex.split, POSIX mode)', () => {
  it.each(TABLE)('%j', (input, words) => {
    expect(shlexSplit(input)).toEqual(words);
  });

  it.each([["'a", /no closing quotation/], ['"a', /no closing quotation/], ['a\\', /no escaped character/]])('%j is an error', (input, msg) => {
    expect(() => shlexSplit(input)).toThrow(ShlexError);
    expect(() => shlexSplit(input)).toThrow(msg);
  });
});
