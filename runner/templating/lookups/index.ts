/**
 * Ansible's lookups, one implementation each, for both ways a playbook reaches them:
 * `lookup(name, ...)` / `query(name, ...)` / `q()` in an expression, and the `with_<name>:`
 * loops (runner/executor/loop-lookups.ts). Every lookup runs on the controller, as in Ansible,
 * also under --check (`pipe` runs its command, `password` creates its file).
 *
 * A lookup returns a list. `query()` (or `wantlist=True`) gives that list; `lookup()` gives, as
 * ansible-core 2.14 does, the strings joined with ',' when every item is a string, the item when
 * there is one, else the list. `errors='strict'` (default) fails the task, `'warn'` warns and
 * `'ignore'` does not: both then give none (lookup) or [] (query). An undefined variable is
 * always an error.
 *
 * Files are searched where the task's copy/template sources are (loader/controller-files.ts):
 * the executor puts the task's place on its variables under LOOKUP_CONTEXT.
 */

import { TemplateError, type SourceLocation } from '../../errors';
import { controllerFileCandidates } from '../../loader/controller-files';
import type { PlayDef, TaskDef } from '../../loader/types';
import { isPlainObject, MISSING, Undefined, UNDEFINED_HINT, undefinedError, useLookups, type Kwargs } from '../jinja';
import type { FunctionScope } from '../jinja/functions';
import { FILE_LOOKUPS } from './files';
import { HOST_LOOKUPS } from './host';
import { LIST_LOOKUPS } from './lists';
import { PASSWORD_LOOKUP } from './password';

/** Where the running task is, as the lookups need it; on a task's variables under LOOKUP_CONTEXT. */
export interface LookupContext {
  task: Pick<TaskDef, 'role' | 'dir'>;
  play: Pick<PlayDef, 'dir'>;
  /** a warning for the run's output (errors='warn') */
  warn?(message: string): void;
}

/** The key of a task's variables holding its LookupContext (a symbol: no template can name it). */
export const LOOKUP_CONTEXT = Symbol('tsplay.lookupContext');

export type ControllerKind = 'files' | 'templates' | 'vars';

/** What a lookup gets besides its terms and options. */
export interface LookupEnv {
  /** how errors name the lookup: lookup('file') or with_file */
  label: string;
  strict: boolean;
  /** a variable's value, or MISSING / an Undefined */
  variable(name: string): unknown;
  /** the names of the task's variables */
  variableNames(): string[];
  /** the directory relative paths are read from (the playbook's, as Ansible's basedir) */
  baseDir: string;
  /** the search list of a controller file, in order */
  candidates(name: string, kind: ControllerKind): string[];
  /** controller files found under `kind` (first_found in a with_ loop on a template task: templates) */
  subdir: ControllerKind;
  /** render a template file's text with the task's variables plus `extra` */
  render(text: string, file: string, extra: Record<string, unknown>): string;
  warn(message: string): void;
}

export interface LookupDef {
  run(terms: unknown[], kw: Kwargs, env: LookupEnv): unknown[];
  /** the keyword options it takes; any other is an error */
  options: readonly string[];
}

export const LOOKUPS: Record<string, LookupDef> = { ...LIST_LOOKUPS, ...FILE_LOOKUPS, ...HOST_LOOKUPS, password: PASSWORD_LOOKUP };

type Renderer = (text: string, vars: Record<string, unknown>, source: SourceLocation, strict: boolean) => string;
let renderer: Renderer | undefined;

/** The template engine's renderer, for the template lookup (set by runner/templating/index.ts). */
export function useTemplateRenderer(r: Renderer): void {
  renderer = r;
}

const NO_VARS: Record<string, unknown> = {};

function environment(label: string, vars: Record<string, unknown>, strict: boolean, subdir: ControllerKind, scope?: FunctionScope): LookupEnv {
  const ctx = (vars as { [LOOKUP_CONTEXT]?: LookupContext })[LOOKUP_CONTEXT];
  const task = ctx?.task ?? { dir: process.cwd() };
  const play = ctx?.play ?? { dir: process.cwd() };
  return {
    label,
    strict,
    subdir,
    variable: (n) => (scope ? scope.lookup(n) : Object.prototype.hasOwnProperty.call(vars, n) ? vars[n] : MISSING),
    variableNames: () => Object.keys(vars),
    baseDir: play.dir,
    candidates: (file, kind) => controllerFileCandidates(file, kind, task, play),
    render(text, file, extra) {
      if (!renderer) throw new TemplateError('internal: no template renderer for the template lookup');
      return renderer(text, Object.keys(extra).length ? overlay(vars, extra) : vars, { file }, strict);
    },
    warn: (m) => ctx?.warn?.(m),
  };
}

/** `vars` with `extra` on top, without reading (rendering) every variable of `vars`. */
function overlay(vars: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const own = (k: string | symbol) => typeof k === 'string' && Object.prototype.hasOwnProperty.call(extra, k);
  return new Proxy({} as Record<string, unknown>, {
    get: (_t, k) => (own(k) ? extra[k as string] : (vars as Record<string | symbol, unknown>)[k]),
    has: (_t, k) => own(k) || k in vars,
    ownKeys: () => [...new Set([...Object.keys(vars), ...Object.keys(extra)])],
    getOwnPropertyDescriptor: (_t, k) =>
      own(k) || Object.prototype.hasOwnProperty.call(vars, k) ? { enumerable: true, configurable: true, writable: true, value: own(k) ? extra[k as string] : (vars as Record<string | symbol, unknown>)[k] } : undefined,
  });
}

function undefinedVariable(e: unknown): boolean {
  return e instanceof TemplateError && e.hint === UNDEFINED_HINT;
}

/** The terms and options of one lookup call, run with its errors= handling. */
function runOne(name: string, terms: unknown[], kw: Kwargs, env: LookupEnv): unknown[] | undefined {
  const def = LOOKUPS[name];
  const label = env.label;
  const { errors = 'strict', ...options } = kw;
  if (errors !== 'strict' && errors !== 'warn' && errors !== 'ignore') {
    throw new TemplateError(`${label}: errors must be strict, warn or ignore, got '${String(errors)}'`);
  }
  for (const k of Object.keys(options)) {
    if (!def.options.includes(k)) {
      throw new TemplateError(`${label} has no option '${k}'`, undefined, def.options.length ? `its options: ${def.options.join(', ')}` : `it takes no options`);
    }
  }
  try {
    const out = def.run(terms, options, env);
    for (const v of out) if (v instanceof Undefined) throw undefinedError(v);
    return out;
  } catch (e) {
    if (undefinedVariable(e) || errors === 'strict') {
      if (e instanceof TemplateError && !e.message.startsWith(label) && !undefinedVariable(e)) e.message = `${label}: ${e.message}`;
      throw e;
    }
    if (errors === 'warn') env.warn(`${label}: ${(e as Error).message}`);
    return undefined;
  }
}

/** lookup()'s value of a lookup's list (see the header). */
function lookupValue(ran: unknown[]): unknown {
  if (ran.length === 0) return ran;
  if (ran.every((x) => typeof x === 'string')) return ran.join(',');
  return ran.length === 1 ? ran[0] : ran;
}

useLookups({
  has: (name) => Object.prototype.hasOwnProperty.call(LOOKUPS, name),
  names: () => Object.keys(LOOKUPS).sort(),
  run(name, terms, kw, scope, wantlist) {
    const env = environment(`lookup('${name}')`, scope.vars?.() ?? NO_VARS, scope.strict, 'files', scope);
    const ran = runOne(name, terms, kw, env);
    if (ran === undefined) return wantlist ? [] : null;
    return wantlist ? ran : lookupValue(ran);
  },
});

/**
 * The items of `with_<name>: terms` (terms already rendered): Ansible's listify, then the lookup.
 * `subdir`: where first_found looks (Ansible's: 'templates' on a template task, 'vars' on
 * include_vars, else 'files').
 */
export function loopLookup(name: string, terms: unknown, vars: Record<string, unknown>, strict: boolean, subdir: ControllerKind = 'files'): unknown[] {
  if (!Object.prototype.hasOwnProperty.call(LOOKUPS, name)) throw new TemplateError(`unknown lookup '${name}' for with_${name}`);
  const list = Array.isArray(terms) ? terms : terms === null || terms === undefined ? [] : [terms];
  const out = runOne(name, list, {}, environment(`with_${name}`, vars, strict, subdir));
  return out ?? [];
}

/** Terms or options that must be mappings (first_found's {files, paths}, subelements' flags). */
export function asMapping(v: unknown): Record<string, unknown> | undefined {
  return isPlainObject(v) ? v : undefined;
}
