/**
 * Task lists: tasks, blocks, handlers, import_tasks/import_role (resolved here),
 * include_tasks/include_role (kept for the executor, but checked here when their target is
 * static), meta, the `k=v` and `action:` argument forms, loops, and static module arguments.
 */

import { promises as fs } from 'fs';
import path from 'path';
import { posOf, posOfKey, posOfValue, type Pos } from '../yaml';
import { INHERITED_FIELDS, readCommon, type CommonOut } from './common';
import { closest, didYouMean } from '../did-you-mean';
import {
  ACTION_KEYWORDS,
  BLOCK_KEYS,
  IMPORT_KEYS,
  INCLUDE_KEYS,
  INCLUDE_ROLE_ARGS,
  LOOP_CONTROL_KEYS,
  LOOP_KEYS,
  META_ACTIONS,
  TASK_KEYS,
  UNSUPPORTED_TASK_KEYS,
  stripFqcn,
  type MetaAction,
} from './keywords';
import { COMMAND_KV_KEYS, COMMAND_MODULES, KvSyntaxError, parseKv, tokenize, unquote } from './kv';
import { positionInScalar } from './scalar-pos';
import { keepSource, sourceOf } from './sources';
import type { RoleLoader } from './roles';
import type { Session } from './session';
import type { BlockDef, IncludeDef, MetaDef, ModuleCatalog, RoleRef, TaskDef, TaskItem } from './types';
import { hasTemplate, isMapping, keyLoc, typeName, uniq, valueLoc, Values, type Obj } from './values';

/** What a play collects while its task lists are read. */
export interface PlayState {
  /** directories whose roles/ subdirectory is searched first (the playbook's) */
  roleBases: string[];
  /** the play's `collections:` (searched for short role names) */
  collections: string[];
  roles: RoleRef[];
  /** handlers of `roles:` entries and their dependencies (run before the play's own, as in Ansible) */
  roleHandlers: TaskDef[];
  /** handlers of import_role tasks (after the play's own) */
  importedHandlers: TaskDef[];
  /** role path + params already used: a role runs once per play unless allow_duplicates */
  seenRoles: Set<string>;
  /** the play has include_role: handlers can arrive at run time, so notify cannot be checked */
  dynamicRoles: boolean;
}

export function newPlayState(roleBases: string[], collections: string[] = []): PlayState {
  return { roleBases, collections, roles: [], roleHandlers: [], importedHandlers: [], seenRoles: new Set(), dynamicRoles: false };
}

/** Where a task list is being read, and what it inherits. */
export interface Scope {
  file: string;
  dir: string;
  role?: RoleRef;
  /** effective tags of everything enclosing */
  tags: string[];
  handler: boolean;
  /** import_tasks chain, for cycles */
  imports: string[];
  /** role chain (dependencies, import_role), for cycles */
  roleChain: string[];
  play: PlayState;
  /** a block's notify, inherited by tasks that have none */
  notify?: string[];
}

type LoopOut = { loop?: unknown; loopLookup?: TaskDef['loopLookup']; loopControl?: TaskDef['loopControl'] };

/** an include_tasks in handlers also answers to topics */
const HANDLER_INCLUDE_KEYS = new Set<string>([...INCLUDE_KEYS, 'listen']);
const LOOP_WORDS = LOOP_KEYS.filter((k) => k !== 'loop_control') as string[];

export class TaskParser {
  roles!: RoleLoader;
  /** where each task's notify was written (TaskDef keeps only the task's position) */
  readonly notifyLoc = new WeakMap<TaskDef, Pos>();
  private readonly validated = new Set<string>();

  constructor(
    readonly sess: Session,
    readonly catalog: ModuleCatalog,
  ) {}

  /** A task list under `owner[key]` (null/missing is an empty list). */
  async list(raw: unknown, owner: unknown, key: string | number, scope: Scope, what = 'tasks'): Promise<TaskItem[]> {
    if (raw === null || raw === undefined) return [];
    if (!Array.isArray(raw)) {
      this.sess.error(`'${key}' must be a list of ${what}, got ${typeName(raw)}`, valueLoc(owner, key, scope.file));
      return [];
    }
    const out: TaskItem[] = [];
    for (let i = 0; i < raw.length; i++) out.push(...(await this.item(raw[i], raw, i, scope)));
    return out;
  }

  /** A whole tasks file. */
  async file(file: string, scope: Scope): Promise<TaskItem[]> {
    const data = await this.sess.yaml(file);
    if (data === undefined || data === null) return [];
    if (!Array.isArray(data)) {
      this.sess.error(`a tasks file must be a list of tasks, got ${typeName(data)}`, posOf(data) ?? { file, line: 1, column: 1 });
      return [];
    }
    const out: TaskItem[] = [];
    for (let i = 0; i < data.length; i++) out.push(...(await this.item(data[i], data, i, scope)));
    return out;
  }

  /** Handlers are plain tasks (import_tasks is flattened into them). */
  async handlers(raw: unknown, owner: unknown, key: string | number, scope: Scope): Promise<TaskDef[]> {
    const items = await this.list(raw, owner, key, { ...scope, handler: true }, 'handlers');
    return this.onlyTasks(items, scope);
  }

  async handlersFile(file: string, scope: Scope): Promise<TaskDef[]> {
    return this.onlyTasks(await this.file(file, { ...scope, handler: true }), scope);
  }

  private onlyTasks(items: TaskItem[], scope: Scope): TaskDef[] {
    const out: TaskDef[] = [];
    for (const it of items) {
      if (it.kind === 'task') out.push(it);
      else if (it.kind === 'include_tasks') {
        // Ansible runs an include as a handler: notified by its name or a `listen` topic
        const { kind: _k, target: _t, params: _p, parentTags: _pt, loop: _l, loopLookup: _ll, loopControl: _lc, ...common } = it;
        void _k, _t, _p, _pt, _l, _ll, _lc;
        const listen = (sourceOf(it) as Obj | undefined)?.listen;
        out.push({ ...common, kind: 'task', module: 'include_tasks', args: {}, include: it, ...(listen !== undefined ? { listen: (Array.isArray(listen) ? listen : [listen]).map(String) } : {}) });
      } else this.sess.error(`a handler must run a module; ${it.kind === 'block' ? 'blocks' : it.kind} cannot be used as handlers`, it.loc ?? { file: scope.file });
    }
    return out;
  }

  /** One entry of a task list; an import expands to several items. */
  async item(raw: unknown, parent: unknown, index: number, scope: Scope): Promise<TaskItem[]> {
    if (!isMapping(raw)) {
      this.sess.error(`a task must be a mapping (keyword: value), got ${typeName(raw)}`, valueLoc(parent, index, scope.file),
        raw === null ? 'remove the empty "-" entry' : undefined);
      return [];
    }
    const loc = posOf(raw) ?? valueLoc(parent, index, scope.file);
    if ('block' in raw || 'rescue' in raw || 'always' in raw) return this.block(raw, loc, scope);

    const actions: Array<{ key: string; name: string }> = [];
    const unknown: string[] = [];
    for (const k of Object.keys(raw)) {
      const n = stripFqcn(k);
      if (k === 'action' || k === 'local_action') actions.push({ key: k, name: k });
      else if (TASK_KEYS.has(k)) continue;
      else if (ACTION_KEYWORDS.has(n)) actions.push({ key: k, name: n });
      else if (this.catalog.has(n)) actions.push({ key: k, name: n });
      else if (n in UNSUPPORTED_TASK_KEYS) this.sess.error(`'${k}' is not supported by tsplay`, keyLoc(raw, k, scope.file), UNSUPPORTED_TASK_KEYS[n]);
      else if (/^with_[a-z_]+$/.test(n)) {
        this.sess.error(`'${k}' is not supported`, keyLoc(raw, k, scope.file),
          `use 'loop' (${LOOP_WORDS.filter((w) => w !== 'loop').join(', ')} are accepted)`);
      } else unknown.push(k);
    }

    const unknownModules = this.reportUnknown(raw, unknown, actions.length > 0, scope);
    if (actions.length > 1) {
      const [a, b] = actions;
      const both = !ACTION_KEYWORDS.has(a.name) && !ACTION_KEYWORDS.has(b.name) && a.name !== 'action' && a.name !== 'local_action';
      this.sess.error(`conflicting ${both ? 'modules' : 'actions'} '${a.key}' and '${b.key}': a task does exactly one thing`,
        keyLoc(raw, b.key, scope.file), 'split it into two tasks');
      return [];
    }
    if (actions.length === 0) {
      if (!unknownModules) {
        this.sess.error('task has no module', loc, "a task needs exactly one module key, e.g. 'command: ls' or 'debug: msg=hi'");
      }
      return [];
    }
    const { key, name } = actions[0];
    switch (name) {
      case 'import_tasks':
        return this.importTasks(raw, key, loc, scope);
      case 'include_tasks':
        return [await this.includeTasks(raw, key, loc, scope)];
      case 'import_role':
        return this.importRole(raw, key, loc, scope);
      case 'include_role':
        return [await this.includeRole(raw, key, loc, scope)];
      case 'meta': {
        const m = this.meta(raw, key, loc, scope);
        return m ? [m] : [];
      }
      default: {
        const t = await this.moduleTask(raw, key, name, loc, scope);
        return t ? [t] : [];
      }
    }
  }

  /**
   * Unknown keys: a misspelt keyword or a misspelt/unknown module, whichever the name is closest
   * to. Returns true when one was reported as a module (so "no module" is not said twice).
   */
  private reportUnknown(raw: Obj, unknown: string[], hasAction: boolean, scope: Scope): boolean {
    let reportedModule = false;
    const keywords = [...TASK_KEYS, 'block', 'rescue', 'always'];
    const modules = [...this.catalog.names(), ...ACTION_KEYWORDS];
    for (const k of unknown) {
      const n = stripFqcn(k);
      const kw = closest(k, keywords);
      const mod = closest(n, modules) ?? (n.includes('.') ? closest(n.slice(n.lastIndexOf('.') + 1), modules) : undefined);
      const asKeyword = kw && (!mod || kw.distance < mod.distance || (kw.distance === mod.distance && hasAction));
      const at = keyLoc(raw, k, scope.file);
      if (asKeyword) {
        this.sess.error(`unknown keyword '${k}' — did you mean '${kw.match}'?`, at);
      } else if (mod) {
        reportedModule = true;
        this.sess.error(`unknown module '${k}' — did you mean '${mod.match}'?`, at);
      } else if (hasAction) {
        this.sess.error(`unknown keyword '${k}'`, at, `task keywords are: ${[...TASK_KEYS].sort().join(', ')}`);
      } else {
        reportedModule = true;
        this.sess.error(`unknown module '${k}'`, at,
          n.includes('.') ? 'tsplay runs its own modules, not those of collections (roles of collections are found); they are listed by `tsplay doc --list`' : 'the modules are listed by `tsplay doc --list`');
      }
    }
    return reportedModule;
  }

  /**
   * Keywords of a non-module item: common ones are read into `out`; task-only ones are an error
   * ("'register' is not valid on include_tasks"). Loop keys are left for readLoop.
   */
  private readKeywords(v: Values, raw: Obj, skip: string, allowed: Set<string>, label: string, out: CommonOut, scope: Scope): void {
    for (const k of Object.keys(raw)) {
      if (k === skip) continue;
      if (readCommon(v, raw, k, out)) continue;
      if (allowed.has(k)) continue;
      if (TASK_KEYS.has(k) || BLOCK_KEYS.has(k)) {
        const loops = LOOP_WORDS.includes(k) && (label === 'import_tasks' || label === 'import_role');
        this.sess.error(`'${k}' is not valid on ${label}`, keyLoc(raw, k, scope.file),
          loops ? `use ${label.replace('import', 'include')} to loop` : undefined);
      }
    }
  }

  private base(scope: Scope, loc: Pos, out: CommonOut): { loc: Pos; tags: string[]; effectiveTags: string[]; dir: string; role?: RoleRef } {
    const b: { loc: Pos; tags: string[]; effectiveTags: string[]; dir: string; role?: RoleRef } = {
      loc,
      tags: out.tags,
      effectiveTags: uniq([...scope.tags, ...out.tags]),
      dir: scope.dir,
    };
    if (scope.role) b.role = scope.role;
    return b;
  }

  // ------------------------------------------------------------------ blocks

  private async block(raw: Obj, loc: Pos, scope: Scope): Promise<TaskItem[]> {
    const v = new Values(this.sess, scope.file);
    const out: CommonOut = { tags: [] };
    let notify: string[] | undefined;
    for (const k of Object.keys(raw)) {
      if (k === 'block' || k === 'rescue' || k === 'always') continue;
      if (readCommon(v, raw, k, out)) continue;
      if (k === 'notify') {
        notify = v.stringList(raw, k);
        continue;
      }
      const n = stripFqcn(k);
      const at = keyLoc(raw, k, scope.file);
      if (TASK_KEYS.has(k)) this.sess.error(`'${k}' is not valid on a block`, at, 'put it on the tasks inside the block');
      else if (ACTION_KEYWORDS.has(n) || this.catalog.has(n)) {
        this.sess.error(`a block cannot also run '${k}'`, at, "move it into a task inside 'block:'");
      } else if (n in UNSUPPORTED_TASK_KEYS) this.sess.error(`'${k}' is not supported by tsplay`, at, UNSUPPORTED_TASK_KEYS[n]);
      else this.sess.error(`unknown block keyword '${k}'${didYouMean(k, BLOCK_KEYS)}`, at);
    }
    if (!('block' in raw)) {
      const k = 'rescue' in raw ? 'rescue' : 'always';
      this.sess.error(`'${k}' without 'block'`, keyLoc(raw, k, scope.file), `'${k}' belongs to a 'block:' in the same mapping`);
      return [];
    }
    if (scope.handler) {
      this.sess.error('blocks cannot be used as handlers', loc);
      return [];
    }
    const b: BlockDef = keepSource<BlockDef>({ kind: 'block', ...out, ...this.base(scope, loc, out), block: [], rescue: [], always: [] }, raw);
    const child: Scope = { ...scope, tags: b.effectiveTags, notify: notify ?? scope.notify };
    b.block = await this.list(raw.block, raw, 'block', child);
    b.rescue = await this.list(raw.rescue, raw, 'rescue', child);
    b.always = await this.list(raw.always, raw, 'always', child);
    return [b];
  }

  // ------------------------------------------------------------------ module tasks

  private async moduleTask(raw: Obj, key: string, name: string, loc: Pos, scope: Scope): Promise<TaskDef | undefined> {
    const v = new Values(this.sess, scope.file);
    const out: CommonOut = { tags: [] };
    const t: Partial<TaskDef> = {};
    for (const k of Object.keys(raw)) {
      if (k === key || readCommon(v, raw, k, out)) continue;
      switch (k) {
        case 'register': {
          const r = v.identifier(raw, k);
          if (r !== undefined) t.register = r;
          break;
        }
        case 'notify': {
          const r = v.stringList(raw, k);
          if (r !== undefined) t.notify = r;
          break;
        }
        case 'listen': {
          if (!scope.handler) {
            this.sess.error("'listen' is only valid on handlers", keyLoc(raw, k, scope.file));
            break;
          }
          const r = v.stringList(raw, k);
          if (r !== undefined) t.listen = r;
          break;
        }
        case 'changed_when':
        case 'failed_when':
        case 'until': {
          const r = v.condition(raw, k);
          const field = k === 'changed_when' ? 'changedWhen' : k === 'failed_when' ? 'failedWhen' : 'until';
          if (r !== undefined) t[field] = r;
          break;
        }
        case 'retries':
        case 'delay': {
          const r = v.count(raw, k);
          if (r !== undefined) t[k] = r;
          break;
        }
        default:
          break; // loop keys, args, and unknown keys (already reported)
      }
    }

    // which module, and its arguments as written
    let module = name;
    let argsValue: unknown;
    let argsOwner: unknown = raw;
    let argsKey: string = key;
    let delegateTo: string | undefined;
    if (key === 'action' || key === 'local_action') {
      const resolved = this.actionForm(raw, key, scope);
      if (!resolved) return undefined;
      ({ module, argsValue } = resolved);
      if (resolved.mapping) {
        argsOwner = raw[key];
        argsKey = '';
      }
      if (key === 'local_action') {
        if ('delegate_to' in raw) this.sess.error("'local_action' and 'delegate_to' together", keyLoc(raw, 'delegate_to', scope.file), 'local_action already runs on localhost');
        delegateTo = 'localhost';
      }
    } else argsValue = raw[key];

    const argLoc = valueLoc(raw, key, scope.file);
    const inline = this.moduleArgs(module, argsValue, argLoc);
    if (inline === undefined) return undefined;
    let args = inline;
    let extra: Obj | undefined;
    if ('args' in raw) {
      if (isMapping(raw.args)) {
        extra = raw.args;
        // `args:` is the base; arguments written with the module win, as in Ansible
        args = { ...raw.args, ...inline };
      } else this.sess.error(`'args' must be a mapping of module arguments, got ${typeName(raw.args)}`, valueLoc(raw, 'args', scope.file));
    }

    const loop = await this.readLoop(v, raw, scope);
    const task: TaskDef = keepSource<TaskDef>({ kind: 'task', ...out, ...this.base(scope, loc, out), module, args, ...t }, raw);
    if (loop.loop !== undefined) task.loop = loop.loop;
    if (loop.loopLookup) task.loopLookup = loop.loopLookup;
    if (loop.loopControl) task.loopControl = loop.loopControl;
    if (delegateTo) task.delegateTo = delegateTo;
    if (t.notify) this.notifyLoc.set(task, valueLoc(raw, 'notify', scope.file));
    else if (scope.notify) task.notify = scope.notify;
    this.checkArgs(module, args, [argsKey ? (isMapping(argsValue) ? argsValue : undefined) : argsOwner, extra], argLoc);
    return task;
  }

  /** `action: copy src=a dest=b` or `action: {module: copy, src: a}` */
  private actionForm(raw: Obj, key: string, scope: Scope): { module: string; argsValue: unknown; mapping: boolean } | undefined {
    const val = raw[key];
    const at = valueLoc(raw, key, scope.file);
    let modName: string;
    let argsValue: unknown;
    let mapping = false;
    if (typeof val === 'string') {
      let tokens;
      try {
        tokens = tokenize(val);
      } catch (e) {
        if (!(e instanceof KvSyntaxError)) throw e;
        this.kvError(`cannot split '${key}'`, e, val, at);
        return undefined;
      }
      if (tokens.length === 0) {
        this.sess.error(`'${key}' names no module`, at);
        return undefined;
      }
      modName = tokens[0].text;
      argsValue = val.slice(tokens[0].end).replace(/^\s+/, '');
    } else if (isMapping(val)) {
      if (typeof val.module !== 'string') {
        this.sess.error(`'${key}' as a mapping needs 'module: <name>'`, at);
        return undefined;
      }
      modName = val.module;
      const rest: Obj = { ...val };
      delete rest.module;
      argsValue = rest;
      mapping = true;
    } else {
      this.sess.error(`'${key}' must be 'module k=v ...' or a mapping with 'module', got ${typeName(val)}`, at);
      return undefined;
    }
    // `action: {module: "{{ m }}"}`: the module is chosen per host at run time (Ansible allows it)
    if (mapping && hasTemplate(modName)) return { module: modName, argsValue, mapping };
    const module = stripFqcn(modName);
    if (ACTION_KEYWORDS.has(module)) {
      this.sess.error(`'${module}' cannot be used through '${key}'`, at, `write '${module}:' as the task's key`);
      return undefined;
    }
    if (!this.catalog.has(module)) {
      this.sess.error(`unknown module '${modName}'${didYouMean(module, this.catalog.names())}`, at);
      return undefined;
    }
    return { module, argsValue, mapping };
  }

  /** The module's arguments from what is written under its key. */
  private moduleArgs(module: string, value: unknown, at: Pos): Record<string, unknown> | undefined {
    const ff = this.catalog.freeForm(module);
    if (value === null || value === undefined || value === '') return {};
    if (isMapping(value)) return { ...value };
    if (typeof value === 'string') {
      // the command-like modules keep `a=b` words in the command unless Ansible knows the key
      const split = ff && COMMAND_MODULES.has(module) ? (k: string) => COMMAND_KV_KEYS.has(k) : () => true;
      let parsed;
      try {
        parsed = parseKv(value, split);
      } catch (e) {
        if (!(e instanceof KvSyntaxError)) throw e;
        this.kvError(`cannot split the arguments of '${module}'`, e, value, at);
        return undefined;
      }
      const args: Record<string, unknown> = { ...parsed.args };
      if (parsed.raw !== undefined) {
        if (!ff) {
          this.sess.error(`module '${module}' takes key=value arguments, not free-form text ('${shorten(parsed.raw)}')`, at,
            `write '${module}: key=value ...' or a mapping of arguments`);
          return undefined;
        }
        args[ff] = parsed.raw;
      }
      return args;
    }
    if (ff && (typeof value === 'number' || typeof value === 'boolean')) return { [ff]: String(value) };
    this.sess.error(`the arguments of '${module}' must be a mapping${ff ? ', a free-form string' : ''} or key=value text, got ${typeName(value)}`, at);
    return undefined;
  }

  /**
   * A k=v text that cannot be split, reported at the character where the trouble starts when
   * the source shows it (else at the value, saying which character).
   */
  private kvError(what: string, e: KvSyntaxError, scalar: string, at: Pos): void {
    const src = this.sess.source(at.file);
    const exact = src === undefined ? undefined : positionInScalar(src, at, scalar, e.offset);
    const where = exact ? '' : ` (character ${e.offset + 1} of the value)`;
    const hint = e.kind === 'quote'
      ? "quote values with spaces: key='a value'"
      : "template text must be complete inside one value; a literal '{{' is written {{ '{{' }}";
    this.sess.error(`${what}: ${e.message}${where}`, exact ?? at, hint);
  }

  /** Static argument check by the module's schema; each problem points at the argument. */
  private checkArgs(module: string, args: Record<string, unknown>, sources: Array<unknown>, fallback: Pos): void {
    if (hasTemplate(module)) return; // checked at run time, once the module is known
    for (const p of this.catalog.validateStatic(module, args)) {
      const argPath = p.path.replace(/^\//, '').split(/[./]/).filter((s) => s !== '');
      const unsupported = /unsupported|additional/i.test(p.message);
      let at: Pos | undefined;
      for (const src of sources) {
        at = locateArg(src, argPath, unsupported);
        if (at) break;
      }
      const name = argPath.join('.');
      const msg = name && !p.message.includes(`'${name}'`) && !p.message.includes(`'${argPath[argPath.length - 1]}'`)
        ? `module '${module}': argument '${name}' ${p.message}`
        : `module '${module}': ${p.message}`;
      this.sess.error(msg, at ?? fallback);
    }
  }

  // ------------------------------------------------------------------ loops

  private async readLoop(v: Values, raw: Obj, scope: Scope): Promise<LoopOut> {
    const out: LoopOut = {};
    const present = LOOP_WORDS.filter((k) => k in raw);
    if (present.length > 1) {
      this.sess.error(`'${present[0]}' and '${present[1]}' together: a task has one loop`, keyLoc(raw, present[1], scope.file));
    }
    const k = present[0];
    if (k) {
      const val = raw[k];
      const at = valueLoc(raw, k, scope.file);
      switch (k) {
        case 'loop':
        case 'with_list':
          if (Array.isArray(val) || typeof val === 'string') out.loop = val;
          else {
            this.sess.error(`'${k}' must be a list or a template giving a list, got ${typeName(val)}`, at,
              isMapping(val) ? "to loop over a mapping use \"{{ x | dict2items }}\" or 'with_dict'" : undefined);
          }
          break;
        case 'with_dict':
          // a written mapping (or a template) of the dict lookup; a written list cannot be one
          if (isMapping(val) || typeof val === 'string') {
            out.loop = val;
            out.loopLookup = 'dict';
          } else this.sess.error(`'with_dict' must be a mapping or one template expression like "{{ users }}", got ${typeName(val)}`, at);
          break;
        default: {
          // with_items, with_together, with_file, with_first_found, ...: the terms are rendered
          // per host, then the lookup makes the items (templating/lookups, as lookup() does)
          const kind = k.slice('with_'.length) as NonNullable<TaskDef['loopLookup']>;
          if (Array.isArray(val) || typeof val === 'string' || typeof val === 'number' || isMapping(val)) {
            out.loop = val;
            out.loopLookup = kind;
          } else this.sess.error(`'${k}' must be a list or a template giving a list, got ${typeName(val)}`, at);
          break;
        }
      }
    }
    if ('loop_control' in raw) {
      const lc = raw.loop_control;
      if (!isMapping(lc)) {
        this.sess.error(`'loop_control' must be a mapping (loop_var, index_var, label, pause), got ${typeName(lc)}`, valueLoc(raw, 'loop_control', scope.file));
      } else {
        const c: NonNullable<TaskDef['loopControl']> = {};
        for (const key of Object.keys(lc)) {
          if (!LOOP_CONTROL_KEYS.has(key)) {
            this.sess.error(`unknown loop_control key '${key}'${didYouMean(key, LOOP_CONTROL_KEYS)}`, keyLoc(lc, key, scope.file),
              `loop_control takes: ${[...LOOP_CONTROL_KEYS].join(', ')}`);
            continue;
          }
          if (key === 'loop_var' && typeof lc[key] === 'string' && hasTemplate(lc[key])) {
            c.loopVar = lc[key] as string; // rendered per host, checked as a name then
          } else if (key === 'loop_var' || key === 'index_var') {
            const r = v.identifier(lc, key);
            if (r !== undefined) c[key === 'loop_var' ? 'loopVar' : 'indexVar'] = r;
          } else if (key === 'extended' || key === 'extended_allitems') {
            const b = v.bool(lc, key);
            if (b !== undefined) c[key === 'extended' ? 'extended' : 'extendedAllitems'] = b;
          } else if (key === 'label') {
            const r = v.string(lc, key);
            if (r !== undefined) c.label = r;
          } else {
            const p = lc.pause;
            if (typeof p === 'number' && p >= 0) c.pause = p;
            else this.sess.error(`'pause' must be a number of seconds, got ${typeName(p)}`, valueLoc(lc, key, scope.file));
          }
        }
        out.loopControl = c;
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ imports and includes

  /** The file of import_tasks/include_tasks: `import_tasks: x.yml` or `{file: x.yml}`. */
  private fileArg(raw: Obj, key: string, scope: Scope): string | undefined {
    const val = raw[key];
    if (typeof val === 'string' && val.trim() !== '') {
      // the k=v spelling Ansible also reads: `include_tasks: file=x.yml`
      const kv = /^file=(\S+)$/.exec(val.trim());
      return kv ? unquote(kv[1]) : val.trim();
    }
    if (isMapping(val)) {
      for (const k of Object.keys(val)) {
        if (k !== 'file') {
          this.sess.error(`unknown ${key} option '${k}'${k === 'apply' ? '' : didYouMean(k, ['file'])}`, keyLoc(val, k, scope.file),
            k === 'apply' ? "'apply' is not supported: put the keywords on the included tasks or a block" : `${key} takes only 'file'`);
        }
      }
      if (typeof val.file === 'string' && val.file.trim() !== '') return val.file.trim();
    }
    this.sess.error(`'${key}' needs a file name, got ${typeName(val)}`, valueLoc(raw, key, scope.file));
    return undefined;
  }

  /** Where a tasks file is looked for: inside a role its tasks/ first, else beside the current file. */
  /**
   * Where a tasks file named relative is looked for: in a role, its tasks/ (handlers/ for a
   * handler file) and the including file's directory; else that directory and its tasks/; and
   * last, as Ansible's search path ends, the playbooks' directories.
   */
  tasksFileCandidates(target: string, fromDir: string, role?: RoleRef, playDirs: string[] = [], handler = false): string[] {
    if (path.isAbsolute(target)) return [target];
    const c = role
      ? [...(handler ? [path.join(role.path, 'handlers', target)] : []), path.join(role.path, 'tasks', target), path.join(fromDir, target)]
      : [path.join(fromDir, target), path.join(fromDir, 'tasks', target)];
    return uniq([...c, ...playDirs.map((d) => path.join(d, target))].map((p) => path.resolve(p)));
  }

  private async importTasks(raw: Obj, key: string, loc: Pos, scope: Scope): Promise<TaskItem[]> {
    const v = new Values(this.sess, scope.file);
    const out: CommonOut = { tags: [] };
    this.readKeywords(v, raw, key, IMPORT_KEYS, key, out, scope);
    const target = this.fileArg(raw, key, scope);
    if (target === undefined) return [];
    const at = valueLoc(raw, key, scope.file);
    if (hasTemplate(target)) {
      this.sess.error(`import_tasks is resolved when the playbook is loaded, so its file cannot be templated ('${target}')`, at,
        'use include_tasks for a file chosen at run time');
      return [];
    }
    const candidates = this.tasksFileCandidates(target, scope.dir, scope.role, scope.play.roleBases, scope.handler);
    const file = await this.sess.firstFile(candidates);
    if (!file) {
      this.sess.error(`imported file '${target}' not found`, at, `searched: ${candidates.join(', ')}`);
      return [];
    }
    if (scope.imports.includes(file)) {
      this.sess.error(`import_tasks cycle: ${[...scope.imports.slice(scope.imports.indexOf(file)), file].join(' -> ')}`, at);
      return [];
    }
    const b = this.base(scope, loc, out);
    const items = await this.file(file, {
      ...scope,
      file,
      dir: path.dirname(file),
      tags: b.effectiveTags,
      imports: [...scope.imports, file],
    });
    if (!INHERITED_FIELDS.some((f) => out[f] !== undefined)) return items;
    if (scope.handler) {
      this.sess.error('import_tasks in handlers can only carry tags', at, 'put the keywords on the handlers in the imported file');
      return [];
    }
    // the import's keywords apply to every imported task: a block carries them (no name, so
    // nothing extra is shown)
    const { name: _name, ...keywords } = out;
    void _name;
    const block: BlockDef = { kind: 'block', ...keywords, ...b, block: items, rescue: [], always: [] };
    return [block];
  }

  private async includeTasks(raw: Obj, key: string, loc: Pos, scope: Scope): Promise<IncludeDef> {
    const v = new Values(this.sess, scope.file);
    const out: CommonOut = { tags: [] };
    // as a handler it may `listen` (read by onlyTasks)
    this.readKeywords(v, raw, key, scope.handler ? HANDLER_INCLUDE_KEYS : INCLUDE_KEYS, key, out, scope);
    const target = this.fileArg(raw, key, scope) ?? '';
    const loop = await this.readLoop(v, raw, scope);
    // its own tags select the include; the included tasks get only the enclosing ones (Ansible)
    const inc: IncludeDef = keepSource<IncludeDef>({ kind: 'include_tasks', ...out, ...this.base(scope, loc, out), target, params: { ...(out.vars ?? {}) }, parentTags: scope.tags }, raw);
    if (loop.loop !== undefined) inc.loop = loop.loop;
    if (loop.loopLookup) inc.loopLookup = loop.loopLookup;
    if (loop.loopControl) inc.loopControl = loop.loopControl;
    // read now for --syntax-check, but its problems are the run's only if it is included
    if (target && !hasTemplate(target)) await this.sess.defer(() => this.checkInclude(target, valueLoc(raw, key, scope.file), inc.parentTags, scope));
    return inc;
  }

  /**
   * A literal include_tasks target is read at load time, so --syntax-check reports a missing
   * file or a mistake in it (as a warning) and the static check can look at its templates. Each
   * file is checked once (includes may recurse on purpose).
   */
  private async checkInclude(target: string, at: Pos, tags: string[], scope: Scope): Promise<void> {
    const candidates = this.tasksFileCandidates(target, scope.dir, scope.role, scope.play.roleBases);
    const file = await this.sess.firstFile(candidates);
    if (!file) {
      this.sess.error(`included file '${target}' not found`, at, `searched: ${candidates.join(', ')}`);
      return;
    }
    const key = `${file}\0${scope.role?.path ?? ''}`;
    if (this.validated.has(key)) return;
    this.validated.add(key);
    await this.file(file, {
      ...scope,
      file,
      dir: path.dirname(file),
      tags,
      imports: [file],
      notify: undefined,
      // roles imported by the included file belong to it at run time, not to this play
      play: newPlayState(scope.play.roleBases, scope.play.collections),
    });
  }

  /** `name=x tasks_from=y`, `{name: x, tasks_from: y}` or a bare role name. */
  private roleArgs(raw: Obj, key: string, scope: Scope): { name?: string; tasksFrom?: string } {
    const val = raw[key];
    const at = valueLoc(raw, key, scope.file);
    let args: Obj;
    if (typeof val === 'string') {
      try {
        const p = parseKv(val);
        args = { ...p.args };
        if (p.raw !== undefined) args.name = p.raw;
      } catch (e) {
        if (!(e instanceof KvSyntaxError)) throw e;
        this.kvError(`cannot split '${key}'`, e, val, at);
        return {};
      }
    } else if (isMapping(val)) args = val;
    else {
      this.sess.error(`'${key}' needs 'name: <role>', got ${typeName(val)}`, at);
      return {};
    }
    const out: { name?: string; tasksFrom?: string } = {};
    for (const k of Object.keys(args)) {
      const kat = isMapping(val) ? keyLoc(val, k, scope.file) : at;
      if (!INCLUDE_ROLE_ARGS.has(k)) {
        const unsupported = ['vars_from', 'defaults_from', 'handlers_from', 'apply', 'public', 'allow_duplicates', 'rolespec_validate'].includes(k);
        this.sess.error(unsupported ? `${key} option '${k}' is not supported by tsplay` : `unknown ${key} option '${k}'${didYouMean(k, INCLUDE_ROLE_ARGS)}`, kat,
          `${key} takes: name, tasks_from (role params go under the task's 'vars:')`);
        continue;
      }
      const s = args[k];
      if (typeof s !== 'string' || s.trim() === '') {
        this.sess.error(`'${k}' of ${key} must be a string, got ${typeName(s)}`, isMapping(val) ? valueLoc(val, k, scope.file) : at);
        continue;
      }
      if (k === 'name') out.name = s.trim();
      else out.tasksFrom = s.trim();
    }
    if (out.name === undefined && !Object.keys(args).some((k) => k === 'name')) {
      this.sess.error(`'${key}' needs 'name: <role>'`, at);
    }
    return out;
  }

  private async includeRole(raw: Obj, key: string, loc: Pos, scope: Scope): Promise<IncludeDef> {
    const v = new Values(this.sess, scope.file);
    const out: CommonOut = { tags: [] };
    this.readKeywords(v, raw, key, INCLUDE_KEYS, key, out, scope);
    const { name, tasksFrom } = this.roleArgs(raw, key, scope);
    const loop = await this.readLoop(v, raw, scope);
    // Ansible passes include_role's task vars to the role as its params
    const inc: IncludeDef = keepSource<IncludeDef>({ kind: 'include_role', ...out, ...this.base(scope, loc, out), target: name ?? '', params: { ...(out.vars ?? {}) }, parentTags: scope.tags }, raw);
    if (tasksFrom !== undefined) inc.tasksFrom = tasksFrom;
    if (loop.loop !== undefined) inc.loop = loop.loop;
    if (loop.loopLookup) inc.loopLookup = loop.loopLookup;
    if (loop.loopControl) inc.loopControl = loop.loopControl;
    scope.play.dynamicRoles = true;
    if (scope.handler) this.sess.error('include_role cannot be used as a handler', loc);
    else if (name && !hasTemplate(name) && !(tasksFrom && hasTemplate(tasksFrom))) {
      await this.sess.defer(() => this.roles.check(name, tasksFrom, valueLoc(raw, key, scope.file), inc.parentTags, scope));
    }
    return inc;
  }

  private async importRole(raw: Obj, key: string, loc: Pos, scope: Scope): Promise<TaskItem[]> {
    const v = new Values(this.sess, scope.file);
    const out: CommonOut = { tags: [] };
    this.readKeywords(v, raw, key, IMPORT_KEYS, key, out, scope);
    const { name, tasksFrom } = this.roleArgs(raw, key, scope);
    if (!name) return [];
    const at = valueLoc(raw, key, scope.file);
    if (hasTemplate(name) || (tasksFrom && hasTemplate(tasksFrom))) {
      this.sess.error('import_role is resolved when the playbook is loaded, so its name and tasks_from cannot be templated', at,
        'use include_role for a role chosen at run time');
      return [];
    }
    if (scope.handler) {
      this.sess.error('import_role cannot be used in handlers', loc);
      return [];
    }
    const { vars, name: _n, ...keywords } = out;
    void _n;
    const block = await this.roles.use(
      { name, nameLoc: at, loc, tasksFrom, params: { ...(vars ?? {}) }, keywords },
      scope,
      { dedupe: false, handlers: scope.play.importedHandlers },
    );
    return block ? [block] : [];
  }

  private meta(raw: Obj, key: string, loc: Pos, scope: Scope): MetaDef | undefined {
    const v = new Values(this.sess, scope.file);
    const out: CommonOut = { tags: [] };
    this.readKeywords(v, raw, key, IMPORT_KEYS, 'meta', out, scope);
    const val = raw[key];
    const at = valueLoc(raw, key, scope.file);
    if (typeof val !== 'string') {
      this.sess.error(`'meta' must be one of ${META_ACTIONS.join(', ')}, got ${typeName(val)}`, at);
      return undefined;
    }
    const action = val.trim();
    if (!(META_ACTIONS as readonly string[]).includes(action)) {
      this.sess.error(`unknown meta action '${action}'${didYouMean(action, META_ACTIONS)}`, at, `meta takes: ${META_ACTIONS.join(', ')}`);
      return undefined;
    }
    if (scope.handler) {
      this.sess.error('meta cannot be used as a handler', loc);
      return undefined;
    }
    return keepSource<MetaDef>({ kind: 'meta', ...out, ...this.base(scope, loc, out), action: action as MetaAction }, raw);
  }
}

function shorten(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** The position of an argument (by its path) inside the mapping it was written in, if it was. */
function locateArg(src: unknown, argPath: string[], keyWanted: boolean): Pos | undefined {
  if (!src || typeof src !== 'object' || argPath.length === 0) return undefined;
  let cur: unknown = src;
  let at: Pos | undefined;
  for (let i = 0; i < argPath.length; i++) {
    if (!cur || typeof cur !== 'object') break;
    const seg: string | number = Array.isArray(cur) ? Number(argPath[i]) : argPath[i];
    if (!(seg in (cur as object))) break;
    const last = i === argPath.length - 1;
    at = (last && keyWanted ? posOfKey(cur, seg) : posOfValue(cur, seg)) ?? at;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return at;
}
