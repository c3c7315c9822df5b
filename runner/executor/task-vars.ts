/**
 * A task's variables as Ansible layers them (role defaults ... extra vars, plus the magic
 * variables), read lazily (vars.ts), and hostvars; the play's vars_files; the names and tags
 * that are templated with the play's shared variables.
 */

import path from 'path';
import { TsplayError, ValidationError } from '../errors';
import type { RoleRef, TaskDef } from '../loader/types';
import { LOOKUP_CONTEXT, type LookupContext } from '../templating/lookups';
import type { RunContext } from './context';
import type { HostState } from './host-state';
import { OMIT, renderedNames, roleChain, type PlayRun, type Scope } from './scope';
import { hasTemplate, lazyVars, mergeLayers, type Vars } from './vars';

const MAGIC = new Set([
  'inventory_hostname',
  'inventory_hostname_short',
  'group_names',
  'groups',
  'hostvars',
  'play_hosts',
  'ansible_play_hosts',
  'ansible_play_hosts_all',
  'ansible_play_batch',
  'ansible_check_mode',
  'ansible_diff_mode',
  'ansible_verbosity',
  'playbook_dir',
  'inventory_dir',
  'inventory_file',
  'role_name',
  'role_path',
  'omit',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_facts',
]);

export class VarsBuilder {
  private readonly resolvedInventory = new Map<string, Promise<Vars>>();

  constructor(private readonly x: RunContext) {}

  async loadVarsFiles(run: PlayRun, scope: Scope): Promise<void> {
    // vars_files may be templated per host; files are read once per distinct path
    const cache = new Map<string, Promise<Vars>>();
    for (const h of run.hosts) {
      const merged: Vars = {};
      for (const entry of run.play.varsFiles) {
        const candidates = Array.isArray(entry) ? entry : [entry];
        let loaded = false;
        let lastErr: unknown;
        for (const c of candidates) {
          const ctx = await this.taskVars(run, h, scope, undefined);
          const rendered = String(await this.x.s.templar.renderValue(c, ctx, run.play.loc));
          const file = path.resolve(run.play.dir, rendered);
          try {
            let p = cache.get(file);
            if (!p) {
              p = this.x.s.readVarsFile(file);
              cache.set(file, p);
            }
            Object.assign(merged, await p);
            loaded = true;
            break;
          } catch (e) {
            lastErr = e;
          }
        }
        if (!loaded) throw lastErr instanceof TsplayError ? lastErr : new ValidationError(`vars_files: cannot load ${String(entry)}`, run.play.loc);
      }
      run.varsFiles.set(h.name, merged);
    }
  }

  async inventoryVars(name: string): Promise<Vars> {
    let p = this.resolvedInventory.get(name);
    if (!p) {
      p = (async () => {
        const v = { ...this.x.s.inventory.hostVars(name) };
        return v;
      })();
      this.resolvedInventory.set(name, p);
    }
    return p;
  }

  /** hostvars: a lazily filled view of every host's inventory vars + facts + runtime facts. */
  hostvarsProxy(): Vars {
    const cache = new Map<string, Vars>();
    const known = (key: string) => this.x.s.inventory.hasHost(key) || this.x.hosts.has(key);
    const lookup = (key: string): Vars | undefined => {
      if (!known(key)) return undefined;
      let v = cache.get(key);
      if (!v) {
        const h = this.x.host(key);
        // a host known only to the run (implicit localhost given facts by delegate_facts) has no inventory vars
        const inv = this.x.s.inventory.hasHost(key) ? this.x.s.inventory.hostVars(key) : {};
        const raw = { ...inv, ...h.facts, ...h.included, ...h.runtime, inventory_hostname: key, group_names: this.groupNames(key) };
        const literal = new Set([...Object.keys(h.facts), ...Object.keys(h.included), ...Object.keys(h.runtime), 'inventory_hostname', 'group_names']);
        v = lazyVars(this.x.s.templar, raw, literal);
        cache.set(key, v);
      }
      return v;
    };
    return new Proxy({} as Vars, {
      get: (_t, key) => (typeof key === 'string' ? lookup(key) : undefined),
      has: (_t, key) => typeof key === 'string' && known(key),
      ownKeys: () => this.x.s.inventory.hostNames(),
      getOwnPropertyDescriptor: (_t, key) =>
        typeof key === 'string' && known(key) ? { enumerable: true, configurable: true, value: lookup(key) } : undefined,
    });
  }

  groupNames(host: string): string[] {
    if (!this.x.s.inventory.hasHost(host)) return [];
    return this.x.s.inventory.groupsOf(host).filter((g) => g !== 'all' && g !== 'ungrouped').sort();
  }

  async taskVars(run: PlayRun, h: HostState, scope: Scope, task: { vars?: Vars; dir?: string; role?: RoleRef } | undefined, extra?: Vars): Promise<Vars> {
    const play = run.play;
    const role = scope.role;
    const src = this.x.s.inventory.hasHost(h.name) ? this.x.s.inventory.hostSource(h.name) : undefined;
    const ctx = mergeLayers([
      ...play.roles.map((r) => r.defaults),
      role?.defaults,
      await this.inventoryVars(h.name),
      h.facts,
      play.vars,
      run.varsFiles.get(h.name),
      // the vars of every static role of the play are public to the whole play (Ansible's
      // default, private_role_vars off), also to tasks before an import_role
      ...play.roles.map((r) => r.vars),
      // a meta dependency sees the vars, then the params, of the roles depending on it (Ansible's
      // dep_chain), its own last
      ...roleChain(role).map((r) => r.vars),
      ...roleChain(role).map((r) => r.params),
      ...scope.vars,
      task?.vars,
      h.included,
      h.runtime,
      extra,
      this.x.o.extraVars,
    ]);
    Object.assign(ctx, {
      inventory_hostname: h.name,
      inventory_hostname_short: h.name.split('.')[0],
      group_names: this.groupNames(h.name),
      groups: this.x.s.inventory.groupsDict(),
      hostvars: this.hostvarsProxy(),
      play_hosts: run.hosts.filter((x) => x.active).map((x) => x.name),
      // as Ansible: failed and unreachable hosts leave both; play_hosts spans every batch
      ansible_play_hosts: run.allNames.filter((n) => this.x.host(n).active),
      ansible_play_batch: run.hosts.filter((x) => x.active).map((x) => x.name),
      ansible_play_hosts_all: run.allNames,
      ansible_check_mode: this.x.o.check,
      ansible_diff_mode: this.x.o.diff,
      ansible_verbosity: this.x.o.verbosity,
      ansible_run_tags: this.x.o.tags.length ? this.x.o.tags : ['all'],
      ansible_skip_tags: this.x.o.skipTags,
      playbook_dir: play.dir,
      inventory_dir: src?.dir ?? null,
      inventory_file: src?.file ?? null,
      omit: OMIT,
      ansible_facts: (h.facts.ansible_facts as Vars) ?? {},
    });
    if (role) Object.assign(ctx, { role_name: role.name, role_path: role.path });
    // where the task's lookups search controller files (a symbol: no template can read it)
    const lookupCtx: LookupContext = {
      task: { dir: task?.dir ?? play.dir, role: task?.dir ? task.role : role },
      play: { dir: play.dir },
      warn: (message) => this.x.s.emit({ type: 'warning', message }),
    };
    (ctx as Record<symbol, unknown>)[LOOKUP_CONTEXT] = lookupCtx;
    // the address a connection uses: the inventory name unless set (Ansible's task vars have it)
    if (ctx.ansible_host === undefined) ctx.ansible_host = h.name;
    // registered results, set_fact values and facts are data: never rendered again
    const literal = new Set(MAGIC);
    for (const layer of [h.runtime, h.included, h.facts]) for (const k of Object.keys(layer)) if (ctx[k] === layer[k]) literal.add(k);
    return lazyVars(this.x.s.templar, ctx, literal);
  }

  /**
   * As Ansible: a templated task name is rendered with what every host shares (play vars, role
   * defaults/vars, extra vars); one that needs host variables keeps its text.
   */
  async renderTaskName(run: PlayRun, task: TaskDef, scope: Scope): Promise<void> {
    if (!task.name || !hasTemplate(task.name) || renderedNames.has(task)) return;
    const role = task.role ?? scope.role;
    const shared = mergeLayers([role?.defaults, run.play.vars, role?.vars, role?.params, ...scope.vars, this.x.o.extraVars]);
    try {
      renderedNames.set(task, await this.x.s.templar.renderString(task.name, lazyVars(this.x.s.templar, shared, new Set()), task.loc));
    } catch {
      renderedNames.set(task, task.name);
    }
  }

  /** Templated tags are rendered with the play's variables, as Ansible does (a list or "a,b"). */
  renderTags(tags: string[], run: PlayRun): string[] {
    const out: string[] = [];
    for (const t of tags) {
      let v: unknown = t;
      try {
        if (hasTemplate(t)) v = this.x.s.templar.renderValueSync(t, { ...run.play.vars, ...this.x.o.extraVars });
      } catch {
        v = t; // a tag that needs host variables stays as written: it selects nothing
      }
      for (const x of Array.isArray(v) ? v : String(v).split(',')) if (String(x).trim()) out.push(String(x).trim());
    }
    return out;
  }
}
