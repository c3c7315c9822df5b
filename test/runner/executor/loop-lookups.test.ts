/** The with_<lookup> loops as ansible-core 2.14's lookup plugins give them (runner/executor/loop-lookups.ts). */
import { expandLookup } from '../../../runner/executor/loop-lookups';

describe('expandLookup', () => {
  test.each([
    ['items', [[1, 2], 3, [[4]]], [1, 2, 3, [4]]],
    ['flattened', [[1, [2, [3]]], 4], [1, 2, 3, 4]],
    ['indexed_items', ['a', 'b'], [[0, 'a'], [1, 'b']]],
    ['together', [[1, 2, 3], ['a', 'b']], [[1, 'a'], [2, 'b'], [3, null]]],
    ['nested', [['a', 'b'], [1, 2]], [['a', 1], ['a', 2], ['b', 1], ['b', 2]]],
    ['cartesian', [['x'], ['y', 'z']], [['x', 'y'], ['x', 'z']]],
    ['sequence', 'start=1 end=3', ['1', '2', '3']],
    ['sequence', 'start=0 end=10 stride=5 format=web%02d', ['web00', 'web05', 'web10']],
    ['sequence', 'count=3', ['1', '2', '3']],
    ['sequence', '4-6/2', ['4', '6']],
    ['sequence', 'start=5 end=1 stride=-2', ['5', '3', '1']],
    ['sequence', 'start=0 end=0x10 stride=8 format=%x', ['0', '8', '10']],
    ['subelements', [[{ n: 'a', keys: [1, 2] }, { n: 'b', keys: [3] }], 'keys'], [[{ n: 'a', keys: [1, 2] }, 1], [{ n: 'a', keys: [1, 2] }, 2], [{ n: 'b', keys: [3] }, 3]]],
    ['subelements', [[{ n: 'a' }, { n: 'b', keys: [3] }], 'keys', { skip_missing: true }], [[{ n: 'b', keys: [3] }, 3]]],
  ] as const)('with_%s %j', (kind, terms, want) => {
    expect(expandLookup(kind, terms)).toEqual(want);
  });

  test.each([
    ['sequence', 'start=1'],
    ['sequence', 'end=3 count=2'],
    ['sequence', 'start=a end=3'],
    ['sequence', 'end=3 format=no-field'],
    ['subelements', [[{ n: 'a' }], 'keys']],
    ['subelements', [[{ keys: 'x' }], 'keys']],
    ['nested', []],
    ['together', []],
  ] as const)('with_%s %j is an error', (kind, terms) => {
    expect(() => expandLookup(kind, terms)).toThrow(new RegExp(`^with_${kind}: `));
  });
});
