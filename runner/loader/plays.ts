/**
 * Playbook files and plays: import_playbook (flattened, with its tags, vars and when), play
 * keywords, roles, the four task sections and handlers, and the checks that need the whole play
 * (notify names a handler, static vars_files exist).
 */

import path from 'path';
import { posOf, type Pos } from '../yaml';
import { readCommon, type CommonOut } from './common';
import { didYouMean } from '../did-you-mean';
import { HOST_ORDERS, IMPORT_PLAYBOOK_KEYS, PLAY_KEYS, STRATEGIES, TASK_KEYS, UNSUPPORTED_PLAY_KEYS, stripFqcn } from './keywords';
import type { RoleLoader } from './roles';
import { keepSource } from './sources';
import type { Session } from './session';
import { newPlayState, type Scope, type TaskParser } from './tasks';
import type { BlockDef, Condition, PlayDef, TaskDef, TaskItem } from './types';
import { hasTemplate, isMapping, keyLoc, typeName, uniq, valueLoc, Values, type Obj } from './values';

/** What an import_playbook passes down to the plays it imports. */
export interface ImportContext {
  tags: string[];
  /** import vars override the imported plays' own vars (Ansible) */
  vars: Record<string, unknown>;
  /** conditions of every enclosing import_playbook */
  when: Array<string | boolean | number>;
  /** playbook files being imported, for cycles */
  chain: string[];
}

export class PlayParser {
  constructor(
    private readonly sess: Session,
    private readonly tasks: TaskParser,
    private readonly roles: RoleLoader,
  ) {}

  async playbookFile(file: string, ctx: ImportContext): Promise<PlayDef[]> {
    const data = await this.sess.yaml(file);
    if (data === undefined) return [];
    const top: Pos = { file, line: 1, column: 1 };
    if (data === null) {
      this.sess.error('the playbook is empty', top, "a playbook is a list of plays: '- hosts: all' followed by 'tasks:'");
      return [];
    }
    if (!Array.isArray(data)) {
      this.sess.error(`a playbook must be a list of plays, got ${typeName(data)}`, posOf(data) ?? top, "start each play with '- hosts: ...'");
      return [];
    }
    const plays: PlayDef[] = [];
    for (let i = 0; i < data.length; i++) {
      const entry = data[i];
      if (!isMapping(entry)) {
        this.sess.error(`a play must be a mapping (keyword: value), got ${typeName(entry)}`, valueLoc(data, i, file));
        continue;
      }
      const importKey = Object.keys(entry).find((k) => stripFqcn(k) === 'import_playbook');
      if (importKey) plays.push(...(await this.importPlaybook(entry, importKey, file, ctx)));
      else if ('include' in entry && !('hosts' in entry)) {
        this.sess.error("'include' of a playbook was removed from Ansible", keyLoc(entry, 'include', file), "use 'import_playbook: other.yml'");
      } else {
        const p = await this.play(entry, file, ctx);
        if (p) plays.push(p);
      }
    }
    return plays;
  }

  private async importPlaybook(raw: Obj, key: string, file: string, ctx: ImportContext): Promise<PlayDef[]> {
    const v = new Values(this.sess, file);
    const out: CommonOut = { tags: [] };
    for (const k of Object.keys(raw)) {
      if (k === key) continue;
      if (IMPORT_PLAYBOOK_KEYS.has(k)) readCommon(v, raw, k, out);
      else {
        this.sess.error(`'${k}' is not valid on import_playbook${didYouMean(k, IMPORT_PLAYBOOK_KEYS)}`, keyLoc(raw, k, file),
          k === 'hosts' ? 'import_playbook is an entry of its own: start the play with a new "- hosts:" item' : 'import_playbook takes: name, when, tags, vars');
      }
    }
    const target = raw[key];
    const at = valueLoc(raw, key, file);
    if (typeof target !== 'string' || target.trim() === '') {
      this.sess.error(`'import_playbook' needs a file name, got ${typeName(target)}`, at);
      return [];
    }
    if (hasTemplate(target)) {
      this.sess.error(`import_playbook is resolved when the playbook is loaded, so its file cannot be templated ('${target}')`, at);
      return [];
    }
    const resolved = path.resolve(path.dirname(file), target.trim());
    if (!(await this.sess.firstFile([resolved]))) {
      this.sess.error(`imported playbook '${target}' not found`, at, `looked for ${resolved}`);
      return [];
    }
    if (ctx.chain.includes(resolved)) {
      this.sess.error(`import_playbook cycle: ${[...ctx.chain.slice(ctx.chain.indexOf(resolved)), resolved].join(' -> ')}`, at);
      return [];
    }
    const when = out.when === undefined ? [] : Array.isArray(out.when) ? out.when : [out.when];
    return this.playbookFile(resolved, {
      tags: uniq([...ctx.tags, ...out.tags]),
      vars: { ...(out.vars ?? {}), ...ctx.vars },
      when: [...ctx.when, ...when],
      chain: [...ctx.chain, resolved],
    });
  }

  private async play(raw: Obj, file: string, ctx: ImportContext): Promise<PlayDef | undefined> {
    const v = new Values(this.sess, file);
    const dir = path.dirname(file);
    const loc = posOf(raw) ?? { file, line: 1, column: 1 };
    const out: CommonOut = { tags: [] };
    const d: Partial<PlayDef> = {};
    let collections: string[] = [];
    let looksLikeTask = false;
    for (const k of Object.keys(raw)) {
      const at = keyLoc(raw, k, file);
      if (!PLAY_KEYS.has(k)) {
        if (k in UNSUPPORTED_PLAY_KEYS) {
          this.sess.error(k === 'when' ? "'when' is not valid on a play" : `'${k}' is not supported by tsplay`, at, UNSUPPORTED_PLAY_KEYS[k]);
        } else {
          const taskish = TASK_KEYS.has(k) || this.tasks.catalog.has(stripFqcn(k));
          if (taskish) looksLikeTask = true;
          this.sess.error(`unknown play keyword '${k}'${didYouMean(k, PLAY_KEYS)}`, at,
            taskish ? `'${k}' belongs to a task: put tasks under 'tasks:'` : undefined);
        }
        continue;
      }
      if (readCommon(v, raw, k, out)) continue;
      switch (k) {
        case 'hosts':
          d.hosts = this.hosts(raw, file);
          break;
        case 'vars_files':
          d.varsFiles = await this.varsFiles(raw, dir, file);
          break;
        case 'gather_facts': {
          const b = v.bool(raw, k);
          if (b !== undefined) d.gatherFacts = b;
          break;
        }
        case 'serial':
          d.serial = this.serial(raw, file);
          break;
        case 'strategy': {
          const s = raw[k];
          if (typeof s === 'string' && ((STRATEGIES as readonly string[]).includes(s) || hasTemplate(s))) d.strategy = s;
          else {
            this.sess.error(`unknown strategy ${typeof s === 'string' ? `'${s}'${didYouMean(s, STRATEGIES)}` : typeName(s)}`, valueLoc(raw, k, file),
              `strategy is one of: ${STRATEGIES.join(', ')}`);
          }
          break;
        }
        case 'order': {
          const o = raw[k];
          if (typeof o === 'string' && ((HOST_ORDERS as readonly string[]).includes(o) || hasTemplate(o))) d.order = o;
          else {
            this.sess.error(`unknown host order ${typeof o === 'string' ? `'${o}'${didYouMean(o, HOST_ORDERS)}` : typeName(o)}`, valueLoc(raw, k, file),
              `order is one of: ${HOST_ORDERS.join(', ')}`);
          }
          break;
        }
        case 'collections': {
          const list = v.stringList(raw, k);
          if (list) collections = list;
          break;
        }
        case 'force_handlers': {
          const b = v.bool(raw, k);
          if (b !== undefined) d.forceHandlers = b;
          break;
        }
        case 'max_fail_percentage': {
          const m = raw[k];
          const n = typeof m === 'number' ? m : typeof m === 'string' && /^\s*\d+(\.\d+)?%?\s*$/.test(m) ? parseFloat(m) : NaN;
          if (Number.isFinite(n) && n >= 0 && n <= 100) d.maxFailPercentage = n;
          else this.sess.error(`'max_fail_percentage' must be a number from 0 to 100, got ${typeName(m)}`, valueLoc(raw, k, file));
          break;
        }
        default:
          break; // roles, task sections and handlers below
      }
    }
    if (!('hosts' in raw)) {
      this.sess.error("play has no 'hosts'", loc,
        looksLikeTask ? "this looks like a task: a playbook is a list of plays ('- hosts: all' with 'tasks:'); task files are imported with import_tasks" : "add 'hosts: <pattern>' (e.g. 'all' or a group name)");
    }

    const effectiveTags = uniq([...ctx.tags, ...out.tags]);
    const state = newPlayState([dir], collections);
    const scope: Scope = { file, dir, tags: effectiveTags, handler: false, imports: [file], roleChain: [], play: state };

    const roleTasks: TaskItem[] = [];
    if (raw.roles !== undefined && raw.roles !== null) {
      if (!Array.isArray(raw.roles)) {
        this.sess.error(`'roles' must be a list of roles, got ${typeName(raw.roles)}`, valueLoc(raw, 'roles', file));
      } else {
        for (let i = 0; i < raw.roles.length; i++) {
          const u = this.roles.entry(raw.roles[i], raw.roles, i, file);
          if (!u) continue;
          const b = await this.roles.use(u, scope, { dedupe: true, handlers: state.roleHandlers });
          if (b) roleTasks.push(b);
        }
      }
    }
    const preTasks = await this.tasks.list(raw.pre_tasks, raw, 'pre_tasks', scope);
    const tasks = await this.tasks.list(raw.tasks, raw, 'tasks', scope);
    const postTasks = await this.tasks.list(raw.post_tasks, raw, 'post_tasks', scope);
    const ownHandlers = await this.tasks.handlers(raw.handlers, raw, 'handlers', scope);
    // Ansible's order: roles' handlers, then the play's, then those of import_role tasks
    const handlers = [...state.roleHandlers, ...ownHandlers, ...state.importedHandlers];

    const { vars: ownVars, ...keywords } = out;
    const play: PlayDef = {
      ...keywords,
      loc,
      tags: out.tags,
      effectiveTags,
      hosts: d.hosts ?? '',
      vars: { ...(ownVars ?? {}), ...ctx.vars },
      varsFiles: d.varsFiles ?? [],
      roles: state.roles,
      preTasks,
      roleTasks,
      tasks,
      postTasks,
      handlers,
      gatherFacts: d.gatherFacts ?? true,
      strategy: d.strategy ?? 'linear',
      dir,
    };
    keepSource(play, raw);
    if (d.serial) play.serial = d.serial;
    if (d.maxFailPercentage !== undefined) play.maxFailPercentage = d.maxFailPercentage;
    if (d.order !== undefined) play.order = d.order;
    if (d.forceHandlers !== undefined) play.forceHandlers = d.forceHandlers;
    if (ctx.when.length) this.applyImportWhen(play, ctx.when);
    if (!state.dynamicRoles) this.checkNotify(play);
    return play;
  }

  /**
   * import_playbook's `when` holds for every task of the imported plays: as Ansible does, it is
   * put in front of each section (as a block), so the executor needs no play-level condition.
   */
  private applyImportWhen(play: PlayDef, when: Array<string | boolean | number>): void {
    const cond: Condition = when.length === 1 ? when[0] : when;
    const wrap = (items: TaskItem[]): TaskItem[] => {
      if (!items.length) return items;
      const b: BlockDef = { kind: 'block', loc: play.loc, when: cond, tags: [], effectiveTags: play.effectiveTags, block: items, rescue: [], always: [], dir: play.dir };
      return [b];
    };
    play.preTasks = wrap(play.preTasks);
    play.roleTasks = wrap(play.roleTasks);
    play.tasks = wrap(play.tasks);
    play.postTasks = wrap(play.postTasks);
  }

  private hosts(raw: Obj, file: string): string | undefined {
    const h = raw.hosts;
    const at = valueLoc(raw, 'hosts', file);
    if (typeof h === 'string' && h.trim() !== '') return h.trim();
    if (typeof h === 'number') return String(h);
    if (Array.isArray(h) && h.length && h.every((x) => typeof x === 'string' || typeof x === 'number')) return h.map(String).join(',');
    this.sess.error(`'hosts' must be a host pattern (e.g. 'all', 'db', 'web:&prod') or a list of them, got ${typeName(h)}`, at);
    return undefined;
  }

  private serial(raw: Obj, file: string): Array<number | string> | undefined {
    const val = raw.serial;
    const list = Array.isArray(val) ? val : [val];
    const out: Array<number | string> = [];
    let ok = list.length > 0;
    list.forEach((x, i) => {
      const at = Array.isArray(val) ? valueLoc(val, i, file) : valueLoc(raw, 'serial', file);
      if (typeof x === 'number' && Number.isInteger(x) && x >= 0) out.push(x);
      else if (typeof x === 'string' && /^\s*\d+\s*$/.test(x)) out.push(Number(x));
      else if (typeof x === 'string' && /^\s*\d+(\.\d+)?%\s*$/.test(x)) out.push(x.trim());
      else if (hasTemplate(x)) out.push(x as string);
      else {
        ok = false;
        this.sess.error(`'serial' must be a number of hosts, a percentage like "30%", or a list of those, got ${typeName(x)}`, at);
      }
    });
    return ok ? out : undefined;
  }

  /** vars_files entries; static ones that do not exist are reported now (templated ones at run time). */
  private async varsFiles(raw: Obj, dir: string, file: string): Promise<Array<string | string[]>> {
    const val = raw.vars_files;
    if (val === null || val === undefined) return [];
    const list = typeof val === 'string' ? [val] : Array.isArray(val) ? val : undefined;
    if (!list) {
      this.sess.error(`'vars_files' must be a list of file names, got ${typeName(val)}`, valueLoc(raw, 'vars_files', file));
      return [];
    }
    const out: Array<string | string[]> = [];
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      const at = Array.isArray(val) ? valueLoc(val, i, file) : valueLoc(raw, 'vars_files', file);
      const names = typeof e === 'string' ? [e] : Array.isArray(e) && e.every((x) => typeof x === 'string') ? (e as string[]) : undefined;
      if (!names || names.length === 0) {
        this.sess.error(`each vars_files entry must be a file name or a list of alternatives, got ${typeName(e)}`, at);
        continue;
      }
      out.push(typeof e === 'string' ? e : names);
      // with alternatives, one of them must exist; a templated name can only be judged at run time
      if (names.some(hasTemplate)) continue;
      const paths = names.map((n) => path.resolve(dir, n));
      if (!(await this.sess.firstFile(paths))) {
        this.sess.error(names.length === 1 ? `vars file '${names[0]}' not found` : `none of the vars files ${names.map((n) => `'${n}'`).join(', ')} exists`, at,
          `looked for ${paths.join(', ')}`);
      }
    }
    return out;
  }

  /** Every static notify must name a handler (by name, `role : name` or listen). */
  private checkNotify(play: PlayDef): void {
    const names = new Set<string>();
    for (const h of play.handlers) {
      if (h.name) {
        // a templated handler name can match anything: nothing can be said statically
        if (hasTemplate(h.name)) return;
        names.add(h.name);
        if (h.role) names.add(`${h.role.name} : ${h.name}`);
      }
      for (const l of h.listen ?? []) names.add(l);
    }
    const visit = (items: TaskItem[]): void => {
      for (const it of items) {
        if (it.kind === 'block') {
          visit(it.block);
          visit(it.rescue);
          visit(it.always);
        } else if (it.kind === 'task') this.checkTaskNotify(it, names);
      }
    };
    visit(play.preTasks);
    visit(play.roleTasks);
    visit(play.tasks);
    visit(play.postTasks);
    for (const h of play.handlers) this.checkTaskNotify(h, names);
  }

  private checkTaskNotify(t: TaskDef, names: Set<string>): void {
    for (const n of t.notify ?? []) {
      if (hasTemplate(n) || names.has(n)) continue;
      this.sess.error(`notify '${n}' matches no handler of the play${didYouMean(n, names)}`, this.tasks.notifyLoc.get(t) ?? t.loc,
        names.size ? `handlers: ${[...names].map((x) => `'${x}'`).join(', ')}` : 'the play has no handlers');
    }
  }
}
