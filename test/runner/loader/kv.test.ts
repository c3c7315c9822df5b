import { parseKv, tokenize, unquote, COMMAND_KV_KEYS } from '../../../runner/loader/kv';
import { closest, didYouMean, editDistance } from '../../../runner/did-you-mean';

describe('k=v splitting', () => {
  test('splits on whitespace but not inside quotes or template blocks', () => {
    expect(tokenize(`a=1 b='x y'  c="{{ p }} q" d={{ x | default('a b') }}`).map((t) => t.text)).toEqual([
      'a=1',
      "b='x y'",
      'c="{{ p }} q"',
      "d={{ x | default('a b') }}",
    ]);
  });

  test('quoted values are unquoted, escaped quotes kept', () => {
    expect(parseKv(`src=a dest='/tmp/x y' msg="say \\"hi\\"" mode=0644`).args).toEqual({
      src: 'a',
      dest: '/tmp/x y',
      msg: 'say "hi"',
      mode: '0644',
    });
    expect(unquote(`'it'`)).toBe('it');
    expect(unquote(`'it`)).toBe(`'it`);
  });

  test('free-form text is kept exactly, with only the split keys removed', () => {
    const r = parseKv(`echo  "a  b" a=b | tr a-z A-Z chdir=/tmp creates='/x y'`, (k) => COMMAND_KV_KEYS.has(k));
    expect(r.args).toEqual({ chdir: '/tmp', creates: '/x y' });
    expect(r.raw).toBe(`echo  "a  b" a=b | tr a-z A-Z`);
  });

  test('newlines of a multi-line script survive', () => {
    const r = parseKv('set -e\nfor i in 1 2; do\n  echo $i\ndone\n', () => true);
    expect(r.raw).toBe('set -e\nfor i in 1 2; do\n  echo $i\ndone');
    expect(r.args).toEqual({});
  });

  test('no free-form text gives no raw', () => {
    expect(parseKv('a=1').raw).toBeUndefined();
  });

  test('unbalanced quotes and unclosed templates are errors', () => {
    expect(() => tokenize(`a='x`)).toThrow('unbalanced single quote');
    expect(() => tokenize(`a="x`)).toThrow('unbalanced double quote');
    expect(() => tokenize(`a={{ x`)).toThrow('unclosed template');
  });
});

describe('did you mean', () => {
  test('transpositions cost one edit', () => {
    expect(editDistance('whne', 'when')).toBe(1);
    expect(editDistance('when', 'when')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
  test('suggests only close words', () => {
    expect(closest('whne', ['when', 'name', 'tags'])?.match).toBe('when');
    expect(closest('regsiter', ['register', 'retries'])?.match).toBe('register');
    expect(closest('xyz', ['when', 'name'])).toBeUndefined();
    expect(didYouMean('Become', ['become'])).toBe(" — did you mean 'become'?");
    expect(didYouMean('zzzz', ['become'])).toBe('');
  });
});
