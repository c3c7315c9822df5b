import { TemplateError } from '../../../runner/errors';
import { Templar } from '../../../runner/templating/index';
import { parseYaml, posOf } from '../../../runner/yaml';

const t = new Templar();
const V = {
  port: 5432,
  ports: [80, 443],
  name: 'db',
  enabled: true,
  off: false,
  nothing: null,
  cfg: { a: 1, b: { c: 'deep' } },
  users: [
    { name: 'ann', admin: true },
    { name: 'bob', admin: false },
  ],
  groups: { etcd: ['e1', 'e2', 'e3'] },
};

describe('renderValue: typed single expressions', () => {
  it.each([
    ['{{ ports }}', [80, 443]],
    ['{{ port }}', 5432],
    ['{{ enabled }}', true],
    ['{{ nothing }}', null],
    ['{{ cfg }}', { a: 1, b: { c: 'deep' } }],
    ['{{- port -}}', 5432],
    ['{{ port + 1 }}', 5433],
    ["{{ ports | map('string') | list }}", ['80', '443']],
    ['{{ name }}', 'db'],
  ])('%s', async (src, want) => {
    expect(await t.renderValue(src, V)).toEqual(want);
  });

  it('text around an expression makes a string', async () => {
    expect(await t.renderValue('port {{ port }}', V)).toBe('port 5432');
    expect(await t.renderValue('{{ port }}{{ port }}', V)).toBe('54325432');
    // any text, even blanks or a final newline, makes a string (as Ansible): content: "{{ x }}\n" keeps its newline
    expect(await t.renderValue('{{ ports }} ', V)).toBe('[80, 443] ');
    expect(await t.renderValue('  {{ port }}  ', V)).toBe('  5432  ');
    expect(await t.renderValue('{{ name }}\n', V)).toBe('db\n');
    expect(await t.renderValue('x{{ ports }}', V)).toBe('x[80, 443]');
    expect(await t.renderValue('{% if enabled %}{{ port }}{% endif %}', V)).toBe('5432');
  });

  it('leaves non-templates alone and renders deeply without touching the input', async () => {
    const input = { a: '{{ port }}', b: ['x', '{{ name }}-1', 3, true, null], c: { d: '{{ ports }}' }, e: 'plain' };
    const snapshot = JSON.parse(JSON.stringify(input));
    const out = (await t.renderValue(input, V)) as Record<string, unknown>;
    expect(out).toEqual({ a: 5432, b: ['x', 'db-1', 3, true, null], c: { d: [80, 443] }, e: 'plain' });
    expect(input).toEqual(snapshot);
    // containers are fresh copies even when nothing was templated (callers may mutate them)
    const plain = { x: 1, y: [1] };
    const copy = (await t.renderValue(plain, V)) as typeof plain;
    expect(copy).toEqual(plain);
    expect(copy).not.toBe(plain);
    expect(copy.y).not.toBe(plain.y);
  });

  it('allows dict literals and closing braces in strings inside {{ }} (balanced, as Jinja)', async () => {
    expect(await t.renderValue("{{ {'a': {'b': [1, {'c': 2}]}} }}", V)).toEqual({ a: { b: [1, { c: 2 }] } });
    expect(await t.renderValue("x={{ {'a': {'b': 1}} | to_json }}", V)).toBe('x={"a": {"b": 1}}');
    expect(await t.renderValue("{{ '}}' ~ \"{{\" }}", V)).toBe('}}{{');
    expect(await t.renderValue('{{ cfg.b }}}', V)).toBe("{'c': 'deep'}}");
  });

  it('renders templated keys', async () => {
    expect(await t.renderValue({ '{{ name }}_port': '{{ port }}' }, V)).toEqual({ db_port: 5432 });
  });

  it('keeps YAML positions on the copies and uses them in errors', async () => {
    const doc = parseYaml('args:\n  path: /x\n  mode: "{{ nope }}"\n', 'play.yml') as Record<string, unknown>;
    const err = (await t.renderValue(doc.args, V).catch((e) => e)) as TemplateError;
    expect(err).toBeInstanceOf(TemplateError);
    expect(err.describe()).toMatch(/^play\.yml:3:9: undefined variable 'nope' in "\{\{ nope \}\}"/);
    const copy = await t.renderValue(parseYaml('a: 1\n', 'f.yml'), V);
    expect(posOf(copy)).toEqual({ file: 'f.yml', line: 1, column: 1 });
  });
});

describe('renderString', () => {
  it('prints values as Python (Ansible) does: a bare none as nothing, True/False, containers in repr', async () => {
    expect(await t.renderString('[{{ nothing }}] {{ enabled }} {{ off }} {{ cfg }} {{ ports }}', V)).toBe("[] True False {'a': 1, 'b': {'c': 'deep'}} [80, 443]");
    expect(await t.renderString("{{ ['it\\'s', 'a\\nb', 'x\"y'] }} {{ {'k': none} }}", {})).toBe(`["it's", 'a\\nb', 'x"y'] {'k': None}`);
  });

  it('returns strings without templates as they are', async () => {
    expect(await t.renderString('no template {here}', V)).toBe('no template {here}');
  });

  it('supports Liquid tags with Jinja-style expressions', async () => {
    const tpl = [
      '{% for u in users if u.admin %}admin={{ u.name }}{% endfor %}',
      '{% for h in groups.etcd %}{{ h }}{% unless forloop.last %},{% endunless %}{% endfor %}',
      "{% for h in groups['etcd'] | reverse %}{{ loop.index }}:{{ h }} {% endfor %}",
      '{% for k, v in cfg %}{{ k }}={{ v | to_json }};{% endfor %}',
      '{% for k in cfg %}{{ k }}{% endfor %}',
      '{% for x in [] %}x{% else %}empty{% endfor %}',
      '{% for i in (1..5) limit: 2 offset: 1 %}{{ i }}{% endfor %}',
      '{% for i in (1..3) reversed %}{{ i }}{% endfor %}',
      '{% for i in (1..5) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}{% endif %}{{ i }}{% endfor %}',
      '{% set n = ports | length %}{% assign m = n * 10 %}{{ n }}/{{ m }}',
      '{% if port > 6000 %}big{% elif port > 5000 %}mid{% else %}small{% endif %}',
      '{% if nope is defined %}x{% elsif name == "db" %}db{% endif %}',
      '{% unless off %}on{% endunless %}',
      '{% capture c %}{{ name | upper }}!{% endcapture %}{{ c }}',
      '{% case name %}{% when "db" %}DB{% else %}other{% endcase %}',
      '{% raw %}{{ not rendered }}{% endraw %}',
      '{% comment %}{{ nope }}{% endcomment %}done',
      '{% echo name | upper %}',
      '{{ name | upcase | append: "-x" }}',
      '{% for o in groups.etcd %}{% for i in [1] %}{{ loop.parentloop.index }}{% endfor %}{% endfor %}',
      '{% increment c %}{% increment c %}{% decrement d %}',
    ].join('|');
    expect(await t.renderString(tpl, V)).toBe(
      [
        'admin=ann',
        'e1,e2,e3',
        '1:e3 2:e2 3:e1 ',
        'a=1;b={"c": "deep"};',
        'ab',
        'empty',
        '23',
        '321',
        '13',
        '2/20',
        'mid',
        'db',
        'on',
        'DB!',
        'DB',
        '{{ not rendered }}',
        'done',
        'DB',
        'DB-x',
        '123',
        '01-1',
      ].join('|'),
    );
  });

  it('supports inline comments and the liquid tag (whose if/echo use our expressions)', async () => {
    expect(await t.renderString("a{% # a note %}b{% liquid\n if ports | length > 1\n echo name | upper\n endif %}", V)).toBe('abDB');
  });

  it('drops the newline after a tag (trim_blocks) and honours {%- -%}', async () => {
    const tpl = 'hosts:\n{% for h in groups.etcd %}\n  - {{ h }}\n{% endfor %}\nend\n';
    expect(await t.renderString(tpl, V)).toBe('hosts:\n  - e1\n  - e2\n  - e3\nend\n');
    expect(await t.renderString('a  {%- if true -%}  b  {%- endif -%}  c', V)).toBe('abc');
    // only the newline: spaces after an inline tag are kept
    expect(await t.renderString('cmd{% if enabled %} --flag{% endif %}', V)).toBe('cmd --flag');
  });

  it('does not change the variables it renders with', async () => {
    const vars = { n: 1, list: [1] };
    await t.renderString('{% assign n = 5 %}{% increment n %}{% set list = [2] %}{{ n }}', vars);
    expect(vars).toEqual({ n: 1, list: [1] });
  });

  it('parses each template once (cache) and renders per host', async () => {
    const tpl = '{% for p in ports %}{{ host }}:{{ p }} {% endfor %}';
    expect(await t.renderString(tpl, { ...V, host: 'a' })).toBe('a:80 a:443 ');
    expect(await t.renderString(tpl, { ...V, host: 'b' })).toBe('b:80 b:443 ');
  });

  it('non-strict mode renders undefined as empty', async () => {
    const lax = new Templar({ strict: false });
    expect(await lax.renderString('[{{ nope }}][{{ nope.deeper }}]', {})).toBe('[][]');
    expect(await lax.evaluate('nope', {})).toBe(false);
    expect(await lax.renderValue('{{ nope }}', {})).toBeNull();
  });
});
