import { TemplateError } from '../../../runner/errors';
import { Templar } from '../../../runner/templating/index';

const t = new Templar();
const V = { a: 1, d: { k: 'v' }, list: [1, 2] };

async function failure(p: Promise<unknown>): Promise<TemplateError> {
  const e = await p.then(
    () => undefined,
    (x) => x,
  );
  expect(e).toBeInstanceOf(TemplateError);
  return e as TemplateError;
}

describe('errors in template files (line and column inside the file)', () => {
  const file = { file: 'roles/patroni/templates/patroni.yml.j2' };

  it('an undefined variable in an output', async () => {
    const e = await failure(t.renderString('scope: x\nname: {{ a }}\n  port: {{ d.port }}\n', V, file));
    expect(e.describe()).toMatch(/^roles\/patroni\/templates\/patroni\.yml\.j2:3:12: undefined variable 'd\.port'$/m);
    expect(e.location).toEqual({ file: file.file, line: 3, column: 12 });
  });

  it('an undefined variable inside a for loop and an if', async () => {
    const tpl = 'a\n{% for x in list %}\n{% if x > 1 %}\n  {{ x.name }}\n{% endif %}\n{% endfor %}\n';
    const e = await failure(t.renderString(tpl, V, file));
    expect(e.location).toEqual({ file: file.file, line: 4, column: 6 });
    expect(e.message).toBe("undefined variable 'x.name'");
  });

  it('an undefined variable in a tag condition', async () => {
    const e = await failure(t.renderString('x\n\n{% if nope > 1 %}y{% endif %}', V, file));
    expect(e.location).toEqual({ file: file.file, line: 3, column: 7 });
  });

  it('a syntax error in an output', async () => {
    const e = await failure(t.renderString('line\n  {{ a | }}\n', V, file));
    expect(e.location?.line).toBe(2);
    expect(e.message).toMatch(/template syntax error: expected a filter name after '\|'/);
  });

  it('an unclosed tag, an unknown tag, an unclosed output', async () => {
    expect((await failure(t.renderString('a\n{% if a %}x', V, file))).message).toMatch(/\{% if %\} is not closed by \{% endif %\}/);
    const unknown = await failure(t.renderString('a\n{% iff a %}x', V, file));
    expect(unknown.message).toMatch(/tag "iff" not found/);
    expect(unknown.hint).toBe("did you mean 'if'?");
    expect(unknown.location?.line).toBe(2);
    expect((await failure(t.renderString('a {{ b', V, file))).message).toMatch(/not closed/);
  });

  it('errors from Liquid-only tags (case) are TemplateErrors naming the variable', async () => {
    const e = await failure(t.renderString('{% case nope %}{% when 1 %}x{% endcase %}', V, file));
    expect(e.message).toBe("undefined variable 'nope'");
  });

  it('errors inside filters are TemplateErrors at the filter', async () => {
    const e = await failure(t.renderString("ok\n{{ 'x' | regex_replace('(', '') }}", V, file));
    expect(e.location).toEqual({ file: file.file, line: 2, column: 4 });
    expect(e.message).toMatch(/invalid regular expression/);
  });
});

describe('errors in strings from YAML keep the string position', () => {
  const loc = { file: 'site.yml', line: 12, column: 15 };
  it('quotes short templates', async () => {
    const e = await failure(t.renderValue('/srv/{{ app }}/data', V, loc));
    expect(e.describe()).toBe("site.yml:12:15: undefined variable 'app' in \"/srv/{{ app }}/data\"\n  define it, or guard it with `| default(...)` or `is defined`");
  });
  it('names the template line of long ones', async () => {
    const e = await failure(t.renderValue('a\nb\n{{ nope }}', V, loc));
    expect(e.describe()).toMatch(/^site\.yml:12:15: undefined variable 'nope' \(line 3 of the template\)/);
  });
});

describe('check (validation before a run)', () => {
  it('passes good templates and conditions', () => {
    expect(() => t.check({ a: '{{ x | default(1) }}', b: ['{% for i in l %}{{ i }}{% endfor %}'], c: 'plain text' })).not.toThrow();
    expect(() => t.check('x is defined and y | bool', undefined, true)).not.toThrow();
  });
  it('finds syntax errors, unknown filters and tests with positions', () => {
    expect(() => t.check({ a: '{{ x | nosuch }}' }, { file: 'f.yml', line: 1 })).toThrow(/unknown filter 'nosuch'/);
    expect(() => t.check('{% if x is nosuch %}{% endif %}')).toThrow(/unknown test 'nosuch'/);
    expect(() => t.check('{% for i in l %}{{ i | nosuch }}{% endfor %}')).toThrow(/unknown filter 'nosuch'/);
    expect(() => t.check(['{{ (x }}'])).toThrow(/template syntax error/);
    expect(() => t.check('x ==', undefined, true)).toThrow(/template syntax error/);
    // plain text is not an expression unless asked
    expect(() => t.check('x ==')).not.toThrow();
  });
});

describe('undefinedVariables', () => {
  it('lists top-level names a template or expression reads and vars lack', () => {
    expect(t.undefinedVariables('{{ a }} {{ b.c }} {{ d | default(e) }}', V)).toEqual(['b', 'e']);
    expect(t.undefinedVariables('{% for h in hosts %}{{ h }}{{ loop.index }}{% endfor %}{% set z = 1 %}{{ z }}', V)).toEqual(['hosts']);
    expect(t.undefinedVariables("x is defined and range(3) | length > y", V)).toEqual(['x', 'y']);
    expect(t.undefinedVariables('plain', V, false)).toEqual([]);
  });
});
