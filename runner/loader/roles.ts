/**
 * Roles: finding them, reading their defaults/vars/meta/handlers/tasks, dependencies first,
 * each role once per play unless `allow_duplicates` or different params (Ansible's rule), and
 * turning each use into a block whose tasks carry the role.
 */

import path from 'path';
import type { SourceLocation } from '../errors';
import type { Pos } from '../yaml';
import { posOf } from '../yaml';
import { readCommon, type CommonOut } from './common';
import { COMMON_KEYS } from './keywords';
import type { Session } from './session';
import { keepSource } from './sources';
import { newPlayState, type Scope, type TaskParser } from './tasks';
import type { BlockDef, RoleRef, TaskDef, TaskItem } from './types';
import { hasTemplate, isIdentifier, isMapping, keyLoc, typeName, uniq, valueLoc, Values } from './values';

/** One use of a role: a `roles:` entry, a meta dependency, import_role or include_role. */
export interface RoleUse {
  name: string;
  /** where the name was written (for "role not found") */
  nameLoc: SourceLocation;
  loc: Pos;
  tasksFrom?: string;
  params: Record<string, unknown>;
  /** keywords of the entry (when, tags, become, ...), put on the role's block */
  keywords: CommonOut;
}

interface RoleFiles {
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  dependencies: unknown[];
  allowDuplicates: boolean;
  handlersFile?: string;
  metaFile?: string;
}

/** Keys of a role entry that are keywords; every other key is a role param. */
const ENTRY_KEYWORDS = new Set<string>([...COMMON_KEYS, 'role']);

const MAIN = ['main.yml', 'main.yaml', 'main'];
/** a role named by its collection: namespace.collection.role */
const FQ_ROLE = /^([A-Za-z_]\w*)\.([A-Za-z_]\w*)\.([A-Za-z_]\w*)$/;

export class RoleLoader {
  private readonly files = new Map<string, Promise<RoleFiles>>();
  private readonly checked = new Set<string>();

  constructor(
    private readonly sess: Session,
    private readonly tasks: TaskParser,
    private readonly rolesPath: string[],
    private readonly collectionsPath: string[] = [],
  ) {}

  /** Parse a `roles:` entry or a meta dependency: `name` or `{role: name, when, tags, ...params}`. */
  entry(raw: unknown, owner: unknown, index: number, file: string): RoleUse | undefined {
    const at = valueLoc(owner, index, file);
    if (typeof raw === 'string') {
      if (raw.trim() === '') {
        this.sess.error('empty role name', at);
        return undefined;
      }
      return { name: raw.trim(), nameLoc: at, loc: at, params: {}, keywords: { tags: [] } };
    }
    if (!isMapping(raw)) {
      this.sess.error(`a role entry must be a role name or a mapping with 'role:', got ${typeName(raw)}`, at);
      return undefined;
    }
    const nameKey = 'role' in raw ? 'role' : 'name' in raw ? 'name' : undefined;
    if (!nameKey) {
      this.sess.error("role entry has no 'role:'", posOf(raw) ?? at, "write '- role: <name>' (other keys are the role's params)");
      return undefined;
    }
    const name = raw[nameKey];
    if (typeof name !== 'string' || name.trim() === '') {
      this.sess.error(`'${nameKey}' must be a role name, got ${typeName(name)}`, valueLoc(raw, nameKey, file));
      return undefined;
    }
    const v = new Values(this.sess, file);
    const keywords: CommonOut = { tags: [] };
    const params: Record<string, unknown> = {};
    for (const k of Object.keys(raw)) {
      if (k === nameKey) continue;
      if (ENTRY_KEYWORDS.has(k) && readCommon(v, raw, k, keywords)) continue;
      if (!isIdentifier(k)) {
        this.sess.error(`'${k}' is not a valid role parameter name`, keyLoc(raw, k, file), 'role params are variable names');
        continue;
      }
      params[k] = raw[k];
    }
    // `vars:` on a role entry are role params in Ansible (same precedence as the extra keys)
    const { vars, name: _display, ...rest } = keywords;
    void _display;
    return { name: name.trim(), nameLoc: valueLoc(raw, nameKey, file), loc: posOf(raw) ?? at, params: { ...params, ...(vars ?? {}) }, keywords: rest };
  }

  /**
   * Directories searched for a role, in order: roles/ beside the playbook, the roles path, the
   * parent role's siblings (for dependencies), then the name as a path from the playbook.
   */
  candidates(name: string, bases: string[], parent?: RoleRef, collections: string[] = []): string[] {
    if (path.isAbsolute(name)) return [path.normalize(name)];
    // `namespace.collection.role`: ansible_collections/NS/COLL/roles/ROLE in the collections
    // path (collections/ beside the playbook first, as Ansible's adjacent collections)
    const fq = FQ_ROLE.exec(name);
    const inCollections = (ns: string, coll: string, role: string) => [...bases.map((b) => path.join(b, 'collections')), ...this.collectionsPath]
      .map((cp) => path.join(cp, 'ansible_collections', ns, coll, 'roles', role));
    if (fq) return uniq(inCollections(fq[1], fq[2], fq[3]).map((p) => path.resolve(p)));
    const c = [
      ...bases.map((b) => path.join(b, 'roles', name)),
      ...this.rolesPath.map((r) => path.resolve(r, name)),
      ...(parent ? [path.join(path.dirname(parent.path), name)] : []),
      ...bases.map((b) => path.resolve(b, name)),
      // a play's `collections:` lets short names find those collections' roles
      ...collections.flatMap((col) => {
        const m = /^([A-Za-z_]\w*)\.([A-Za-z_]\w*)$/.exec(col);
        return m ? inCollections(m[1], m[2], name) : [];
      }),
    ];
    return uniq(c.map((p) => path.resolve(p)));
  }

  private async find(name: string, at: SourceLocation, bases: string[], parent?: RoleRef, collections: string[] = []): Promise<string | undefined> {
    if (hasTemplate(name)) {
      this.sess.error(`role names are resolved when the playbook is loaded and cannot be templated ('${name}')`, at,
        'use include_role for a role chosen at run time');
      return undefined;
    }
    const c = this.candidates(name, bases, parent, collections);
    for (const dir of c) if ((await this.sess.kind(dir)) === 'dir') return dir;
    this.sess.error(`role '${name}' not found`, at, `searched: ${c.join(', ')}`);
    return undefined;
  }

  private async mainFile(dir: string): Promise<string | undefined> {
    return this.sess.firstFile(MAIN.map((m) => path.join(dir, m)));
  }

  private roleFiles(rolePath: string): Promise<RoleFiles> {
    let p = this.files.get(rolePath);
    if (!p) {
      p = this.readRoleFiles(rolePath);
      this.files.set(rolePath, p);
    }
    return p;
  }

  private async readRoleFiles(rolePath: string): Promise<RoleFiles> {
    const mapping = async (sub: string, what: string): Promise<Record<string, unknown>> => {
      const f = await this.mainFile(path.join(rolePath, sub));
      if (!f) return {};
      const data = await this.sess.yaml(f);
      if (data === undefined || data === null) return {};
      if (!isMapping(data)) {
        this.sess.error(`role ${what} must be a mapping of variables, got ${typeName(data)}`, posOf(data) ?? { file: f, line: 1, column: 1 });
        return {};
      }
      return keepSource(new Values(this.sess, f).vars({ data }, 'data') ?? {}, data);
    };
    const out: RoleFiles = {
      defaults: await mapping('defaults', 'defaults'),
      vars: await mapping('vars', 'vars'),
      dependencies: [],
      allowDuplicates: false,
      handlersFile: await this.mainFile(path.join(rolePath, 'handlers')),
    };
    const metaFile = await this.mainFile(path.join(rolePath, 'meta'));
    if (metaFile) {
      const meta = await this.sess.yaml(metaFile);
      if (isMapping(meta)) {
        const deps = meta.dependencies;
        if (Array.isArray(deps)) out.dependencies = deps;
        else if (deps !== null && deps !== undefined) {
          this.sess.error(`'dependencies' must be a list of roles, got ${typeName(deps)}`, valueLoc(meta, 'dependencies', metaFile));
        }
        if ('allow_duplicates' in meta) {
          const b = new Values(this.sess, metaFile).bool(meta, 'allow_duplicates');
          out.allowDuplicates = b === true;
        }
      } else if (meta !== null && meta !== undefined) {
        this.sess.error(`role meta must be a mapping, got ${typeName(meta)}`, posOf(meta) ?? { file: metaFile, line: 1, column: 1 });
      }
      out.metaFile = metaFile;
    }
    return out;
  }

  /**
   * Load one use of a role into a block (dependencies first, as nested blocks), adding its
   * RoleRef to the play and its handlers to `o.handlers`. Undefined when the role was already
   * used with the same params in this play, or could not be loaded.
   */
  async use(u: RoleUse, scope: Scope, o: { dedupe: boolean; handlers: TaskDef[]; parent?: RoleRef }): Promise<BlockDef | undefined> {
    const rolePath = await this.find(u.name, u.nameLoc, scope.play.roleBases, o.parent, scope.play.collections);
    if (!rolePath) return undefined;
    // a cycle is the same role *and* task file again: a role may import its own other files
    const link = u.tasksFrom === undefined ? rolePath : `${rolePath}\0${u.tasksFrom}`;
    if (scope.roleChain.includes(link)) {
      const shown = (l: string) => (l.includes('\0') ? `${path.basename(l.split('\0')[0])}(${l.split('\0')[1]})` : path.basename(l));
      this.sess.error(`role dependency cycle: ${[...scope.roleChain.slice(scope.roleChain.indexOf(link)), link].map(shown).join(' -> ')}`, u.nameLoc);
      return undefined;
    }
    const files = await this.roleFiles(rolePath);
    if (o.dedupe) {
      const key = `${rolePath}\0${JSON.stringify([u.params, u.keywords.when ?? null, u.keywords.tags, u.tasksFrom ?? null])}`;
      if (scope.play.seenRoles.has(key) && !files.allowDuplicates) return undefined;
      scope.play.seenRoles.add(key);
    }
    const ref: RoleRef = { name: path.basename(rolePath), path: rolePath, defaults: files.defaults, vars: files.vars, params: u.params };
    if (o.parent) ref.parent = o.parent;
    const effectiveTags = uniq([...scope.tags, ...u.keywords.tags]);
    const inner: Scope = {
      ...scope,
      role: ref,
      tags: effectiveTags,
      handler: false,
      imports: [],
      roleChain: [...scope.roleChain, link],
      notify: undefined,
    };

    const items: TaskItem[] = [];
    const metaFile = files.metaFile ?? path.join(rolePath, 'meta', 'main.yml');
    for (let i = 0; i < files.dependencies.length; i++) {
      const du = this.entry(files.dependencies[i], files.dependencies, i, metaFile);
      if (!du) continue;
      const b = await this.use(du, inner, { dedupe: true, handlers: o.handlers, parent: ref });
      if (b) items.push(b);
    }

    const tasksDir = path.join(rolePath, 'tasks');
    let tasksFile: string | undefined;
    if (u.tasksFrom !== undefined) {
      const base = path.resolve(tasksDir, u.tasksFrom);
      const c = uniq([base, `${base}.yml`, `${base}.yaml`]);
      tasksFile = await this.sess.firstFile(c);
      if (!tasksFile) this.sess.error(`tasks_from '${u.tasksFrom}' not found in role '${ref.name}'`, u.nameLoc, `searched: ${c.join(', ')}`);
    } else tasksFile = await this.mainFile(tasksDir);
    if (tasksFile) {
      items.push(...(await this.tasks.file(tasksFile, { ...inner, file: tasksFile, dir: path.dirname(tasksFile), imports: [tasksFile] })));
    }
    if (files.handlersFile) {
      const hf = files.handlersFile;
      o.handlers.push(...(await this.tasks.handlersFile(hf, { ...inner, file: hf, dir: path.dirname(hf), imports: [hf] })));
    }
    scope.play.roles.push(ref);

    const { name: _n, ...keywords } = u.keywords;
    void _n;
    return { kind: 'block', ...keywords, loc: u.loc, tags: u.keywords.tags, effectiveTags, block: items, rescue: [], always: [], role: ref, dir: rolePath };
  }

  /** include_role with a static name: load it once now, only to report its errors early. */
  async check(name: string, tasksFrom: string | undefined, at: Pos, tags: string[], scope: Scope): Promise<void> {
    const key = `${name}\0${tasksFrom ?? ''}\0${scope.play.roleBases.join('\0')}`;
    if (this.checked.has(key)) return;
    this.checked.add(key);
    const scratch = newPlayState(scope.play.roleBases, scope.play.collections);
    await this.use({ name, nameLoc: at, loc: at, tasksFrom, params: {}, keywords: { tags: [] } }, { ...scope, tags, play: scratch }, {
      dedupe: false,
      handlers: [],
    });
  }
}
