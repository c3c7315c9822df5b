import { TemplateError } from '../../../runner/errors';
import { Templar } from '../../../runner/templating/index';

const t = new Templar();
const V = {
  a: 1,
  s: 'web01',
  empty: '',
  zero: 0,
  n: null,
  list: [1, 2],
  nolist: [],
  d: { k: 'v' },
  nodict: {},
  yes: true,
  no: false,
  str_false: 'false',
  ver: '16.2',
  ok_result: { changed: false, failed: false, rc: 0, stdout: 'ready' },
  changed_result: { changed: true, failed: false },
  failed_result: { changed: false, failed: true, rc: 1 },
  skipped_result: { changed: false, skipped: true },
  loop_result: { results: [{ changed: false }, { changed: true }] },
  unreachable_result: { unreachable: true },
  group_names: ['db', 'etcd'],
};
const when = (c: unknown, vars: Record<string, unknown> = V) => t.evaluate(c, vars, { file: 'play.yml', line: 7, column: 11 });

describe('truthiness (Python)', () => {
  it.each<[unknown, boolean]>([
    ['a', true],
    ['zero', false],
    ['s', true],
    ['empty', false],
    ['n', false],
    ['list', true],
    ['nolist', false],
    ['d', true],
    ['nodict', false],
    ['yes', true],
    ['no', false],
    ['str_false', true], // a non-empty string is true; `| bool` reads words
    ['str_false | bool', false],
    [true, true],
    [false, false],
    [1, true],
    [0, false],
    [null, true], // no condition
    [[], true],
    [['a', 'yes'], true],
    [['a', 'no'], false],
    [['a', true, 'list | length == 2'], true],
  ])('%j -> %s', async (cond, want) => {
    expect(await when(cond)).toBe(want);
  });
});

describe('conditions with {{ }}', () => {
  it.each<[string, boolean]>([
    ['{{ yes }}', true],
    ['{{ no }}', false],
    ['{{ a == 1 }}', true],
    ['{{ str_false }}', false], // rendered text 'false' reads as false, as in Ansible
    ["{{ 'yes' }}", true],
    ["{{ 'off' }}", false],
    ['{{ empty }}', false],
    ['{{ a }} == 1', true], // rendered to "1 == 1", then evaluated
    ['{{ a }} == 2', false],
    ['{{ list | length }} > 1', true],
  ])('%s -> %s', async (cond, want) => {
    expect(await when(cond)).toBe(want);
  });
});

describe('tests (is ...)', () => {
  it.each<[string, boolean]>([
    ['a is defined', true],
    ['missing is defined', false],
    ['missing is not defined', true],
    ['missing is undefined', true],
    ['missing.deeper.still is defined', false],
    ['d.k is defined', true],
    ['d.nope is defined', false],
    ['n.attr is defined', false],
    ['n is none', true],
    ['a is none', false],
    ['s is string', true],
    ['a is number', true],
    ['a is integer', true],
    ['1.5 is float', true],
    ['yes is boolean', true],
    ['d is mapping', true],
    ['list is mapping', false],
    ['list is iterable', true],
    ['list is sequence', true],
    ['yes is sameas true', true],
    ['a is equalto 1', true],
    ['a is eq(1)', true],
    ['a is gt 0', true],
    ['a is in [1, 2]', true],
    ['list is contains 2', true],
    ['s is truthy', true],
    ['empty is falsy', true],
    ["str_false is truthy(convert_bool=true)", false],
    ["s is match('web')", true],
    ["s is match('eb')", false], // match is anchored at the start
    ["s is search('eb')", true],
    ["s is regex('^WEB', ignorecase=true)", true],
    ["s is match('web\\d+$')", true],
    ["ver is version('16', '>=')", true],
    ["ver is version('16.10', '<')", true],
    ["ver is version('16.2', '==')", true],
    ["ver is version('16.2', 'eq')", true],
    ["ver is version_compare('9.6', 'gt')", true],
    ["'1.10.0' is version('1.9.9', '>')", true],
    ["'1.0' is version('1.0.1', 'lt')", true],
    ['ok_result is succeeded', true],
    ['ok_result is success', true],
    ['ok_result is failed', false],
    ['failed_result is failed', true],
    ['failed_result is not succeeded', true],
    ['changed_result is changed', true],
    ['ok_result is changed', false],
    ['loop_result is changed', true],
    ['skipped_result is skipped', true],
    ['ok_result is skipped', false],
    ['unreachable_result is unreachable', true],
    ['ok_result is reachable', true],
    ['3 is odd', true],
    ['4 is even', true],
    ['9 is divisibleby 3', true],
    ["'abc' is lower", true],
    ['[1] is subset([1, 2])', true],
    ['[1, 2] is superset([2])', true],
    ['[1, true] is all', true],
    ['[0, false] is any', false],
    ["'db' in group_names and ok_result.rc == 0", true],
    ["ok_result.stdout == 'ready' and not failed_result is succeeded", true],
  ])('%s -> %s', async (cond, want) => {
    expect(await when(cond)).toBe(want);
  });

  it('result tests need a mapping', async () => {
    await expect(when('s is failed')).rejects.toThrow(/'failed' test expects a registered result \(a mapping\), got str/);
  });

  it('unknown tests are errors with a suggestion', async () => {
    const err = (await when('a is defind').catch((e) => e)) as TemplateError;
    expect(err).toBeInstanceOf(TemplateError);
    expect(err.describe()).toMatch(/unknown test 'defind'[^\n]*\n  did you mean 'defined'\?/);
  });

  it('rejects bad version operators', async () => {
    await expect(when("ver is version('1', '~=')")).rejects.toThrow(/unknown version comparison operator '~='/);
  });
});

describe('condition errors', () => {
  it('an undefined variable names it and the location', async () => {
    const err = (await when('missing == 1').catch((e) => e)) as TemplateError;
    expect(err).toBeInstanceOf(TemplateError);
    expect(err.describe()).toBe(
      "play.yml:7:11: undefined variable 'missing' in \"missing == 1\"\n  define it, or guard it with `| default(...)` or `is defined`",
    );
  });

  it('a missing attribute of a defined mapping names the path', async () => {
    await expect(when("d.nope == 'x'")).rejects.toThrow(/undefined variable 'd.nope'/);
    await expect(when("d['nope'] == 'x'")).rejects.toThrow(/undefined variable 'd\['nope'\]'/);
    await expect(when('list[5] == 1')).rejects.toThrow(/undefined variable 'list\[5\]'/);
    await expect(when('n.attr')).rejects.toThrow(/'n' is none, so it has no attribute 'attr'/);
  });

  it('default and is defined guard undefined values in conditions', async () => {
    expect(await when('missing | default(false)')).toBe(false);
    expect(await when('missing is defined and missing > 1')).toBe(false);
    expect(await when('(missing | default(0)) < 1')).toBe(true);
  });

  it('syntax errors show the expression and position', async () => {
    const err = (await when('a == (1').catch((e) => e)) as TemplateError;
    expect(err.describe()).toBe(`play.yml:7:11: template syntax error: expected ')' but found end of expression at column 8 of "a == (1"`);
  });

  it('each item of a list condition keeps its own position', async () => {
    const { parseYaml } = await import('../../../runner/yaml');
    const doc = parseYaml('when:\n  - a == 1\n  - missing\n', 'tasks.yml') as { when: unknown };
    const err = (await t.evaluate(doc.when, V, { file: 'tasks.yml', line: 1, column: 1 }).catch((e) => e)) as TemplateError;
    expect(err.describe()).toMatch(/^tasks\.yml:3:5: undefined variable 'missing'/);
  });

  it('rejects non-conditions', async () => {
    await expect(when({ a: 1 })).rejects.toThrow(/a condition must be a string expression, a boolean or a list/);
    await expect(when('  ')).rejects.toThrow(/empty condition/);
  });
});
