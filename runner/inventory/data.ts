/**
 * The inventory as the parsers build it: groups, hosts, parent/child links and inline variables.
 * Parsers (INI, YAML) only call the add/set methods; `reconcile()` then links every top-level
 * group under `all`, fills `ungrouped`, computes depths and checks what needs the whole picture.
 */

import { InventoryError, SourceLocation } from '../errors';
import { checkInventoryVar } from './connection-vars';
import { closest } from './suggest';

export interface GroupData {
  name: string;
  /** hosts listed directly in the group, in the order first listed */
  hosts: string[];
  hostSet: Set<string>;
  children: string[];
  parents: string[];
  /** inline inventory variables (INI :vars, YAML vars) */
  vars: Record<string, unknown>;
  /** ansible_group_priority: orders groups of the same depth when merging variables */
  priority: number;
  /** longest path from `all` (0); parents always have a smaller depth than their children */
  depth: number;
  /** where the group was first defined (or first mentioned) */
  loc?: SourceLocation;
  /** defined by a hosts/children section, a YAML entry or as a child; not only by `[g:vars]` */
  declared: boolean;
  /** the first `[g:vars]` section, for the error when the group is defined nowhere */
  varsSectionLoc?: SourceLocation;
}

export interface HostData {
  name: string;
  /** position in inventory order */
  index: number;
  /** inline inventory variables (INI host line, YAML host mapping) */
  vars: Record<string, unknown>;
  /** groups the host is listed in directly */
  groups: string[];
  /** the inventory file that first defined the host (inventory_file) */
  file: string;
  /** where the host was first defined */
  loc?: SourceLocation;
}

export const PRIORITY_VAR = 'ansible_group_priority';

export class InventoryData {
  readonly groups = new Map<string, GroupData>();
  readonly hosts = new Map<string, HostData>();

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  /** Create the group if needed; `declare: false` for a mention that does not define it (`[g:vars]`). */
  addGroup(name: string, loc?: SourceLocation, declare = true): GroupData {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: [], hostSet: new Set(), children: [], parents: [], vars: {}, priority: 1, depth: 0, loc, declared: false };
      this.groups.set(name, g);
    }
    if (declare) g.declared = true;
    if (!g.loc && loc) g.loc = loc;
    return g;
  }

  /** Create the host if needed and list it in `group`; a port sets ansible_port. */
  addHost(name: string, file: string, group?: string, loc?: SourceLocation, port?: number): HostData {
    if (port !== undefined) checkInventoryVar('ansible_port', port, loc);
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, index: this.hosts.size, vars: {}, groups: [], file, loc };
      this.hosts.set(name, h);
      if (port !== undefined) h.vars.ansible_port = port;
    } else if (port !== undefined) {
      h.vars.ansible_port = port;
    }
    if (group) {
      const g = this.addGroup(group, loc);
      if (!g.hostSet.has(name)) {
        g.hostSet.add(name);
        g.hosts.push(name);
        h.groups.push(group);
      }
    }
    return h;
  }

  /** Link `child` under `parent`; a link that would make a cycle is an error at `loc`. */
  addChild(parent: string, child: string, loc?: SourceLocation): void {
    const p = this.addGroup(parent, loc);
    const c = this.addGroup(child, loc);
    if (p.children.includes(child)) return;
    if (parent === child) {
      throw new InventoryError(`group '${child}' cannot be a child of itself`, loc);
    }
    // a cycle exists if the new parent is already below the child
    const path = this.pathDown(child, parent);
    if (path) {
      throw new InventoryError(`making '${child}' a child of '${parent}' creates a cycle: ${[parent, ...path].join(' -> ')}`, loc,
        'a group cannot (indirectly) contain itself; remove one of these parent/child links');
    }
    p.children.push(child);
    c.parents.push(parent);
  }

  /** The chain of groups from `from` down to `to`, if `to` is a descendant of `from`. */
  private pathDown(from: string, to: string): string[] | null {
    const seen = new Set<string>();
    const walk = (name: string): string[] | null => {
      if (name === to) return [name];
      if (seen.has(name)) return null;
      seen.add(name);
      for (const c of this.groups.get(name)?.children ?? []) {
        const rest = walk(c);
        if (rest) return [name, ...rest];
      }
      return null;
    };
    return walk(from);
  }

  setGroupVar(group: string, key: string, value: unknown, loc?: SourceLocation): void {
    checkInventoryVar(key, value, loc);
    const g = this.addGroup(group, loc, false);
    if (key === PRIORITY_VAR) {
      // like Ansible: the priority is a property of the group, not a variable hosts see
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?[0-9]+$/.test(value.trim()) ? Number(value) : NaN;
      if (!Number.isInteger(n)) {
        throw new InventoryError(`${PRIORITY_VAR} of group '${group}' must be an integer, got ${JSON.stringify(value)}`, loc);
      }
      g.priority = n;
      return;
    }
    g.vars[key] = value;
  }

  setHostVar(host: string, key: string, value: unknown, loc?: SourceLocation): void {
    const h = this.hosts.get(host);
    if (!h) throw new Error(`internal: setHostVar on unknown host ${host}`);
    checkInventoryVar(key, value, loc);
    h.vars[key] = value;
  }

  /** Link top-level groups under `all`, fill `ungrouped`, compute depths, check names. */
  reconcile(): void {
    for (const g of this.groups.values()) {
      if (!g.declared && g.varsSectionLoc) {
        const others = [...this.groups.values()].filter((x) => x.declared).map((x) => x.name);
        const guess = closest(g.name, others);
        throw new InventoryError(`section [${g.name}:vars] is for a group that is defined nowhere: ${g.name}`, g.varsSectionLoc,
          guess ? `did you mean [${guess}:vars]?` : `define the group with a [${g.name}] or [${g.name}:children] section`);
      }
    }
    for (const g of this.groups.values()) {
      if (g.name !== 'all' && g.parents.length === 0) this.addChild('all', g.name);
    }
    const ungrouped = this.groups.get('ungrouped')!;
    for (const h of this.hosts.values()) {
      const real = h.groups.filter((n) => n !== 'all' && n !== 'ungrouped');
      if (real.length === 0 && !ungrouped.hostSet.has(h.name)) {
        ungrouped.hostSet.add(h.name);
        ungrouped.hosts.push(h.name);
        h.groups.push('ungrouped');
      } else if (real.length > 0 && ungrouped.hostSet.has(h.name)) {
        // listed before any section and also in a real group: the group wins, as in Ansible
        ungrouped.hostSet.delete(h.name);
        ungrouped.hosts.splice(ungrouped.hosts.indexOf(h.name), 1);
        h.groups = h.groups.filter((n) => n !== 'ungrouped');
      }
    }
    this.computeDepths();
    for (const h of this.hosts.values()) {
      const g = this.groups.get(h.name);
      if (g) {
        throw new InventoryError(`'${h.name}' is both a host and a group`, h.loc ?? g.loc,
          `rename one of them: host patterns could not tell them apart${g.loc ? ` (group defined at ${g.loc.file}${g.loc.line ? `:${g.loc.line}` : ''})` : ''}`);
      }
    }
  }

  /** depth = longest path from `all`, so that a group merges after every one of its ancestors. */
  private computeDepths(): void {
    const memo = new Map<string, number>();
    const depth = (name: string): number => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      const g = this.groups.get(name)!;
      let d = 0;
      for (const p of g.parents) d = Math.max(d, depth(p) + 1);
      memo.set(name, d);
      return d;
    };
    for (const g of this.groups.values()) g.depth = depth(g.name);
  }
}
