/**
 * group_vars/ and host_vars/ directories (Ansible's host_group_vars vars plugin): beside each
 * inventory source, and beside the playbook.
 *
 * For a group or host NAME, the first of these that exists is used, as in Ansible:
 *   NAME (a file, or a directory of files), NAME.yml, NAME.yaml, NAME.json
 * A directory is read recursively in sorted order (files named *.yml, *.yaml, *.json or without
 * an extension; hidden files and *~ skipped); later files override earlier ones key by key.
 * The candidates that lose, and files naming no group/host of the inventory, become warnings:
 * they are legal but most often a typo.
 */

import { promises as fs } from 'fs';
import * as path from 'path';
import { InventoryError } from '../errors';
import { loadYamlFile, posOf, posOfKey, YamlOptions } from '../yaml';
import { checkInventoryVar } from './connection-vars';

export interface VarsSet {
  vars: Record<string, unknown>;
  files: string[];
}

export interface VarsLayer {
  /** the directory holding group_vars/ and host_vars/ */
  dir: string;
  groups: Map<string, VarsSet>;
  hosts: Map<string, VarsSet>;
}

export interface InventoryWarning {
  message: string;
  file?: string;
}

const EXTS = ['', '.yml', '.yaml', '.json'];

async function statOrNull(p: string): Promise<import('fs').Stats | null> {
  try {
    return await fs.stat(p);
  } catch {
    return null;
  }
}

/** Files of a group_vars/NAME/ directory, recursively, in the order they are merged. */
async function dirFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await fs.readdir(dir, { withFileTypes: true })).map((e) => e.name).sort();
  for (const name of entries) {
    if (name.startsWith('.') || name.endsWith('~')) continue;
    const full = path.join(dir, name);
    const st = await statOrNull(full);
    if (st?.isDirectory()) out.push(...(await dirFiles(full)));
    else if (st?.isFile() && EXTS.includes(path.extname(name))) out.push(full);
  }
  return out;
}

async function loadVarsFile(file: string, opts: YamlOptions): Promise<Record<string, unknown>> {
  const doc = await loadYamlFile(file, opts);
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new InventoryError(`a variables file must be a mapping of variable names to values, got ${Array.isArray(doc) ? 'a list' : typeof doc}`,
      posOf(doc) ?? { file, line: 1, column: 1 });
  }
  for (const [k, v] of Object.entries(doc)) checkInventoryVar(k, v, posOfKey(doc, k) ?? { file });
  return doc as Record<string, unknown>;
}

/**
 * Load `<dir>/<kind>/` for the given entity names. Returns name -> merged variables, for the
 * names that have variables files.
 */
async function loadKind(dir: string, kind: 'group_vars' | 'host_vars', names: Set<string>, opts: YamlOptions,
  warnings: InventoryWarning[]): Promise<Map<string, VarsSet>> {
  const result = new Map<string, VarsSet>();
  const base = path.join(dir, kind);
  const st = await statOrNull(base);
  if (!st) return result;
  if (!st.isDirectory()) {
    warnings.push({ message: `${kind} is not a directory; ignored`, file: base });
    return result;
  }
  // one listing per directory, not one stat per host: inventories have thousands of hosts
  const entries = (await fs.readdir(base, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  /** entity name -> candidate entries by extension ('' for NAME itself) */
  const candidates = new Map<string, Map<string, string>>();
  const offer = (entity: string, ext: string, entry: string): void => {
    let c = candidates.get(entity);
    if (!c) candidates.set(entity, (c = new Map()));
    c.set(ext, entry);
  };
  for (const e of entries) {
    offer(e.name, '', e.name);
    const ext = path.extname(e.name);
    if (ext && EXTS.includes(ext)) offer(e.name.slice(0, -ext.length), ext, e.name);
  }
  const used = new Set<string>();
  for (const [entity, byExt] of candidates) {
    if (!names.has(entity)) continue;
    const chosenExt = EXTS.find((x) => byExt.has(x))!;
    const chosen = byExt.get(chosenExt)!;
    for (const [x, entry] of byExt) {
      if (x !== chosenExt) {
        warnings.push({ message: `${kind}/${entry} is ignored: ${kind}/${chosen} takes precedence for '${entity}'`, file: path.join(base, entry) });
      }
      used.add(entry);
    }
    const full = path.join(base, chosen);
    const fst = await statOrNull(full);
    const files = fst?.isDirectory() ? await dirFiles(full) : [full];
    let vars: Record<string, unknown> = {};
    for (const f of files) vars = { ...vars, ...(await loadVarsFile(f, opts)) };
    result.set(entity, { vars, files });
  }
  const what = kind === 'group_vars' ? 'group' : 'host';
  for (const e of entries) {
    if (!used.has(e.name) && !e.name.endsWith('~')) {
      warnings.push({ message: `${kind}/${e.name} matches no ${what} of the inventory`, file: path.join(base, e.name) });
    }
  }
  return result;
}

/** Load group_vars/ and host_vars/ of one directory for the inventory's groups and hosts. */
export async function loadVarsLayer(dir: string, groups: Iterable<string>, hosts: Iterable<string>, opts: YamlOptions,
  warnings: InventoryWarning[]): Promise<VarsLayer> {
  return {
    dir,
    groups: await loadKind(dir, 'group_vars', new Set(groups), opts, warnings),
    hosts: await loadKind(dir, 'host_vars', new Set(hosts), opts, warnings),
  };
}
