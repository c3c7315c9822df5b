import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { getModule, MODULES } from '../../modules/index';
import { validateArgs } from '../helpers/fake-remote';

const ENGINE = ['command', 'shell', 'copy', 'file', 'template', 'lineinfile', 'stat', 'debug', 'assert', 'fail', 'set_fact', 'include_vars', 'pause', 'wait_for', 'ping', 'setup'];

describe('module registry', () => {
  it('getModule finds modules with or without the ansible.builtin./ansible.legacy. prefix', () => {
    expect(getModule('copy')?.name).toBe('copy');
    expect(getModule('ansible.builtin.lineinfile')?.name).toBe('lineinfile');
    expect(getModule('ansible.legacy.shell')?.name).toBe('shell');
    expect(getModule('community.general.copy')).toBeUndefined();
    expect(getModule('nope')).toBeUndefined();
  });

  it('names are unique', () => {
    const names = MODULES.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('every engine module is registered', () => {
    for (const n of ENGINE) expect(getModule(n)).toBeDefined();
  });
});

describe.each(ENGINE)('%s: documentation contract', (name) => {
  const mod = getModule(name)!;
  const file = path.join(__dirname, '../../modules', `${name}.ts`);

  it('file named as the module, starting with a JSDoc header: arguments, example, check mode', () => {
    const src = fs.readFileSync(file, 'utf8');
    expect(src.startsWith(`/**\n * ${name}:`)).toBe(true);
    const header = src.slice(0, src.indexOf('*/'));
    expect(header).toMatch(/Example:/);
    expect(header).toMatch(/Check mode:/);
    expect(header).toMatch(/Arguments|Arguments:/);
  });

  it('description, checkMode, and a description on every schema property', () => {
    expect(mod.description.length).toBeGreaterThan(10);
    expect(mod.checkMode.length).toBeGreaterThan(10);
    const props = (mod.schema.properties ?? {}) as Record<string, { description?: string }>;
    for (const [k, v] of Object.entries(props)) expect([k, typeof v.description]).toEqual([k, 'string']);
  });

  it('its example is YAML tasks (of registered modules, at least one of this one) whose arguments pass the schemas', () => {
    const tasks = parseYaml(mod.example) as Array<Record<string, unknown>>;
    expect(Array.isArray(tasks)).toBe(true);
    expect(tasks.some((t) => name in t)).toBe(true);
    for (const t of tasks) {
      const key = Object.keys(t).find((k) => getModule(k))!;
      expect(key).toBeDefined();
      const m = getModule(key)!;
      let args = t[key] ?? {};
      if (typeof args === 'string') args = { [m.freeForm!]: args };
      if (t.args) args = { ...(args as object), ...(t.args as object) };
      const v = validateArgs(m, args);
      expect([JSON.stringify(args), v.errors]).toEqual([JSON.stringify(args), []]);
    }
  });
});
