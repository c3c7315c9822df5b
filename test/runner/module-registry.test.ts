import Ajv from 'ajv';
import * as path from 'path';
import { parse } from 'yaml';
import { MODULES } from '../../modules/index';
import { AJV_OPTIONS, schemaHash } from '../../runner/ajv-options';
import { ModuleRegistry } from '../../runner/module-registry';
import type { TsplayModule } from '../../runner/module-api';

/** the argument mappings of a module's own documentation example */
function exampleArgs(m: TsplayModule): Array<Record<string, unknown>> {
  const tasks = (parse(m.example ?? '') ?? []) as Array<Record<string, unknown>>;
  return tasks.map((t) => t[m.name]).filter((a): a is Record<string, unknown> => !!a && typeof a === 'object');
}

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

  test('the build precompiles every module validator from the current schemas, and each judges as the runtime compiler does', () => {
    // built by `npm run build` (scripts/gen-validators.js; test/global-setup.js runs it too)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gen = require(path.resolve(__dirname, '../../dist/runner/validators.generated.js'));
    const ajv = new Ajv(AJV_OPTIONS);
    let compared = 0;
    for (const m of MODULES) {
      expect(`${m.name} ${gen.__schemaHashes[m.name]}`).toBe(`${m.name} ${schemaHash(m.schema)}`);
      const runtime = ajv.compile(m.schema);
      for (const sample of [{}, { bogus: 1 }, { state: 42 }, ...exampleArgs(m)]) {
        const a = structuredClone(sample);
        const b = structuredClone(sample);
        const verdict = (ok: boolean, data: unknown, errors: typeof runtime.errors) => ({ ok, data, errors: (errors ?? []).map((e) => `${e.keyword} ${e.instancePath} ${e.message}`) });
        expect({ module: m.name, ...verdict(gen[m.name](a), a, gen[m.name].errors) }).toEqual({ module: m.name, ...verdict(runtime(b), b, runtime.errors) });
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(3 * MODULES.length);
  });

  test('the registry uses a precompiled validator only when it was built from the same schema', () => {
    const file = MODULES.find((m) => m.name === 'file')!;
    const fake = Object.assign(() => false, { errors: [{ keyword: 'fake', instancePath: '', schemaPath: '#', params: {}, message: 'precompiled' }] });
    for (const [hash, expected] of [
      [schemaHash(file.schema), [{ path: '', message: 'precompiled' }]],
      ['stale', []],
    ] as const) {
      jest.isolateModules(() => {
        jest.doMock('../../runner/validators.generated', () => ({ file: fake, __schemaHashes: { file: hash } }), { virtual: true });
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { ModuleRegistry: Fresh } = require('../../runner/module-registry') as typeof import('../../runner/module-registry');
        expect(new Fresh().validate('file', { path: '/x' }).problems).toEqual(expected);
      });
    }
  });
});
