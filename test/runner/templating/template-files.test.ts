/**
 * Template files rendered as the template module renders them, compared with what
 * ansible-core 2.14's template module wrote for the same files, variables and arguments
 * (ansible-templates.json: `expected` is Ansible's output, produced with ansible-playbook -c local).
 */
import fs from 'fs';
import os from 'os';
import path from 'path';
import { Templar, type TemplateFileOptions } from '../../../runner/templating';
import CASES from './ansible-templates.json';

interface Case {
  files: Record<string, string>;
  vars: Record<string, unknown>;
  args: Record<string, unknown>;
  expected: string;
}

const NL: Record<string, string> = { '\\n': '\n', '\\r': '\r', '\\r\\n': '\r\n' };

/** The template module's arguments as render options (modules/template.ts maps them the same way). */
function options(a: Record<string, unknown>, dir: string): TemplateFileOptions {
  return {
    trimBlocks: a.trim_blocks as boolean | undefined,
    lstripBlocks: a.lstrip_blocks as boolean | undefined,
    newlineSequence: a.newline_sequence === undefined ? undefined : NL[a.newline_sequence as string],
    commentStart: a.comment_start_string as string | undefined,
    commentEnd: a.comment_end_string as string | undefined,
    searchPath: [dir],
  };
}

describe('template files render as under ansible-core 2.14', () => {
  const t = new Templar();
  let root: string;
  beforeAll(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-tpl-'))));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test.each(Object.entries(CASES as Record<string, Case>))('%s', async (name, c) => {
    const dir = path.join(root, name);
    for (const [f, text] of Object.entries(c.files)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.writeFileSync(path.join(dir, f), text);
    }
    const main = path.join(dir, 'main.j2');
    expect(await t.renderFile(c.files['main.j2'], c.vars, main, options(c.args, dir))).toBe(c.expected);
  });
});

describe('template file errors', () => {
  const t = new Templar();
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-tple-'));
    fs.writeFileSync(path.join(dir, 'broken.j2'), 'ok\n{% if %}\n');
    fs.writeFileSync(path.join(dir, 'undef.j2'), 'a\nb {{ nope }}\n');
    fs.writeFileSync(path.join(dir, 'base.j2'), '{% block b %}{% endblock %}\n');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = () => path.join(dir, 'main.j2');
  const where = (e: any) => `${path.basename(e.location?.file ?? '')}:${e.location?.line}`;

  async function failure(text: string, opts: TemplateFileOptions = {}): Promise<any> {
    try {
      await t.renderFile(text, {}, file(), { searchPath: [dir], ...opts });
    } catch (e) {
      return e;
    }
    throw new Error('rendered without error');
  }

  test('an error in an included template names that file and line', async () => {
    expect(where(await failure("x\n{% include 'undef.j2' %}\n"))).toBe('undef.j2:2');
    expect(where(await failure("x\n{% include 'broken.j2' %}\n"))).toBe('broken.j2:2');
  });

  test('an error after the #jinja2: line counts it; a missing template is named with where it was looked for', async () => {
    expect(where(await failure('#jinja2: lstrip_blocks: True\na\n{{ nope }}\n'))).toBe('main.j2:3');
    const e = await failure("one\n{% extends 'gone.j2' %}");
    expect(e.message).toMatch(/template 'gone.j2' not found/);
    expect(e.hint).toContain(path.join(dir, 'gone.j2'));
    expect(where(e)).toBe('main.j2:2');
  });

  test('options Ansible has that tsplay cannot honour are errors naming them', async () => {
    expect((await failure('x', { variableStart: '[[' })).message).toMatch(/variable_start_string '\[\[' is not supported/);
    expect((await failure('x', { blockEnd: '%>' })).message).toMatch(/block_end_string/);
    expect((await failure('#jinja2: block_start_string: "<%"\nx')).message).toMatch(/block_start_string/);
    expect((await failure('#jinja2: trim: True\nx')).message).toMatch(/unknown option 'trim'/);
    expect((await failure('#jinja2: trim_blocks True\nx')).message).toMatch(/not key: value/);
    expect((await failure('a {# open\n')).message).toMatch(/comment is not closed/);
  });

  test('the check before the run: syntax of the file and of each template it names, and missing ones', () => {
    const errs = t.checkFile("{% include 'broken.j2' %}\n{% import 'nothere.j2' as m %}\n{% include 'opt.j2' ignore missing %}{{ x | nofilter }}\n", file(), { searchPath: [dir] });
    expect(errs.map((e) => `${where(e)} ${e.message.split(' at ')[0]}`)).toEqual([
      "main.j2:3 unknown filter 'nofilter'",
      'broken.j2:2 template syntax error: {% if %} needs a condition',
      "main.j2:2 template 'nothere.j2' not found",
    ]);
    expect(t.checkFile("{% extends 'base.j2' %}{% block b %}{{ 1 }}{% endblock %}", file(), { searchPath: [dir] })).toEqual([]);
  });

  test('include, import and macros are refused in strings (no file, no search path)', async () => {
    await expect(t.renderString("{% macro m() %}x{% endmacro %}", {})).rejects.toThrow(/works in template files only/);
    // {# #} stays text in a string: it is common in shell (${#array[@]})
    expect(await t.renderString('{{ 1 }} {# x #}', {})).toBe('1 {# x #}');
  });
});
