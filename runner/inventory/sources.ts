/**
 * Reading inventory sources (`-i`): a file, a directory, or a comma-separated host list.
 *
 * A file is YAML when named *.yml, *.yaml or *.json, INI when named *.ini; any other name is
 * YAML if it parses as a YAML mapping and INI otherwise (Ansible tries its yaml plugin first
 * too). A directory is every file in it, recursively, in sorted order, skipping what Ansible
 * skips: hidden entries, group_vars/, host_vars/, vars_plugins/, and names ending in ~, .md,
 * .txt, .rst, .orig, .cfg, .retry, .bak, .swp, .pyc, .pyo, .rpm. (Ansible also skips *.ini in
 * directories; tsplay reads them, since hosts.ini is the usual name of an INI inventory.)
 * A source that does not exist but contains a comma is a host list: `-i web1,web2:2222,`.
 */

import { promises as fs } from 'fs';
import * as path from 'path';
import { InventoryError, YamlError } from '../errors';
import { decodeUtf8, parseYaml, VAULT_HEADER, YamlOptions } from '../yaml';
import { InventoryData } from './data';
import { parseIni } from './ini';
import { expandHostEntry } from './ranges';
import { parseYamlInventory } from './yaml-inventory';

const IGNORED_NAMES = new Set(['group_vars', 'host_vars', 'vars_plugins']);
const IGNORED_ENDINGS = ['~', '.md', '.txt', '.rst', '.orig', '.cfg', '.retry', '.bak', '.swp', '.pyc', '.pyo', '.rpm'];
const YAML_EXTS = ['.yml', '.yaml', '.json'];

export function isIgnoredInDirectory(name: string): boolean {
  return name.startsWith('.') || IGNORED_NAMES.has(name) || IGNORED_ENDINGS.some((e) => name.endsWith(e));
}

export interface SourceSet {
  /** directories whose group_vars/ and host_vars/ belong to the inventory, in source order */
  basedirs: string[];
  /** every inventory file read, in order */
  files: string[];
}

async function parseFile(file: string, data: InventoryData, opts: YamlOptions): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    throw new InventoryError(`cannot read inventory file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { file });
  }
  let text = decodeUtf8(bytes, file);
  if (text.startsWith(VAULT_HEADER)) {
    if (!opts.decrypt) {
      throw new InventoryError('inventory file is vault-encrypted and no vault password was given', { file, line: 1, column: 1 },
        'pass --vault-password-file FILE, --ask-vault-pass or set TSPLAY_VAULT_PASSWORD_FILE');
    }
    text = opts.decrypt(text, { file, line: 1, column: 1 });
  }
  const ext = path.extname(file).toLowerCase();
  if (YAML_EXTS.includes(ext)) {
    parseYamlInventory(parseYaml(text, file, opts), file, data);
    return;
  }
  if (ext === '.ini') {
    parseIni(text, file, data);
    return;
  }
  let yamlError: YamlError | undefined;
  try {
    const doc = parseYaml(text, file, opts);
    if (doc !== null && typeof doc === 'object' && !Array.isArray(doc)) {
      parseYamlInventory(doc, file, data);
      return;
    }
  } catch (e) {
    if (!(e instanceof YamlError)) throw e;
    yamlError = e;
  }
  try {
    parseIni(text, file, data);
  } catch (e) {
    // `all:` on the first line: a YAML inventory with a syntax error, not a bad INI file
    const first = text.split(/\r?\n/).find((l) => l.trim() !== '' && !/^\s*[#;]/.test(l));
    if (yamlError && first && /^[^\s[=]+:\s*(#.*)?$/.test(first)) throw yamlError;
    throw e;
  }
}

async function walkDirectory(dir: string, files: string[]): Promise<void> {
  const names = (await fs.readdir(dir)).sort();
  for (const name of names) {
    if (isIgnoredInDirectory(name)) continue;
    const full = path.join(dir, name);
    const st = await fs.stat(full).catch(() => null);
    if (st?.isDirectory()) await walkDirectory(full, files);
    else if (st?.isFile()) files.push(full);
  }
}

/** Read every source into `data`. */
export async function readSources(sources: string[], data: InventoryData, opts: YamlOptions): Promise<SourceSet> {
  const result: SourceSet = { basedirs: [], files: [] };
  const seenFiles = new Set<string>();
  for (const source of sources) {
    const abs = path.resolve(source);
    const st = await fs.stat(abs).catch(() => null);
    if (!st) {
      if (source.includes(',')) {
        for (const entry of source.split(',').map((s) => s.trim()).filter(Boolean)) {
          const { hosts, port } = expandHostEntry(entry, { file: '<host list>' });
          for (const h of hosts) data.addHost(h, '', 'ungrouped', undefined, port);
        }
        continue;
      }
      throw new InventoryError(`inventory source not found: ${source}`, undefined,
        "pass an inventory file or directory with -i, or a host list ending in ',' (-i web1,)");
    }
    let files: string[] = [];
    if (st.isDirectory()) {
      await walkDirectory(abs, files);
      if (!result.basedirs.includes(abs)) result.basedirs.push(abs);
    } else {
      files = [abs];
      if (!result.basedirs.includes(path.dirname(abs))) result.basedirs.push(path.dirname(abs));
    }
    for (const f of files) {
      if (seenFiles.has(f)) continue;
      seenFiles.add(f);
      result.files.push(f);
      await parseFile(f, data, opts);
    }
  }
  return result;
}
