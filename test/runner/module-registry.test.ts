import Ajv from 'ajv';
import { MODULES } from '../../modules/index';
import { ModuleRegistry } from '../../runner/module-registry';

describe('module registry', () => {
  // the registry compiles schemas without checking them against the meta-schema (startup time):
  // this is where a malformed schema is caught instead
  test('every module schema is a valid JSON schema (draft-07 meta-schema)', () => {
    const ajv = new Ajv({ strict: false });
    const bad = MODULES.filter((m) => !ajv.validateSchema(m.schema)).map((m) => `${m.name}: ${ajv.errorsText(ajv.errors)}`);
    expect(bad).toEqual([]);
    expect(MODULES.length).toBeGreaterThan(20);
  });

  test('the meta-schema check would catch a malformed schema', () => {
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema({ type: 'object', properties: { a: { type: 'strnig' } } })).toBe(false);
    expect(ajv.validateSchema({ type: 'object', required: 'a' })).toBe(false);
  });

  test('validation still applies types, enums, required arguments and defaults', () => {
    const r = new ModuleRegistry();
    expect(r.validate('file', { path: '/x', state: 'directory' }).problems).toEqual([]);
    expect(r.validate('file', { path: '/x', state: 'gone' }).problems).toEqual([
      { path: 'state', message: expect.stringMatching(/^must be one of: .*directory/) },
    ]);
    expect(r.validate('copy', { content: 'a' }).problems).toEqual([{ path: '', message: "missing required argument 'dest'" }]);
    expect(r.validate('copy', { dest: '/x', content: 'a', bogus: 1 }).problems).toEqual([{ path: 'bogus', message: "unsupported argument 'bogus'" }]);
    expect(r.validate('copy', { dest: '/x', content: 'a', backup: 'yes' }).args.backup).toBe(true);
    expect(r.validate('nope', {}).problems).toEqual([{ path: '', message: "unknown module 'nope'" }]);
  });

  test('a schema is compiled once, on first use, for the modules a playbook uses', () => {
    const r = new ModuleRegistry();
    const compiled = () => (r as unknown as { validators: Map<string, unknown> }).validators;
    expect(compiled().size).toBe(0);
    r.validateStatic('debug', { msg: 'a' });
    r.validateStatic('debug', { msg: 'b' });
    expect([...compiled().keys()]).toEqual(['debug']);
  });
});
