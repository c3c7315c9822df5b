/** Python's str()/repr()/json.dumps, as Ansible's templates print values (runner/templating/jinja/pytext.ts). */
import { pyJson, pyRepr, pyStrRepr } from '../../../runner/templating/jinja/pytext';

describe('pyStrRepr', () => {
  test.each([
    ['a', "'a'"],
    ["it's", `"it's"`],
    [`it's "q"`, `'it\\'s "q"'`],
    ['a\nb\tc\\', "'a\\nb\\tc\\\\'"],
    ['\x00\x1b\x7f', "'\\x00\\x1b\\x7f'"],
    ['é✓文', "'é✓文'"],
    ['\u202e\u00a0', "'\\u202e\\xa0'"],
  ])('%p -> %s', (s, want) => expect(pyStrRepr(s)).toBe(want));
});

describe('pyRepr', () => {
  test.each([
    [true, 'True'],
    [null, 'None'],
    [1.5, '1.5'],
    [NaN, 'nan'],
    [['a', 1, false, null], "['a', 1, False, None]"],
    [{ k: [1, { x: 'y' }], e: {} }, "{'k': [1, {'x': 'y'}], 'e': {}}"],
    [[], '[]'],
  ])('%p -> %s', (v, want) => expect(pyRepr(v)).toBe(want));
});

describe('pyJson', () => {
  const d = { port: 5432, host: 'db', l: [1, 'é'], e: [], m: {} };
  test('compact: Python separators and ensure_ascii', () => {
    expect(pyJson(d)).toBe('{"port": 5432, "host": "db", "l": [1, "\\u00e9"], "e": [], "m": {}}');
  });
  test('indented and sorted, as to_nice_json', () => {
    expect(pyJson(d, 4, true)).toBe('{\n    "e": [],\n    "host": "db",\n    "l": [\n        1,\n        "\\u00e9"\n    ],\n    "m": {},\n    "port": 5432\n}');
  });
  test('astral characters become a surrogate pair', () => expect(pyJson('😀')).toBe('"\\ud83d\\ude00"'));
});

describe('none inside expressions is str(None), a bare none prints nothing', () => {
  // ansible-playbook 2.14: "a=None b=None/z c=None d=" for this template
  test('~, join, string filter, bare output', async () => {
    const { Templar } = await import('../../../runner/templating');
    const t = new Templar();
    expect(await t.renderString("a={{ none ~ '' }} b={{ [none, 'z'] | join('/') }} c={{ none | string }} d={{ none }}", {})).toBe('a=None b=None/z c=None d=');
  });
});
