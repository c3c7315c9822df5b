import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';
import { getModule } from '../../../modules/index';
import type { TsplayModule } from '../../../runner/module-api';
import { validate } from './fake';

const HA = ['service', 'file-owner', 'port-check', 'ntp-check', 'package', 'user', 'group', 'uri', 'archive', 'postgres_backup', 'systemd_unit'];

describe.each(HA)('%s: registered and documented', (name) => {
  const mod = getModule(name) as TsplayModule;

  test('registered under its file name, with a JSDoc header', () => {
    expect(mod?.name).toBe(name);
    const src = fs.readFileSync(path.join(__dirname, '../../../modules', `${name}.ts`), 'utf8');
    expect(src.startsWith(`/**\n * ${name}: `)).toBe(true);
    expect(src).toMatch(/\n \* Check mode: /);
    expect(src).toMatch(/\n \* Example:\n/);
  });

  test('description, checkMode, and a description on every schema property', () => {
    expect(mod.description.length).toBeGreaterThan(10);
    expect(mod.checkMode.length).toBeGreaterThan(10);
    const props = (mod.schema as { properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }> }).properties;
    for (const [k, p] of Object.entries(props)) {
      expect([k, typeof p.description]).toEqual([k, 'string']);
      for (const [k2, p2] of Object.entries(p.properties ?? {})) expect([`${k}.${k2}`, typeof p2.description]).toEqual([`${k}.${k2}`, 'string']);
    }
  });

  test('the example is YAML whose tasks validate against the schema', () => {
    const tasks = parse(mod.example) as Array<Record<string, unknown>>;
    const uses = tasks.filter((t) => name in t);
    expect(uses.length).toBeGreaterThan(0);
    for (const t of uses) expect(validate(mod, t[name]).errors).toEqual([]);
  });
});
