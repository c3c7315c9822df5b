/** The one boolean rule (runner/booleans.ts), as every reader of a boolean uses it. */
import { parseBoolean } from '../../runner/booleans';
import { Templar } from '../../runner/templating';

describe('parseBoolean', () => {
  test.each([
    [true, true], [false, false], [1, true], [0, false],
    ['yes', true], ['YES', true], [' on ', true], ['True', true], ['1', true], ['y', true], ['t', true],
    ['no', false], ['Off', false], ['FALSE', false], ['0', false], ['n', false], ['f', false],
  ])('%p means %p', (v, want) => expect(parseBoolean(v)).toBe(want));

  test.each([['maybe'], [''], ['none'], [null], [undefined], [2], [0.5], [[]], [{}], ['yes please']])('%p is not a boolean', (v) => {
    expect(parseBoolean(v)).toBeUndefined();
  });
});

describe('the lenient readers agree with it', () => {
  const t = new Templar();
  test.each([['y', true], ['T', true], ['off', false], ['maybe', false], ['', false]])("'%s' | bool is %p", async (v, want) => {
    expect(await t.evaluateExpression(`x | bool`, { x: v })).toBe(want);
  });
  test.each([['y', true], ['f', false], ['maybe', true], ['', false]])("'%s' is truthy(convert_bool=true): %p", async (v, want) => {
    expect(await t.evaluate(`x is truthy(convert_bool=true)`, { x: v })).toBe(want);
  });
  test.each([['yes', true], ['No', false], ['', false], ['none', false]])("a rendered condition '%s' is %p", async (v, want) => {
    expect(await t.evaluate('{{ x }}', { x: v })).toBe(want);
  });
});
