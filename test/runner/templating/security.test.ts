import fs from 'fs';
import os from 'os';
import path from 'path';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { Templar } from '../../../runner/templating/index';

const t = new Templar();
const V = { s: 'x', d: { k: 1 }, list: [1], json: '{"__proto__": {"polluted": "yes"}, "a": 1}' };

afterEach(() => {
  // nothing a template does may reach Object.prototype
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
});

describe('no prototype access', () => {
  it.each([
    "s.constructor",
    "d.constructor",
    "d['constructor']",
    "d.__proto__",
    "d['__proto__']",
    "list.constructor",
    "d.hasOwnProperty",
    "d.toString",
    "toString",
    "constructor",
    "__proto__",
    "hasOwnProperty",
    "s['constructor']['constructor']",
    "list['__proto__']",
  ])('%s is undefined', async (expr) => {
    expect(await t.evaluate(`${expr} is undefined`, V)).toBe(true);
    await expect(t.renderString(`{{ ${expr} }}`, V)).rejects.toThrow(/undefined variable/);
  });

  it('cannot call constructors or arbitrary methods', async () => {
    await expect(t.renderString("{{ s.constructor.constructor('return process')() }}", V)).rejects.toThrow();
    await expect(t.evaluate("''.constructor('x')", V)).rejects.toThrow(/str has no method 'constructor'/);
    await expect(t.evaluate('d.valueOf()', V)).rejects.toThrow(/dict has no method 'valueOf'/);
    await expect(t.evaluate('list.push(1)', V)).rejects.toThrow(/list has no method 'push'/);
    await expect(t.evaluate("process.exit(1)", V)).rejects.toThrow(/undefined variable 'process'/);
    await expect(t.evaluate("require('fs')", V)).rejects.toThrow(/'require' is not a function/);
    expect(V.list).toEqual([1]);
  });

  it('cannot reach Liquid scopes or the host environment through names', async () => {
    await expect(t.renderString('{{ global }}{{ globalThis }}', V)).rejects.toThrow(/undefined variable 'global'/);
    await expect(t.renderString('{{ forloop }}', V)).rejects.toThrow(/undefined variable 'forloop'/);
  });
});

describe('no prototype pollution through data', () => {
  it.each([
    "{{ {'__proto__': {'polluted': 'yes'}} }}",
    "{{ json | from_json }}",
    "{{ {} | combine(json | from_json) }}",
    "{{ {} | combine(json | from_json, recursive=true) }}",
    "{{ [{'key': '__proto__', 'value': {'polluted': 'yes'}}] | items2dict }}",
    "{{ '__proto__: {polluted: yes}' | from_yaml }}",
    "{{ {'__proto__': {'polluted': 'yes'}} | dict2items | items2dict }}",
    "{% set __proto__ = {'polluted': 'yes'} %}{{ __proto__ }}",
    "{% assign constructor = 1 %}{{ constructor }}",
  ])('%s', async (tpl) => {
    const out = await t.renderValue(tpl, V);
    if (out && typeof out === 'object') expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('renderValue with a __proto__ key copies it as data', async () => {
    const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": "{{ s }}"}');
    const out = (await t.renderValue(input, V)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    expect(out.a).toBe('x');
  });
});

describe('no code execution and no file access', () => {
  it('the templating sources never evaluate code', () => {
    const dir = join(__dirname, '../../../runner/templating');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts'))) {
      const src = readFileSync(join(dir, f), 'utf8');
      expect(src).not.toMatch(/\beval\s*\(|new\s+Function\s*\(|\bFunction\s*\(|vm\.run|require\s*\(/);
    }
  });

  it('JavaScript in a template is just text or a syntax error', async () => {
    await expect(t.renderString('{{ (() => 1)() }}', V)).rejects.toThrow(/template syntax error/);
    await expect(t.renderString('{{ `x` }}', V)).rejects.toThrow(/template syntax error/);
    await expect(t.renderString('{{ x; process }}', V)).rejects.toThrow(/template syntax error/);
  });

  it('templates cannot include files', async () => {
    for (const tag of ["include '/etc/passwd'", "import '/etc/passwd' as x", "extends '/etc/passwd'"]) {
      await expect(t.renderString(`{% ${tag} %}`, V)).rejects.toThrow(/works in template files only/);
    }
    for (const tag of ["render '/etc/passwd'", "layout '/etc/passwd'"]) {
      await expect(t.renderString(`{% ${tag} %}`, V)).rejects.toThrow(/is not supported/);
    }
  });

  it('a template file includes only from its search path, never through ..', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-inc-'));
    fs.writeFileSync(path.join(dir, 'ok.j2'), 'ok');
    const file = path.join(dir, 'main.j2');
    expect(await t.renderFile("{% include '/ok.j2' %}", V, file, { searchPath: [dir] })).toBe('ok');
    await expect(t.renderFile("{% include '../etc/passwd' %}", V, file, { searchPath: [dir] })).rejects.toThrow(/must not contain '\.\.'/);
    await expect(t.renderFile("{% include 'passwd' %}", V, file, { searchPath: [dir] })).rejects.toThrow(/template 'passwd' not found/);
  });

  it('a value rendered into a condition is parsed, never executed', async () => {
    const hostile = { out: "constructor.constructor('return process')()" };
    await expect(t.evaluate("{{ out }} == 'x'", hostile)).rejects.toThrow();
  });

  it('huge ranges and repetitions are refused, not attempted', async () => {
    await expect(t.evaluate('(1..100000000) | length > 0', V)).rejects.toThrow(/too large/);
    await expect(t.evaluate("'x' * 100000000", V)).rejects.toThrow(/too large/);
  });

  it('deep nesting fails cleanly', async () => {
    const deep = '('.repeat(5000) + '1' + ')'.repeat(5000);
    await expect(t.evaluate(deep, V)).rejects.toThrow(/nested too deeply/);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    await expect(t.renderValue(cyclic, V)).rejects.toThrow(/nested too deeply/);
  });
});
