/**
 * The checks of a loaded playbook that need the template engine and the controller's files,
 * run before the first connection (by --syntax-check and by every run), so that input which
 * would fail mid-run changes nothing:
 *  - every template and expression that is written down: module arguments, `when` /
 *    `changed_when` / `failed_when` / `until`, names, loops, vars (play, block, task, role
 *    defaults and vars), environment, templated keywords: their syntax, and that each filter and
 *    test they name exists (Templar.check);
 *  - the files of `template` and `copy`, when `src` is not templated: they exist where the
 *    executor will look (the same order as its findFile), and a template's text compiles;
 *  - the same for the tasks of literal include_tasks / include_role targets (each once), whose
 *    problems are returned, not thrown: such a file may never be included on these hosts
 *    (--syntax-check shows them as warnings, with the loader's `Playbook.deferred`).
 * What depends on variables (a templated `src`, a `when` that renders to an expression) is left
 * for the run. All problems are thrown together; each names file:line:column.
 */

import fs from 'fs';
import path from 'path';
import { MultiError, TsplayError, ValidationError, type SourceLocation } from '../errors';
import { decodeUtf8, posOfValue } from '../yaml';
import { controllerFileCandidates, controllerSearchDirs } from './controller-files';
import type { Loader } from './index';
import { sourceOf } from './sources';
import type { IncludeDef, PlayDef, Playbook, RoleRef, TaskDef, TaskItem } from './types';
import { hasTemplate } from './values';

/** What the check needs from the template engine (runner/templating's Templar). */
export interface TemplateChecker {
  /** throws the first syntax error / unknown filter or test in `value` as a TemplateError */
  check(value: unknown, source?: SourceLocation, asCondition?: boolean): void;
  /** every problem of a template file and of the templates it includes, extends or imports */
  checkFile(text: string, file: string, opts: { commentStart?: string; commentEnd?: string; searchPath?: string[] }): TsplayError[];
}

export interface StaticCheckOptions {
  templar: TemplateChecker;
  /** module arguments the module evaluates itself as expressions (assert `that`, debug `var`) */
  rawArgs(module: string): readonly string[];
  /** loads static include_tasks / include_role targets */
  loader: Pick<Loader, 'loadTasksFile' | 'loadRole'>;
}

/** Keywords holding a boolean or a template (rendered as a condition when templated). */
const TEMPLATED_KEYWORDS = ['name', 'become', 'becomeUser', 'becomeMethod', 'becomeFlags', 'delegateTo', 'checkMode', 'diff', 'noLog', 'ignoreErrors', 'ignoreUnreachable', 'anyErrorsFatal', 'runOnce', 'retries', 'delay'] as const;
const YAML_KEY: Record<string, string> = {
  becomeUser: 'become_user',
  becomeMethod: 'become_method',
  becomeFlags: 'become_flags',
  delegateTo: 'delegate_to',
  checkMode: 'check_mode',
  noLog: 'no_log',
  ignoreErrors: 'ignore_errors',
  ignoreUnreachable: 'ignore_unreachable',
  anyErrorsFatal: 'any_errors_fatal',
  runOnce: 'run_once',
  changedWhen: 'changed_when',
  failedWhen: 'failed_when',
};

/** Module argument naming a controller file, where the executor looks for it, and when it is used. */
const LOCAL_FILES: Record<string, { arg: string; kind: 'templates' | 'files'; template: boolean; used(args: Record<string, unknown>): boolean }> = {
  template: { arg: 'src', kind: 'templates', template: true, used: () => true },
  copy: { arg: 'src', kind: 'files', template: false, used: (a) => a.content === undefined && (a.remote_src === undefined || a.remote_src === false || a.remote_src === 'no' || a.remote_src === 'false') },
};

/** Throws the problems of what will run; returns those of dynamic include targets. */
export async function staticCheck(pb: Playbook, opts: StaticCheckOptions): Promise<TsplayError[]> {
  const checker = new StaticChecker(opts);
  const errors = await checker.playbook(pb);
  if (errors.length === 1) throw errors[0];
  if (errors.length) throw new MultiError(errors);
  return checker.deferred;
}

class StaticChecker {
  private readonly errors: TsplayError[] = [];
  readonly deferred: TsplayError[] = [];
  private readonly seen = new Set<object>();
  private readonly includes = new Set<string>();

  constructor(private readonly o: StaticCheckOptions) {}

  async playbook(pb: Playbook): Promise<TsplayError[]> {
    for (const play of pb.plays) await this.play(play);
    return this.errors;
  }

  private async play(play: PlayDef): Promise<void> {
    const raw = sourceOf(play);
    this.value(play.hosts, at(raw, 'hosts', play.loc));
    this.vars(play.vars, raw?.vars, at(raw, 'vars', play.loc));
    play.varsFiles.forEach((f, i) => this.value(f, at(raw?.vars_files, i, at(raw, 'vars_files', play.loc))));
    this.keywords(play, raw);
    for (const r of play.roles) this.role(r, play.loc);
    for (const list of [play.preTasks, play.roleTasks, play.tasks, play.postTasks, play.handlers]) await this.items(list, play);
  }

  private role(r: RoleRef, fallback: SourceLocation): void {
    if (this.seen.has(r)) return;
    this.seen.add(r);
    for (const [what, vars] of [['defaults', r.defaults], ['vars', r.vars]] as const) {
      this.vars(vars, sourceOf(vars), { file: path.join(r.path, what), line: fallback.line ?? 1 });
    }
  }

  private async items(items: TaskItem[], play: PlayDef): Promise<void> {
    for (const it of items) {
      if (this.seen.has(it)) continue;
      this.seen.add(it);
      const raw = sourceOf(it);
      this.keywords(it, raw);
      this.vars(it.vars, raw?.vars, at(raw, 'vars', it.loc));
      if (it.environment !== undefined) this.value(it.environment, at(raw, 'environment', it.loc));
      if (it.role) this.role(it.role, it.loc);
      switch (it.kind) {
        case 'block':
          for (const list of [it.block, it.rescue, it.always]) await this.items(list, play);
          break;
        case 'task':
          // a handler that is an include_tasks is checked as the include it is
          if (it.include) await this.include(it.include, sourceOf(it.include), play);
          else this.task(it, raw, play);
          break;
        case 'include_tasks':
        case 'include_role':
          await this.include(it, raw, play);
          break;
        case 'meta':
          break;
      }
    }
  }

  /** when + the templated keywords every kind of item has */
  private keywords(it: { when?: unknown; loc: SourceLocation } & Partial<Record<(typeof TEMPLATED_KEYWORDS)[number], unknown>>, raw: Record<string, unknown> | undefined): void {
    if (it.when !== undefined) this.value(it.when, at(raw, 'when', it.loc), true);
    for (const k of TEMPLATED_KEYWORDS) {
      const v = it[k];
      if (typeof v === 'string' && hasTemplate(v)) this.value(v, at(raw, YAML_KEY[k] ?? k, it.loc));
    }
  }

  private task(t: TaskDef, raw: Record<string, unknown> | undefined, play: PlayDef): void {
    for (const k of ['changedWhen', 'failedWhen', 'until'] as const) {
      if (t[k] !== undefined) this.value(t[k], at(raw, YAML_KEY[k] ?? k, t.loc), true);
    }
    if (t.loop !== undefined) this.value(t.loop, t.loc);
    if (t.loopControl?.label !== undefined) this.value(t.loopControl.label, t.loc);
    t.notify?.forEach((n) => this.value(n, at(raw, 'notify', t.loc)));
    // the arguments, each at its own position when it was written as a mapping
    const argsLoc = at(raw, moduleKey(t, raw), t.loc);
    const written = [raw?.[moduleKey(t, raw)], raw?.args].filter((x) => x && typeof x === 'object');
    const rawArgs = new Set(this.o.rawArgs(t.module));
    for (const [k, v] of Object.entries(t.args)) {
      const loc = written.map((w) => posOfValue(w, k)).find((p) => p !== undefined) ?? argsLoc;
      this.value(v, loc, rawArgs.has(k));
    }
    const lf = LOCAL_FILES[t.module];
    const name = lf ? t.args[lf.arg] : undefined;
    if (!lf || typeof name !== 'string' || hasTemplate(name) || !lf.used(t.args)) return;
    const loc = written.map((w) => posOfValue(w, lf.arg)).find((p) => p !== undefined) ?? argsLoc;
    const { found, searched } = findLocal(name, lf.kind, t, play);
    if (!found) {
      this.errors.push(new ValidationError(`${t.module} src '${name}' not found`, loc, `searched: ${searched.join(', ')}`));
      return;
    }
    if (!lf.template) return;
    let text: string;
    try {
      // strict UTF-8, as the template module reads it: a bad byte is an error here too
      text = decodeUtf8(fs.readFileSync(found), found);
    } catch (e) {
      if (e instanceof TsplayError) this.errors.push(e);
      else this.errors.push(new ValidationError(`cannot read template ${found}: ${(e as Error).message}`, loc));
      return;
    }
    // the comment delimiters change what parses; the other options only the output
    const str = (k: string) => (typeof t.args[k] === 'string' && !hasTemplate(t.args[k]) ? (t.args[k] as string) : undefined);
    const searchPath = [path.dirname(found), ...controllerSearchDirs('templates', t, play)];
    this.errors.push(...this.o.templar.checkFile(text, found, { commentStart: str('comment_start_string'), commentEnd: str('comment_end_string'), searchPath }));
  }

  private async include(inc: IncludeDef, raw: Record<string, unknown> | undefined, play: PlayDef): Promise<void> {
    const targetLoc = at(raw, inc.kind, inc.loc);
    this.value(inc.target, targetLoc);
    if (inc.tasksFrom !== undefined) this.value(inc.tasksFrom, targetLoc);
    this.value(inc.params, at(raw, 'vars', inc.loc));
    if (inc.loop !== undefined) this.value(inc.loop, inc.loc);
    if (!inc.target || hasTemplate(inc.target) || (inc.tasksFrom !== undefined && hasTemplate(inc.tasksFrom))) return;
    const key = JSON.stringify([inc.kind, inc.target, inc.tasksFrom ?? null, inc.dir, inc.role?.path ?? null]);
    if (this.includes.has(key)) return;
    this.includes.add(key);
    const before = this.errors.length;
    try {
      if (inc.kind === 'include_tasks') {
        await this.items(await this.o.loader.loadTasksFile(inc.target, inc.dir, inc.role, [], inc.loc), play);
      } else {
        const r = await this.o.loader.loadRole(inc.target, inc.dir, {}, inc.tasksFrom, [], inc.loc);
        this.role(r.role, inc.loc);
        await this.items(r.tasks, play);
        await this.items(r.handlers, play);
      }
    } catch (e) {
      // what makes the target unloadable is already in the loader's Playbook.deferred
      if (!(e instanceof TsplayError)) throw e;
    } finally {
      for (const x of this.errors.splice(before)) if (!this.deferred.some((y) => y.describe() === x.describe())) this.deferred.push(x);
    }
  }

  /** vars: each value at its own position in the mapping it was written in */
  private vars(vars: Record<string, unknown> | undefined, written: unknown, fallback: SourceLocation): void {
    if (!vars) return;
    for (const [k, v] of Object.entries(vars)) this.value(v, (written && typeof written === 'object' ? posOfValue(written, k) : undefined) ?? fallback);
  }

  private value(v: unknown, loc: SourceLocation, asCondition = false): void {
    try {
      this.o.templar.check(v, loc, asCondition);
    } catch (e) {
      if (!(e instanceof TsplayError)) throw e;
      this.errors.push(e);
    }
  }
}

/** Position of `raw[key]`, else `fallback`. */
function at(raw: unknown, key: string | number, fallback: SourceLocation): SourceLocation {
  return (raw && typeof raw === 'object' ? posOfValue(raw, key) : undefined) ?? fallback;
}

/** The key the module was written under (`copy`, `ansible.builtin.copy`, `action`). */
function moduleKey(t: TaskDef, raw: Record<string, unknown> | undefined): string {
  if (!raw) return t.module;
  const keys = Object.keys(raw);
  return keys.find((k) => k === t.module || k.endsWith(`.${t.module}`)) ?? keys.find((k) => k === 'action' || k === 'local_action') ?? t.module;
}

/** The executor's lookup of a controller file (runner/executor/module-step.ts findFile), without the error. */
function findLocal(name: string, kind: 'templates' | 'files', task: TaskDef, play: PlayDef): { found?: string; searched: string[] } {
  const searched = controllerFileCandidates(name, kind, task, play);
  return { found: searched.find((c) => fs.existsSync(c)), searched };
}
