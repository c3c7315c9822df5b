import { compileOutputsOnly } from '../../../runner/templating/compile';
import { compileLiquid } from '../../../runner/templating/liquid';

/** What a compiled template is used for, without Liquid's own parsed objects. */
function shape(c: { src: string; parts?: unknown; single?: unknown; exprs: unknown }) {
  return { src: c.src, parts: c.parts, single: c.single, exprs: c.exprs };
}

describe('templates with only {{ }}: compiled without Liquid, exactly as Liquid compiles them', () => {
  const same = [
    '{{ x }}',
    ' {{ x }}',
    '{{ x }}\n',
    '{{x}}',
    '{{\tx\n}}',
    'a{{ x }}b{{ y }}c',
    '{{x}}{{y}}',
    '{{ "a" }}{{ "b" }}',
    "{{ {'a': {'b': 1}} }}",
    `{{ '}}' ~ "{{" }}`,
    `{{ 'it\\'s' }} and {{ "say \\"hi\\"" }}`,
    '{{ x | default("a b") }}/path',
    '{{ [1, 2, 3] | join(",") }}',
    "{{ a.b['c'] }} and {{ a[0] }} and {{ a[-1] }}",
    "{{ x if y else 'z' }}",
    '{{ (1..3) | list }}',
    "{{ x | replace: 'a', 'b' }}",
    '{ {{ x }} }',
    'plain }} text {x}',
    '{{ x }} {{ y }}\n{{ z }}\n',
    '{{ x - 1 }}',
    '{{ -1 }}',
  ];

  test.each(same)('%j', (src) => {
    const fast = compileOutputsOnly(src);
    expect(fast).toBeDefined();
    expect(shape(fast!)).toEqual(shape(compileLiquid(src)));
  });

  test('the single-expression shortcut (native values) is the same', () => {
    expect(compileOutputsOnly('{{ ports }}')!.single).toBeDefined();
    expect(compileOutputsOnly(' {{ ports }}')!.single).toBeUndefined();
    expect(compileOutputsOnly('{{ ports }}\n')!.single).toBeUndefined();
    expect(compileOutputsOnly('{{ a }}{{ b }}')!.single).toBeUndefined();
  });

  // tags, whitespace control, odd blanks and every error go to the Liquid engine
  test.each([
    '{% if x %}y{% endif %}',
    '{{ x }} {% raw %}{{{% endraw %}',
    "{{ '{%' }}",
    '{{- x }}',
    '{{ x -}}',
    '{{-x-}}',
    '{{ x',
    "{{ 'a }}",
    '{{ x ) }}',
    '{{ }}',
    '{{\u00a0x }}',
    '{{ x\u2003}}',
  ])('%j is left to Liquid', (src) => {
    expect(compileOutputsOnly(src)).toBeUndefined();
  });
});

describe('the Liquid engine is built only when a template needs it', () => {
  test('{{ }} text, conditions and tsplay filters do not build it; a tag does', async () => {
    let built!: () => boolean;
    let Templar!: typeof import('../../../runner/templating/index').Templar;
    jest.isolateModules(() => {
      built = require('../../../runner/templating/liquid').liquidBuilt;
      Templar = require('../../../runner/templating/index').Templar;
    });
    const t = new Templar();
    const vars = { d: '/srv', xs: [1, 2], on: true };
    expect(await t.renderValue({ path: '{{ d }}/x', n: '{{ xs | length }}', list: '{{ xs }}' }, vars)).toEqual({ path: '/srv/x', n: 2, list: [1, 2] });
    expect(await t.evaluate('on and xs | length > 1', vars)).toBe(true);
    t.check(['{{ d | basename }}', '{{ xs | join(",") }}']);
    expect(built()).toBe(false);
    expect(await t.renderString('{% if on %}yes{% endif %}', vars)).toBe('yes');
    expect(built()).toBe(true);
  });

  test('a Liquid built-in filter builds it on use', async () => {
    let built!: () => boolean;
    let Templar!: typeof import('../../../runner/templating/index').Templar;
    jest.isolateModules(() => {
      built = require('../../../runner/templating/liquid').liquidBuilt;
      Templar = require('../../../runner/templating/index').Templar;
    });
    const t = new Templar();
    expect(built()).toBe(false);
    expect(await t.renderString('{{ "ab" | upcase }}', {})).toBe('AB');
    expect(built()).toBe(true);
  });
});
