import { parseKv, tokenize, unquote, COMMAND_KV_KEYS, KvSyntaxError } from '../../../runner/loader/kv';
import { positionInScalar } from '../../../runner/loader/scalar-pos';
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

  test('a key may hold {{ }} outputs; the = that ends it is the first one outside them', () => {
    expect(parseKv(`{{ item }}=moo user_{{ a.b }}={{ c }} {{ "x=y" }}_k=1`).args).toEqual({
      '{{ item }}': 'moo',
      'user_{{ a.b }}': '{{ c }}',
      '{{ "x=y" }}_k': '1',
    });
    // not a key: text around the template that is not name characters, or no = after it
    expect(parseKv(`{{ a }}-b=1`).raw).toBe('{{ a }}-b=1');
    expect(parseKv(`{{ a }}`).raw).toBe('{{ a }}');
    // command-like modules keep them in the command line
    expect(parseKv(`echo {{ x }}=1`, (k) => COMMAND_KV_KEYS.has(k)).raw).toBe('echo {{ x }}=1');
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

describe('k=v splitting: template text is opaque', () => {
  const texts = (s: string) => tokenize(s).map((t) => t.text);

  test('quotes and blanks inside {{ }} neither split nor open k=v quoting', () => {
    expect(parseKv(`echo {{ "a b" | upper }} x`, () => false).raw).toBe(`echo {{ "a b" | upper }} x`);
    expect(texts(`echo {{ "a b" | upper }} x`)).toEqual(['echo', '{{ "a b" | upper }}', 'x']);
    expect(parseKv(`msg="{{ 'x y' ~ z }}" var=v`).args).toEqual({ msg: "{{ 'x y' ~ z }}", var: 'v' });
    expect(parseKv(`content="{{ a | default('it''s') }}" dest=/tmp/x`).args).toEqual({
      content: "{{ a | default('it''s') }}",
      dest: '/tmp/x',
    });
  });

  test('nested quotes: the same quote inside and around the template', () => {
    // the outer quotes are k=v quoting; the inner ones belong to the expression
    expect(parseKv(`msg="{{ "a b" | upper }}" x=1`).args).toEqual({ msg: '{{ "a b" | upper }}', x: '1' });
    expect(parseKv(`msg='{{ "it's" }} ok' x=1`).args).toEqual({ msg: `{{ "it's" }} ok`, x: '1' });
    expect(parseKv(`msg='say {{ '"' ~ "'" }} now' y=2`).args).toEqual({ msg: `say {{ '"' ~ "'" }} now`, y: '2' });
    // escaped quotes still work as before (Ansible decodes them, the expression reads the same)
    expect(parseKv(`msg="{{ \"a b\" }}" x=1`).args).toEqual({ msg: '{{ "a b" }}', x: '1' });
  });

  test('= inside a template is not a key', () => {
    expect(parseKv(`msg={{ x | replace("=", " = ") }} other=2`).args).toEqual({ msg: '{{ x | replace("=", " = ") }}', other: '2' });
    const cmd = parseKv(`echo {{ 'k=v' }} {{ a == b }} chdir=/tmp`, (k) => COMMAND_KV_KEYS.has(k));
    expect(cmd).toEqual({ args: { chdir: '/tmp' }, raw: `echo {{ 'k=v' }} {{ a == b }}` });
  });

  test('}} inside a string and nested dict literals do not end the block (as the template engine reads them)', () => {
    expect(texts(`msg={{ '}} x' }} y=1`)).toEqual([`msg={{ '}} x' }}`, 'y=1']);
    expect(texts(`v={{ {'a': {'b': 1}} }} w=2`)).toEqual([`v={{ {'a': {'b': 1}} }}`, 'w=2']);
    // brackets that never balance: the first }} outside strings ends it, as liquidjs does
    expect(texts(`v={{ (x }} w=2`)).toEqual(['v={{ (x }}', 'w=2']);
    // a stray }} outside any block is plain text
    expect(texts(`echo {{ a }}}} b`)).toEqual(['echo', '{{ a }}}}', 'b']);
  });

  test('{% %} tags, block bodies, raw sections and {# #} comments stay whole', () => {
    expect(parseKv(`a={{ x }} b={% if y %}1 2{% else %}"3 4{% endif %} c=ok`).args).toEqual({
      a: '{{ x }}',
      b: '{% if y %}1 2{% else %}"3 4{% endif %}',
      c: 'ok',
    });
    expect(texts(`l="{%- for i in xs -%}{{ i }} {% endfor %}" m=1`)).toEqual([`l="{%- for i in xs -%}{{ i }} {% endfor %}"`, 'm=1']);
    expect(texts(`r={% raw %}{{ not closed ' {% if %}{% endraw %} s=1`)).toEqual([`r={% raw %}{{ not closed ' {% if %}{% endraw %}`, 's=1']);
    expect(texts(`c={# a note x=1 #} d=2`)).toEqual(['c={# a note x=1 #}', 'd=2']);
    expect(texts(`n={% set a = 'x y' %} m=1`)).toEqual([`n={% set a = 'x y' %}`, 'm=1']);
    // `{#` is not a comment to the template engine: unclosed, it is shell text
    expect(parseKv('echo ${#arr[@]} chdir=/tmp', (k) => COMMAND_KV_KEYS.has(k))).toEqual({ args: { chdir: '/tmp' }, raw: 'echo ${#arr[@]}' });
  });

  test('a multi-line script with template blocks keeps its text', () => {
    const script = `for h in {{ groups['db'] | join(' ') }}; do\n  echo "$h"\ndone\n{% if x %}echo 'a b'{% endif %} creates=/x`;
    const r = parseKv(script, (k) => COMMAND_KV_KEYS.has(k));
    expect(r.args).toEqual({ creates: '/x' });
    expect(r.raw).toBe(script.replace(/ creates=\/x$/, ''));
  });

  test('unbalanced template text is an error with the offset where it starts', () => {
    const err = (s: string): KvSyntaxError => {
      try {
        tokenize(s);
      } catch (e) {
        if (e instanceof KvSyntaxError) return e;
        throw e;
      }
      throw new Error(`expected ${s} to fail`);
    };
    expect(err(`a=1 b={{ x | upper`)).toMatchObject({ offset: 6, kind: 'template', message: "unclosed template block '{{' (no '}}' after it)" });
    expect(err(`a="{{ 'x }}"`)).toMatchObject({ offset: 6, message: expect.stringContaining('single-quoted string in it never ends') });
    expect(err(`a={% if x }}`)).toMatchObject({ offset: 2, message: "unclosed template tag '{%' (no '%}' after it)" });
    expect(err(`a={% if x %}b c`)).toMatchObject({ offset: 2, message: "'{% if %}' is never closed with '{% endif %}'" });
    expect(err(`a={% for i in x %}{% endif %}`)).toMatchObject({ offset: 18, message: expect.stringContaining("'{% endif %}' where '{% endfor %}' was expected") });
    expect(err(`a=b {% endif %}`)).toMatchObject({ offset: 4, message: "'{% endif %}' without an open '{% if %}'" });
    expect(err(`a={% raw %}{{`)).toMatchObject({ offset: 2, message: "'{% raw %}' is never closed with '{% endraw %}'" });
    expect(err(`a='{{ x }}`)).toMatchObject({ offset: 2, kind: 'quote', message: 'unbalanced single quote' });
  });
});

describe('positions inside a scalar', () => {
  const at = (line: number, column: number) => ({ file: 'f.yml', line, column });

  test('plain and quoted single-line scalars map one to one', () => {
    const src = `- copy: dest=/x content={{ a\n- debug: 'a {{ b'\n`;
    expect(positionInScalar(src, at(1, 9), 'dest=/x content={{ a', 16)).toEqual(at(1, 25));
    expect(positionInScalar(src, at(2, 10), 'a {{ b', 2)).toEqual(at(2, 13));
    // the value does not read like the source there: no guess
    expect(positionInScalar(src, at(1, 9), 'dest=/y content={{ a', 16)).toBeUndefined();
  });

  test('literal blocks map by line; escapes and folded lines fall back', () => {
    const src = 'x:\n  - shell: |\n      echo a\n      echo {{ b\n';
    expect(positionInScalar(src, at(2, 12), 'echo a\necho {{ b\n', 12)).toEqual(at(4, 12));
    expect(positionInScalar(`k: "a\\"b {{"\n`, at(1, 4), 'a"b {{', 4)).toBeUndefined();
    expect(positionInScalar('k: >\n  a\n  b {{\n', at(1, 4), 'a b {{', 4)).toBeUndefined();
    expect(positionInScalar('k: x\n', at(9, 4), 'x', 0)).toBeUndefined();
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

describe('escapes in k=v values (Ansible decodes them; d21)', () => {
  test.each([
    ['content=hello\\n', 'hello\n'],
    ['content="a\\tb"', 'a\tb'],
    ["msg='it\\'s'", "it's"],
    ['msg="say \\"hi\\""', 'say "hi"'],
    ['msg=\\u00e9\\x41\\101', 'éAA'],
    ['msg=back\\\\slash', 'back\\slash'],
    ['msg=C:\\q', 'C:\\q'],
  ])('%s', (text, want) => {
    const key = text.split('=')[0];
    expect(parseKv(text).args[key]).toBe(want);
  });

  test('the free-form text of a command keeps its escapes', () => {
    expect(parseKv('printf "a\\n" chdir=/tmp', (k) => COMMAND_KV_KEYS.has(k))).toEqual({ args: { chdir: '/tmp' }, raw: 'printf "a\\n"' });
  });
});
