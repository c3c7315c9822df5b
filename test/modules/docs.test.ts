/**
 * Each module's documentation exists once: in its defineModule fields (description, notes,
 * example, checkMode, returns) and its schema's descriptions, which `tsplay doc` prints. The
 * file's JSDoc header only says why the module exists and points there.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { MODULES, getModule } from '../../modules/index';
import { moduleDoc } from '../../runner/cli';
import { Loader, type TaskDef, type TaskItem } from '../../runner/loader';
import type { TsplayModule } from '../../runner/module-api';
import { ModuleRegistry } from '../../runner/module-registry';
import { runTsplay } from '../helpers/run-tsplay';

type Schema = { properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; description?: string };

/** Every argument, nested ones as `a.b`, with its schema. */
function argumentsOf(schema: Schema, prefix = ''): Array<[string, Schema]> {
  const out: Array<[string, Schema]> = [];
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    out.push([prefix + k, s]);
    const sub = [s, s.items, ...(s.anyOf ?? []), ...(s.oneOf ?? [])].find((c) => c?.properties);
    if (sub) out.push(...argumentsOf(sub, `${prefix}${k}.`));
  }
  return out;
}

function tasksOf(items: TaskItem[]): TaskDef[] {
  return items.flatMap((i) => (i.kind === 'task' ? [i] : 'block' in i ? [...tasksOf(i.block), ...tasksOf(i.rescue ?? []), ...tasksOf(i.always ?? [])] : []));
}

test('every registered module is in this suite, one file per module named as it', () => {
  const files = fs.readdirSync(path.join(__dirname, '../../modules')).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  expect(files.map((f) => f.replace(/\.ts$/, '')).sort()).toEqual(MODULES.map((m) => m.name).sort());
});

describe.each(MODULES.map((m) => m.name))('%s: documented once, in its fields', (name) => {
  const mod = getModule(name) as TsplayModule;
  const src = fs.readFileSync(path.join(__dirname, '../../modules', `${name}.ts`), 'utf8');

  test('the JSDoc header is a short why-comment pointing to the fields, not a second copy', () => {
    expect(src.startsWith(`/**\n * ${name}: `)).toBe(true);
    const header = src.slice(0, src.indexOf('*/'));
    expect(header).toContain(`tsplay doc ${name}`);
    // the sections that used to repeat the fields (and drifted from them)
    expect(header).not.toMatch(/^ \* *(Arguments|Example|Check mode|Result|Facts)\b.*:/m);
    expect(header.split('\n').length).toBeLessThanOrEqual(10);
  });

  test('description, example and checkMode are there; every argument (nested too) has a description', () => {
    expect(mod.description.trim().length).toBeGreaterThan(10);
    expect(mod.description).not.toContain('\n');
    expect(mod.example.trim().length).toBeGreaterThan(0);
    expect(mod.checkMode.trim().length).toBeGreaterThan(10);
    for (const [k, s] of argumentsOf(mod.schema as Schema)) expect([k, typeof s.description, (s.description ?? '').trim() !== '']).toEqual([k, 'string', true]);
  });

  test('the example is YAML that the loader accepts as playbook tasks, using this module', async () => {
    const tasks = parse(mod.example) as Array<Record<string, unknown>>;
    expect(Array.isArray(tasks)).toBe(true);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tsplay-doc-${name}-`));
    try {
      // the files an example names exist in a real project: give the loader's src checks some
      for (const t of tasks) {
        const args = (t.template ?? t.copy) as { src?: string } | undefined;
        if (args?.src) for (const d of ['templates', 'files']) fs.mkdirSync(path.join(dir, d), { recursive: true }), fs.writeFileSync(path.join(dir, d, args.src), 'x\n');
      }
      const notified = tasks.flatMap((t) => [t.notify ?? []].flat() as string[]);
      const play = { hosts: 'all', gather_facts: false, tasks, handlers: notified.map((n) => ({ name: n, debug: { msg: n } })) };
      const file = path.join(dir, 'site.yml');
      fs.writeFileSync(file, stringify([play]));
      const pb = await new Loader({ modules: new ModuleRegistry() }).loadPlaybook(file);
      const loaded = tasksOf(pb.plays[0].tasks);
      expect(loaded).toHaveLength(tasks.length);
      expect(loaded.some((t) => t.module === name)).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('tsplay doc shows each argument with its description, the notes, check mode, result and the example', () => {
    const doc = moduleDoc(mod);
    expect(doc.startsWith(`${name}: ${mod.description}\n`)).toBe(true);
    for (const [k, s] of argumentsOf(mod.schema as Schema)) {
      expect(doc).toMatch(new RegExp(`^ +${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(required\\))?: `, 'm'));
      expect(doc).toContain(s.description!);
    }
    const section = (title: string, text: string) => `${title}\n${text.trimEnd().split('\n').map((l) => (l ? `  ${l}` : '')).join('\n')}\n`;
    expect(doc).toContain(section('CHECK MODE', mod.checkMode));
    expect(doc).toContain(section('EXAMPLE', mod.example));
    if (mod.returns) expect(doc).toContain(section('RESULT', mod.returns));
    if (mod.notes) expect(doc).toContain(mod.notes.split('\n').map((l) => (l ? `  ${l}` : '')).join('\n'));
  });
});

test('the CLI prints that text: tsplay doc service, and the list', () => {
  const r = runTsplay(['doc', 'service']);
  expect([r.code, r.stderr]).toEqual([0, '']);
  expect(r.stdout).toBe(moduleDoc(getModule('service')!));
  const list = runTsplay(['doc', '--list']);
  expect(list.code).toBe(0);
  for (const m of MODULES) expect(list.stdout).toMatch(new RegExp(`^${m.name} +${m.description.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
});
