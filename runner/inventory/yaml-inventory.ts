/**
 * YAML (and JSON) inventories, the shape of Ansible's `yaml` inventory plugin:
 *
 *   all:
 *     vars: { ntp_server: ntp.example.com }
 *     hosts:
 *       bastion:                      # no variables
 *     children:
 *       web:
 *         hosts:
 *           web[01:03]:               # ranges and host:port work as in INI
 *           web-lb: { ansible_host: 10.0.0.5 }
 *         vars: { http_port: 8080 }
 *
 * Top-level keys are groups (usually only `all`); a group is empty or a mapping with `hosts`,
 * `vars` and `children` (a single name may stand for a one-entry `hosts`/`children`). Values
 * keep their YAML types. Where Ansible warns and skips (an unknown key in a group, a list where
 * a mapping belongs), this is an error naming file:line:column.
 *
 * A JSON document with a `_meta` key is read as the output of `ansible-inventory --list` /
 * dynamic inventory scripts instead: `{"group": {"hosts": [...], "vars": {...}, "children":
 * [...]}, "_meta": {"hostvars": {...}}}`, so a dumped inventory can be loaded back.
 */

import { InventoryError, SourceLocation } from '../errors';
import { posOf, posOfKey, posOfValue } from '../yaml';
import { InventoryData } from './data';
import { expandHostEntry } from './ranges';
import { closest } from './suggest';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v} (${JSON.stringify(v)})`;
}

const GROUP_KEYS = ['hosts', 'vars', 'children'];

/** Add the groups, hosts and variables of one parsed YAML/JSON inventory document to `data`. */
export function parseYamlInventory(doc: unknown, file: string, data: InventoryData): void {
  const fileLoc: SourceLocation = posOf(doc) ?? { file, line: 1, column: 1 };
  if (doc === null || doc === undefined) return;
  if (!isObj(doc)) {
    throw new InventoryError(`a YAML inventory must be a mapping of group names, got ${kind(doc)}`, fileLoc,
      'start with "all:" and list hosts under "all: { hosts: ... }"');
  }
  if ('plugin' in doc) {
    throw new InventoryError('inventory plugin configurations (a top-level "plugin:" key) are not supported', posOfKey(doc, 'plugin') ?? fileLoc,
      'write the hosts out as a static YAML or INI inventory');
  }
  if ('_meta' in doc) {
    parseListFormat(doc, file, data);
    return;
  }
  for (const [name, body] of Object.entries(doc)) {
    if (GROUP_KEYS.includes(name)) {
      throw new InventoryError(`top-level key '${name}' is taken as a group name`, posOfKey(doc, name) ?? fileLoc,
        `top-level keys are groups: put '${name}:' under a group, e.g. under 'all:'`);
    }
    parseGroup(name, body, doc, file, data);
  }
}

function parseGroup(name: string, body: unknown, container: Obj, file: string, data: InventoryData): void {
  const loc = posOfKey(container, name) ?? { file };
  data.addGroup(name, loc);
  if (body === null || body === undefined) return;
  if (!isObj(body)) {
    throw new InventoryError(`group '${name}' must be a mapping with hosts, vars or children, got ${kind(body)}`, posOfValue(container, name) ?? loc);
  }
  for (const [key, value] of Object.entries(body)) {
    const keyLoc = posOfKey(body, key) ?? loc;
    const valueLoc = posOfValue(body, key) ?? keyLoc;
    if (!GROUP_KEYS.includes(key)) {
      const guess = closest(key, GROUP_KEYS);
      throw new InventoryError(`unknown key '${key}' in group '${name}'`, keyLoc,
        guess ? `did you mean '${guess}'?` : `a group holds only hosts, vars and children (a group inside a group goes under children:)`);
    }
    if (value === null || value === undefined) continue;
    if (key === 'vars') {
      if (!isObj(value)) throw new InventoryError(`vars of group '${name}' must be a mapping, got ${kind(value)}`, valueLoc);
      for (const [k, v] of Object.entries(value)) data.setGroupVar(name, k, v, posOfKey(value, k) ?? valueLoc);
    } else if (key === 'children') {
      const children: Obj = typeof value === 'string' ? { [value]: null } : (value as Obj);
      if (!isObj(children)) {
        throw new InventoryError(`children of group '${name}' must be a mapping of group names, got ${kind(value)}`, valueLoc,
          Array.isArray(value) ? "write each child group as a key ('web:' on its own line), not as a list item ('- web')" : undefined);
      }
      for (const [child, childBody] of Object.entries(children)) {
        parseGroup(child, childBody, children === value ? children : body, file, data);
        data.addChild(name, child, (children === value ? posOfKey(children, child) : undefined) ?? valueLoc);
      }
    } else {
      const hosts: Obj = typeof value === 'string' ? { [value]: null } : (value as Obj);
      if (!isObj(hosts)) {
        throw new InventoryError(`hosts of group '${name}' must be a mapping of host names, got ${kind(value)}`, valueLoc,
          Array.isArray(value) ? "write each host as a key ('web1:' or 'web1: { ansible_host: 10.0.0.1 }' on its own line), not as a list item ('- web1')" : undefined);
      }
      for (const [entry, hostVars] of Object.entries(hosts)) {
        const hostLoc = (hosts === value ? posOfKey(hosts, entry) : undefined) ?? valueLoc;
        if (hostVars !== null && hostVars !== undefined && !isObj(hostVars)) {
          throw new InventoryError(`host '${entry}' must have a mapping of variables or nothing, got ${kind(hostVars)}`,
            (hosts === value ? posOfValue(hosts, entry) : undefined) ?? hostLoc, `write "${entry}:" alone, or "${entry}: { var: value }"`);
        }
        const { hosts: names, port } = expandHostEntry(entry, hostLoc);
        for (const h of names) {
          data.addHost(h, file, name, hostLoc, port);
          for (const [k, v] of Object.entries(hostVars ?? {})) data.setHostVar(h, k, v, posOfKey(hostVars, k) ?? hostLoc);
        }
      }
    }
  }
}

/** `ansible-inventory --list` / inventory-script JSON. */
function parseListFormat(doc: Obj, file: string, data: InventoryData): void {
  const names = (v: unknown, what: string, loc: SourceLocation): string[] => {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      throw new InventoryError(`${what} must be a list of names, got ${kind(v)}`, loc);
    }
    return v as string[];
  };
  const pending: Array<[string, string, SourceLocation]> = [];
  for (const [name, body] of Object.entries(doc)) {
    if (name === '_meta') continue;
    const loc = posOfKey(doc, name) ?? { file };
    data.addGroup(name, loc);
    if (Array.isArray(body)) {
      for (const h of names(body, `group '${name}'`, loc)) data.addHost(h, file, name, loc);
      continue;
    }
    if (body === null || body === undefined) continue;
    if (!isObj(body)) throw new InventoryError(`group '${name}' must be a mapping or a list of hosts, got ${kind(body)}`, loc);
    for (const key of Object.keys(body)) {
      if (!GROUP_KEYS.includes(key)) throw new InventoryError(`unknown key '${key}' in group '${name}'`, posOfKey(body, key) ?? loc);
    }
    for (const h of names(body.hosts, `hosts of group '${name}'`, posOfValue(body, 'hosts') ?? loc)) {
      data.addHost(h, file, name, posOfValue(body, 'hosts') ?? loc);
    }
    if (body.vars !== undefined && body.vars !== null) {
      if (!isObj(body.vars)) throw new InventoryError(`vars of group '${name}' must be a mapping, got ${kind(body.vars)}`, posOfValue(body, 'vars') ?? loc);
      for (const [k, v] of Object.entries(body.vars)) data.setGroupVar(name, k, v, posOfKey(body.vars, k) ?? loc);
    }
    // children may be listed before they appear as groups of their own
    for (const c of names(body.children, `children of group '${name}'`, posOfValue(body, 'children') ?? loc)) {
      pending.push([name, c, posOfValue(body, 'children') ?? loc]);
    }
  }
  for (const [parent, child, loc] of pending) data.addChild(parent, child, loc);
  const meta = doc._meta;
  const hostvars = isObj(meta) ? meta.hostvars : undefined;
  if (hostvars === undefined || hostvars === null) return;
  if (!isObj(hostvars)) throw new InventoryError(`_meta.hostvars must be a mapping, got ${kind(hostvars)}`, posOfKey(meta, 'hostvars') ?? { file });
  for (const [h, vars] of Object.entries(hostvars)) {
    if (vars === null) continue;
    if (!isObj(vars)) throw new InventoryError(`_meta.hostvars of '${h}' must be a mapping, got ${kind(vars)}`, posOfKey(hostvars, h) ?? { file });
    data.addHost(h, file, undefined, posOfKey(hostvars, h));
    for (const [k, v] of Object.entries(vars)) data.setHostVar(h, k, v, posOfKey(vars, k) ?? posOfKey(hostvars, h) ?? { file });
  }
}
