/**
 * Ansible-compatible inventories: INI, YAML and JSON files, directories of them, host lists;
 * group_vars/ and host_vars/; host patterns; the variable precedence of Ansible.
 *
 * Variable precedence of `hostVars(host)`, lowest first - Ansible's default order
 * (VARIABLE_PRECEDENCE), each step replacing top-level keys of the ones before (no deep merge):
 *
 *   1. inline vars of group `all` (INI [all:vars], YAML all.vars)
 *   2. inline vars of the host's other groups, in group order
 *   3. group_vars/all beside the inventory sources, then beside the playbook (addVarsDir)
 *   4. group_vars/<group> of the host's other groups: inventory dirs, then playbook dirs
 *   5. inline vars of the host (INI host line, YAML host mapping)
 *   6. host_vars/<host>: inventory dirs, then playbook dirs
 *
 * Group order: by depth (parents before children), then ansible_group_priority (default 1,
 * higher merges later and so wins), then name. Note that, as in Ansible, a group's inline vars
 * (2) lose against group_vars/all (3): keep defaults in group_vars/all and overrides in
 * group_vars/<group>, or inline - not split between the two.
 * With several inventory sources, each step takes the sources in order (so a later source's
 * group_vars/all beats an earlier source's group_vars/all, not its group_vars/web).
 *
 * Connection variables (ansible_host, ansible_port, ansible_user, ansible_connection,
 * ansible_become*, tsplay_* ...) are plain variables here; the executor interprets them.
 * `inventory_file`/`inventory_dir` are not in hostVars: see hostSource().
 */

import * as path from 'path';
import { InventoryError, SourceLocation } from '../errors';
import { GroupData, HostData, InventoryData, PRIORITY_VAR } from './data';
import { applySubscript, compileMatcher, isWildcard, parsePattern, splitSubscript } from './patterns';
import { readSources } from './sources';
import { closest } from './suggest';
import { InventoryWarning, loadVarsLayer, VarsLayer } from './vars-dirs';

export type { InventoryWarning } from './vars-dirs';
export { parsePattern } from './patterns';

export interface InventoryOptions {
  /** vault decryption for inventory files, group_vars/host_vars files and !vault values */
  decrypt?: (ciphertext: string, loc: SourceLocation) => string;
}

export interface HostSource {
  /** the inventory file that first defined the host ('' for -i host lists and implicit localhost) */
  file: string;
  dir: string;
  loc?: SourceLocation;
}

/** Names that, when no such host is in the inventory, select an implicit local host (as in Ansible). */
/** the "file" of hosts added by add_host / group_by */
const RUNTIME_FILE = '(added at run time)';

export const IMPLICIT_LOCALHOST_NAMES = ['localhost', '127.0.0.1', '::1'];

type Vars = Record<string, unknown>;

function compareGroups(a: GroupData, b: GroupData): number {
  return a.depth - b.depth || a.priority - b.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export class Inventory {
  /** legal but suspicious things found while loading (unused or shadowed vars files) */
  readonly warnings: InventoryWarning[] = [];
  private readonly playLayers: VarsLayer[] = [];
  private readonly implicit = new Map<string, HostData>();
  private readonly varsCache = new Map<string, Vars>();
  private readonly groupsOfCache = new Map<string, string[]>();
  private readonly groupHostsCache = new Map<string, string[]>();
  private readonly termCache = new Map<string, string[]>();
  private readonly selectCache = new Map<string, string[]>();
  private groupsDictCache: Record<string, string[]> | undefined;

  private constructor(
    private readonly data: InventoryData,
    /** inventory files read, absolute */
    readonly files: string[],
    /** directories whose group_vars/host_vars belong to the inventory */
    readonly basedirs: string[],
    private readonly invLayers: VarsLayer[],
    private readonly opts: InventoryOptions,
  ) {}

  /** Load inventory sources (files, directories, or host lists like "web1,web2,"); [] gives an empty inventory. */
  static async load(sources: string[], opts: InventoryOptions = {}): Promise<Inventory> {
    const data = new InventoryData();
    const set = await readSources(sources, data, { decrypt: opts.decrypt });
    data.reconcile();
    const warnings: InventoryWarning[] = [];
    const layers: VarsLayer[] = [];
    for (const dir of set.basedirs) {
      layers.push(await loadVarsLayer(dir, data.groups.keys(), Inventory.varsHostNames(data), { decrypt: opts.decrypt }, warnings));
    }
    const inv = new Inventory(data, set.files, set.basedirs, layers, opts);
    inv.warnings.push(...warnings);
    return inv;
  }

  private static varsHostNames(data: InventoryData): string[] {
    return [...data.hosts.keys(), ...IMPLICIT_LOCALHOST_NAMES];
  }

  /** Every host, in inventory order (the order first defined). */
  hostNames(): string[] {
    return [...this.data.hosts.keys()];
  }

  /** Every group, `all` and `ungrouped` first, then in the order first defined. */
  groupNames(): string[] {
    return [...this.data.groups.keys()];
  }

  hasHost(name: string): boolean {
    return this.data.hosts.has(name);
  }

  hasGroup(name: string): boolean {
    return this.data.groups.has(name);
  }

  /** Whether `name` is an implicit localhost created by a pattern (not in the inventory, not in `all`). */
  isImplicit(name: string): boolean {
    return !this.data.hosts.has(name) && this.implicit.has(name);
  }

  private host(name: string, loc?: SourceLocation): HostData {
    const h = this.data.hosts.get(name) ?? this.implicit.get(name);
    if (!h) {
      const guess = closest(name, this.data.hosts.keys());
      throw new InventoryError(`unknown host '${name}'`, loc, guess ? `did you mean '${guess}'?` : undefined);
    }
    return h;
  }

  private group(name: string): GroupData {
    const g = this.data.groups.get(name);
    if (!g) {
      const guess = closest(name, this.data.groups.keys());
      throw new InventoryError(`unknown group '${name}'`, undefined, guess ? `did you mean '${guess}'?` : undefined);
    }
    return g;
  }

  /**
   * Every group the host is in, with their ancestors and `all`, in variable-merge order
   * (depth, then ansible_group_priority, then name). An implicit localhost is in no group.
   */
  groupsOf(host: string): string[] {
    const cached = this.groupsOfCache.get(host);
    if (cached) return [...cached];
    const h = this.host(host);
    const found = new Set<string>();
    const climb = (name: string): void => {
      if (found.has(name)) return;
      found.add(name);
      for (const p of this.data.groups.get(name)!.parents) climb(p);
    };
    if (!this.isImplicit(host)) for (const g of h.groups) climb(g);
    const sorted = [...found].map((n) => this.data.groups.get(n)!).sort(compareGroups).map((g) => g.name);
    this.groupsOfCache.set(host, sorted);
    return [...sorted];
  }

  /** Hosts of a group and of all its descendants, in inventory order. */
  groupHosts(group: string): string[] {
    const cached = this.groupHostsCache.get(group);
    if (cached) return [...cached];
    let hosts: string[];
    if (group === 'all') hosts = this.hostNames();
    else {
      const set = new Set<string>();
      const seen = new Set<string>();
      const walk = (name: string): void => {
        if (seen.has(name)) return;
        seen.add(name);
        const g = this.data.groups.get(name)!;
        for (const h of g.hosts) set.add(h);
        for (const c of g.children) walk(c);
      };
      walk(this.group(group).name);
      hosts = [...set].sort((a, b) => this.data.hosts.get(a)!.index - this.data.hosts.get(b)!.index);
    }
    this.groupHostsCache.set(group, hosts);
    return [...hosts];
  }

  /** The magic variable `groups`: every group (with `all` and `ungrouped`) -> its hosts, inventory order. */
  groupsDict(): Record<string, string[]> {
    if (!this.groupsDictCache) {
      const out: Record<string, string[]> = {};
      for (const name of this.data.groups.keys()) out[name] = this.groupHosts(name);
      this.groupsDictCache = out;
    }
    const copy: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(this.groupsDictCache)) copy[k] = [...v];
    return copy;
  }

  /** The merged inventory variables of a host (see the precedence at the top of this file). */
  hostVars(host: string): Vars {
    let vars = this.varsCache.get(host);
    if (!vars) {
      vars = this.computeHostVars(host);
      this.varsCache.set(host, vars);
    }
    return { ...vars };
  }

  private computeHostVars(host: string): Vars {
    const h = this.host(host);
    const groups = this.groupsOf(host).filter((g) => g !== 'all');
    const layers = [...this.invLayers, ...this.playLayers];
    const all = this.data.groups.get('all')!;
    const out: Vars = { ...all.vars };
    for (const g of groups) Object.assign(out, this.data.groups.get(g)!.vars);
    for (const l of layers) Object.assign(out, l.groups.get('all')?.vars);
    for (const l of layers) for (const g of groups) Object.assign(out, l.groups.get(g)?.vars);
    Object.assign(out, h.vars);
    for (const l of layers) Object.assign(out, l.hosts.get(host)?.vars);
    return out;
  }

  /** Where the host was defined: inventory_file / inventory_dir. */
  hostSource(host: string): HostSource {
    const h = this.host(host);
    if (!h.file) return { file: '', dir: this.basedirs[0] ?? process.cwd(), loc: h.loc };
    return { file: h.file, dir: path.dirname(h.file), loc: h.loc };
  }

  /**
   * Add the group_vars/ and host_vars/ beside the playbook: they override the inventory's at
   * the same level. Adding the same directory twice changes nothing.
   */
  async addVarsDir(dir: string): Promise<void> {
    const abs = path.resolve(dir);
    if (this.playLayers.some((l) => l.dir === abs)) return;
    this.playLayers.push(await loadVarsLayer(abs, this.data.groups.keys(), Inventory.varsHostNames(this.data),
      { decrypt: this.opts.decrypt }, this.warnings));
    this.varsCache.clear();
  }

  /** add_host: the host (new or known) joins `groups`, with `vars` as host variables. */
  addRuntimeHost(name: string, groups: string[], vars: Vars): void {
    if (!groups.length) this.data.addHost(name, RUNTIME_FILE);
    for (const g of groups) this.data.addHost(name, RUNTIME_FILE, g);
    for (const [k, v] of Object.entries(vars)) this.data.setHostVar(name, k, v);
    this.changed();
  }

  /** group_by: `host` joins `group`, a child of `parents`. */
  addRuntimeGroup(host: string, group: string, parents: string[]): void {
    this.data.addHost(host, RUNTIME_FILE, group);
    for (const p of parents) if (p !== 'all') this.data.addChild(p, group);
    this.changed();
  }

  /** after a run-time change: new top-level groups go under all, and every cache is stale */
  private changed(): void {
    this.data.reconcile();
    this.varsCache.clear();
    this.groupsOfCache.clear();
    this.groupHostsCache.clear();
    this.termCache.clear();
    this.selectCache.clear();
    this.groupsDictCache = undefined;
  }

  /** Hosts matching an Ansible host pattern (see patterns.ts), in inventory order. */
  select(pattern: string, loc?: SourceLocation): string[] {
    const cached = this.selectCache.get(pattern);
    if (cached) return [...cached];
    const terms = parsePattern(pattern, loc);
    const ordered = [...terms.filter((t) => t.op === ''), ...terms.filter((t) => t.op === '&'), ...terms.filter((t) => t.op === '!')];
    if (ordered[0].op !== '') ordered.unshift({ op: '', expr: 'all' });
    let result = new Set<string>();
    for (const t of ordered) {
      const matched = t.op === '' && this.data.hosts.has(t.expr) ? [t.expr] : this.matchTerm(t.expr, pattern, loc);
      if (t.op === '') for (const h of matched) result.add(h);
      else if (t.op === '&') {
        const keep = new Set(matched);
        result = new Set([...result].filter((h) => keep.has(h)));
      } else for (const h of matched) result.delete(h);
    }
    const index = (h: string): number => this.data.hosts.get(h)?.index ?? Number.MAX_SAFE_INTEGER;
    const hosts = [...result].sort((a, b) => index(a) - index(b));
    this.selectCache.set(pattern, hosts);
    return [...hosts];
  }

  private matchTerm(term: string, pattern: string, loc?: SourceLocation): string[] {
    const cached = this.termCache.get(term);
    if (cached) return cached;
    const { expr, subscript } = splitSubscript(term);
    const found = new Set<string>();
    let groupMatched = false;
    if (!isWildcard(expr)) {
      if (this.data.groups.has(expr)) {
        groupMatched = true;
        for (const h of this.groupHosts(expr)) found.add(h);
      }
    } else {
      const match = compileMatcher(expr, pattern, loc);
      for (const g of this.data.groups.keys()) {
        if (match(g)) {
          groupMatched = true;
          for (const h of this.groupHosts(g)) found.add(h);
        }
      }
      for (const h of this.data.hosts.keys()) if (match(h)) found.add(h);
    }
    if (!groupMatched && !isWildcard(expr) && this.data.hosts.has(expr)) found.add(expr);
    if (found.size === 0 && IMPLICIT_LOCALHOST_NAMES.includes(expr)) found.add(this.implicitHost(expr).name);
    const byIndex = (a: string, b: string): number =>
      (this.data.hosts.get(a)?.index ?? Infinity) - (this.data.hosts.get(b)?.index ?? Infinity);
    const hosts = applySubscript([...found].sort(byIndex), subscript, term, loc);
    this.termCache.set(term, hosts);
    return hosts;
  }

  private implicitHost(name: string): HostData {
    let h = this.implicit.get(name);
    if (!h) {
      h = { name, index: Number.MAX_SAFE_INTEGER, vars: { ansible_connection: 'local' }, groups: [], file: '' };
      this.implicit.set(name, h);
    }
    return h;
  }

  /** Variables of a group itself: inline, then its group_vars files (what `ansible-inventory --export` shows). */
  groupVars(group: string): Vars {
    const g = this.group(group);
    const out: Vars = { ...g.vars };
    for (const l of [...this.invLayers, ...this.playLayers]) Object.assign(out, l.groups.get(group)?.vars);
    if (g.priority !== 1) out[PRIORITY_VAR] = g.priority;
    return out;
  }

  /** Variables of a host itself: inline, then its host_vars files. */
  ownHostVars(host: string): Vars {
    const h = this.host(host);
    const out: Vars = { ...h.vars };
    for (const l of [...this.invLayers, ...this.playLayers]) Object.assign(out, l.hosts.get(host)?.vars);
    return out;
  }

  /**
   * Like `ansible-inventory --list`: `_meta.hostvars` (merged variables) and each group's direct
   * hosts and children. With `export`, like `--list --export`: hostvars hold only each host's own
   * variables and each group carries its `vars`. Empty groups and empty keys are left out.
   */
  toListJSON(opts: { export?: boolean } = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const hostvars: Record<string, Vars> = {};
    for (const h of this.hostNames()) {
      const v = opts.export ? this.ownHostVars(h) : this.hostVars(h);
      if (Object.keys(v).length) hostvars[h] = v;
    }
    out._meta = { hostvars };
    const seen = new Set<string>();
    const format = (name: string): void => {
      const g = this.data.groups.get(name)!;
      const entry: Record<string, unknown> = {};
      out[name] = entry;
      if (name !== 'all' && g.hosts.length) entry.hosts = [...g.hosts];
      if (g.children.length) entry.children = [...g.children];
      if (opts.export) {
        const vars = this.groupVars(name);
        if (Object.keys(vars).length) entry.vars = vars;
      }
      for (const c of g.children) {
        if (!seen.has(c)) {
          seen.add(c);
          format(c);
        }
      }
      if (Object.keys(entry).length === 0) delete out[name];
    };
    format('all');
    return out;
  }

  /** Like `ansible-inventory --graph [group]`: the tree of groups and their direct hosts. */
  graph(group = 'all'): string {
    const lines: string[] = [];
    const line = (text: string, depth: number): void => {
      lines.push(depth ? '  |'.repeat(depth) + '--' + text : text);
    };
    const walk = (name: string, depth: number): void => {
      const g = this.data.groups.get(name)!;
      line(`@${name}:`, depth);
      for (const c of g.children) walk(c, depth + 1);
      if (name !== 'all') for (const h of g.hosts) line(h, depth + 1);
    };
    walk(this.group(group).name, 0);
    return lines.join('\n');
  }
}
