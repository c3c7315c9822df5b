/**
 * Running a module in a test: makeContext() builds a ModuleContext with trivial `{{ var }}`
 * rendering and a tiny condition evaluator; runModule()/validateArgs() are the engine's own
 * pipeline (runner/executor/run-module.ts) and argument validation (ModuleRegistry) over it.
 */

import Ajv from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { runModule as runEngineModule, type ModuleOutcome } from '../../runner/executor/run-module';
import type { ModuleContext, Plan, Probe, Remote, TsplayModule } from '../../runner/module-api';
import { ModuleRegistry } from '../../runner/module-registry';
import type { TestRemote } from './probe-view';

function lookup(vars: Record<string, unknown>, expr: string): { found: boolean; value: unknown } {
  let cur: unknown = vars;
  for (const part of expr.trim().split(/\.|\[['"]?|['"]?\]/).filter(Boolean)) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

function literal(vars: Record<string, unknown>, s: string): unknown {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^(['"]).*\1$/.test(t)) return t.slice(1, -1);
  if (t === 'true' || t === 'True') return true;
  if (t === 'false' || t === 'False') return false;
  const l = lookup(vars, t);
  if (!l.found) throw new Error(`undefined variable: ${t}`);
  return l.value;
}

/** A tiny condition language for tests: and / not / == / != / > / < / is (not) defined / truthiness. */
export function evalCondition(vars: Record<string, unknown>, cond: unknown): boolean {
  if (typeof cond === 'boolean') return cond;
  if (Array.isArray(cond)) return cond.every((c) => evalCondition(vars, c));
  const s = String(cond).trim();
  if (s.includes(' and ')) return s.split(' and ').every((c) => evalCondition(vars, c));
  if (s.startsWith('not ')) return !evalCondition(vars, s.slice(4));
  let m = /^(.+?) is (not )?defined$/.exec(s);
  if (m) return lookup(vars, m[1]).found !== Boolean(m[2]);
  m = /^(.+?)\s*(==|!=|>=|<=|>|<)\s*(.+)$/.exec(s);
  if (m) {
    const a = literal(vars, m[1]) as number;
    const b = literal(vars, m[3]) as number;
    switch (m[2]) {
      case '==':
        return a === b;
      case '!=':
        return a !== b;
      case '>':
        return a > b;
      case '<':
        return a < b;
      case '>=':
        return a >= b;
      default:
        return a <= b;
    }
  }
  return Boolean(literal(vars, s));
}

export interface ContextOptions {
  host?: string;
  vars?: Record<string, unknown>;
  check?: boolean;
  diff?: boolean;
  /** name -> controller path, consulted first by findFile */
  files?: Record<string, string>;
  /** findFile also looks in baseDir/<kind>/name and baseDir/name */
  baseDir?: string;
  signal?: AbortSignal;
  now?: () => number;
}

export interface TestContext<R extends Probe> extends ModuleContext<R> {
  logs: string[];
}

export function makeContext<R extends Probe>(remote: R, o: ContextOptions = {}): TestContext<R> {
  const vars = o.vars ?? {};
  const logs: string[] = [];
  return {
    host: o.host ?? 'testhost',
    remote,
    vars,
    check: o.check ?? false,
    diff: o.diff ?? false,
    logs,
    async render(template, extra = {}) {
      const all = { ...vars, ...extra };
      return template.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
        const l = lookup(all, expr);
        if (!l.found) throw new Error(`undefined variable: ${expr}`);
        return typeof l.value === 'string' ? l.value : JSON.stringify(l.value);
      });
    },
    async evaluate(c) {
      return evalCondition(vars, c);
    },
    async evaluateExpression(expr) {
      return literal(vars, expr);
    },
    async findFile(name, kind) {
      if (o.files?.[name]) return o.files[name];
      const candidates = path.isAbsolute(name)
        ? [name]
        : o.baseDir
          ? [path.join(o.baseDir, kind, name), path.join(o.baseDir, name)]
          : [];
      for (const c of candidates) if (fs.existsSync(c)) return c;
      throw new Error(`could not find ${kind} file '${name}' (searched: ${candidates.join(', ') || 'nothing'})`);
    },
    async readVarsFile(p) {
      const v = parseYaml(fs.readFileSync(p, 'utf8')) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${p}: not a mapping`);
      return v as Record<string, unknown>;
    },
    log(_level, message) {
      logs.push(message);
    },
    signal: o.signal ?? new AbortController().signal,
    now: o.now ?? (() => Date.now()),
  };
}

// ---------------------------------------------------------------------------------------------
// Validation and the engine's pipeline

const registry = new ModuleRegistry();
// A schema lint, not validation: strictTypes makes a sloppy schema fail the module's tests
// instead of warning; a type list is deliberate (a `mode` is a string or a YAML number, and under
// the runtime's coerceTypes only a type list, not anyOf, keeps the number a number).
const lint = new Ajv({ useDefaults: true, allErrors: true, strictTypes: true, allowUnionTypes: true });
const linted = new WeakSet<TsplayModule>();

/** The engine's registry module of that name, checked to be the one the test holds. */
function engineModule(mod: TsplayModule): TsplayModule {
  if (registry.get(mod.name) !== mod) throw new Error(`${mod.name}: not the module registered under that name (modules/index.ts)`);
  if (!linted.has(mod)) {
    lint.compile(mod.schema);
    linted.add(mod);
  }
  return mod;
}

/** The engine's argument validation (ModuleRegistry: yes/no booleans, ajv's coercion and defaults). */
export function validateArgs(mod: TsplayModule, args: unknown): { valid: boolean; args: any; errors: string[] } {
  const r = registry.validate(engineModule(mod).name, (args ?? {}) as Record<string, unknown>);
  return { valid: r.problems.length === 0, args: r.args, errors: r.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)) };
}

export interface RunResult {
  /** the arguments as validated and normalised by the registry */
  args: any;
  plan: Plan;
  /** what apply returned (undefined in check mode or when there was nothing to do) */
  result?: Record<string, unknown>;
  changed: boolean;
  /** the task's status and the result as `register` would store it, from the engine's runModule */
  status: ModuleOutcome['status'];
  registered: Record<string, unknown>;
  changes?: string[];
  diffs?: ModuleOutcome['diffs'];
}

/**
 * The engine's own pipeline (runner/executor/run-module.ts) over test contexts; both module
 * harnesses (this file's runModule, test/modules/ha/fake.ts's runTask) run modules through it.
 */
export function runPipeline(mod: TsplayModule, rawArgs: unknown, probe: ModuleContext<Probe>, apply: ModuleContext<Remote>): Promise<ModuleOutcome> {
  return runEngineModule(engineModule(mod), (rawArgs ?? {}) as Record<string, unknown>, { registry, contexts: async () => ({ probe, apply }) });
}

/** validate -> plan (probe view, whose mutating methods throw) -> apply unless check mode or nothing to do. */
export async function runModule(mod: TsplayModule, rawArgs: unknown, remote: TestRemote, o: ContextOptions = {}): Promise<RunResult> {
  const out = await runPipeline(mod, rawArgs, makeContext(remote.probeOnly(), o), makeContext<Remote>(remote, o));
  const { args, plan, applied, status, result, changes, diffs } = out;
  return { args, plan, result: applied, changed: status === 'changed', status, registered: result, changes, diffs };
}
