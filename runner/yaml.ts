/**
 * YAML loading for playbooks, roles, inventories and vars files, keeping source positions so
 * every later error can name file:line:column. Values come back as plain JS (objects, arrays,
 * strings, numbers, booleans, null); positions are kept on the side in a WeakMap.
 *
 * Vault: a whole file that starts with `$ANSIBLE_VAULT;` is decrypted first, and `!vault |`
 * values are decrypted where they stand, both through `opts.decrypt` (the vault module's).
 */

import { promises as fs } from 'fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node as YNode, type ScalarTag } from 'yaml';
import { SourceLocation, YamlError } from './errors';

export interface Pos {
  file: string;
  line: number;
  column: number;
}

interface Positions {
  self: Pos;
  /** object key or array index -> position of the value (keys: position of the key) */
  keys: Map<string | number, Pos>;
  values: Map<string | number, Pos>;
}

const positions = new WeakMap<object, Positions>();

/** Where an object or array came from. */
export function posOf(node: unknown): Pos | undefined {
  return node && typeof node === 'object' ? positions.get(node)?.self : undefined;
}

/** Where a key of an object was written (falls back to the object's own position). */
export function posOfKey(node: unknown, key: string | number): Pos | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const p = positions.get(node);
  return p?.keys.get(key) ?? p?.self;
}

/** Where the value under a key / index was written (falls back to the key, then the object). */
export function posOfValue(node: unknown, key: string | number): Pos | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const p = positions.get(node);
  return p?.values.get(key) ?? p?.keys.get(key) ?? p?.self;
}

/** Copy positions from one object to another (for objects rebuilt by the loader). */
export function copyPos(from: unknown, to: object): void {
  if (from && typeof from === 'object') {
    const p = positions.get(from);
    if (p) positions.set(to, p);
  }
}

export function setPos(obj: object, pos: Pos): void {
  if (!positions.has(obj)) positions.set(obj, { self: pos, keys: new Map(), values: new Map() });
}

/** A `!vault |` value that could not be decrypted at load time (no password given). */
export class VaultText {
  constructor(readonly ciphertext: string, readonly loc: SourceLocation) {}
  toString(): string {
    return '********';
  }
}

export interface YamlOptions {
  /** decrypts vault text (whole files and `!vault` values); without it, vault data is an error */
  decrypt?: (ciphertext: string, loc: SourceLocation) => string;
}

export const VAULT_HEADER = '$ANSIBLE_VAULT;';

/** Aliases expanded per document; real playbooks use a handful. */
const MAX_ALIAS_EXPANSIONS = 10_000;

const vaultTag: ScalarTag = {
  tag: '!vault',
  identify: (v) => v instanceof VaultText,
  resolve: (str: string) => new VaultText(str, { file: '' }) as unknown as string,
};

/** Parse YAML text. `file` is used in messages only. */
export function parseYaml(text: string, file: string, opts: YamlOptions = {}): unknown {
  if (text.startsWith(VAULT_HEADER)) {
    if (!opts.decrypt) {
      throw new YamlError('file is vault-encrypted and no vault password was given', { file, line: 1, column: 1 },
        'pass --vault-password-file FILE, --ask-vault-pass or set TSPLAY_VAULT_PASSWORD_FILE');
    }
    text = opts.decrypt(text, { file, line: 1, column: 1 });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', lineCounter: lc, customTags: [vaultTag], uniqueKeys: true, prettyErrors: false, strict: true });
  const at = (offset: number | undefined): Pos => {
    const p = lc.linePos(offset ?? 0);
    return { file, line: p.line, column: p.col };
  };
  const err = doc.errors[0];
  if (err) {
    const first = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new YamlError(`YAML syntax error: ${first}`, at(err.pos[0]));
  }
  let aliases = 0;
  const convert = (node: YNode | null | undefined | unknown): unknown => {
    if (node === null || node === undefined) return null;
    if (isScalar(node)) {
      const v = node.value;
      // YAML 1.1 as PyYAML reads it (Ansible's parser): y/n are strings, not booleans
      if (typeof v === 'boolean' && /^[yYnN]$/.test(node.source ?? '')) return node.source;
      if (v instanceof VaultText) {
        const loc = at(node.range?.[0]);
        const ct = String(v.ciphertext);
        if (!opts.decrypt) {
          throw new YamlError('a !vault value needs a vault password', loc,
            'pass --vault-password-file FILE, --ask-vault-pass or set TSPLAY_VAULT_PASSWORD_FILE');
        }
        return opts.decrypt(ct, loc);
      }
      return v;
    }
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const p: Positions = { self: at(node.range?.[0]), keys: new Map(), values: new Map() };
      positions.set(out, p);
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const k = item.key as YNode | null;
        let key: string;
        // keys are names: `yes:`/`n:`/`1:` stay the text written (the merge key is a symbol in YAML 1.1)
        if (isScalar(k)) key = typeof k.value === 'symbol' ? '<<' : typeof k.value === 'string' ? k.value : String(k.source ?? k.value ?? '');
        else if (k === null) key = '';
        else throw new YamlError('mapping keys must be plain strings', at((k as { range?: number[] }).range?.[0]));
        if (key === '<<') {
          // merge key: copy the referenced mapping(s) in, without overriding explicit keys
          const merged = convert(item.value);
          for (const m of Array.isArray(merged) ? merged : [merged]) {
            if (m && typeof m === 'object') for (const [mk, mv] of Object.entries(m)) if (!(mk in out)) out[mk] = mv;
          }
          continue;
        }
        p.keys.set(key, at(isScalar(k) ? k.range?.[0] : node.range?.[0]));
        const vnode = item.value as YNode | null;
        if (vnode && (vnode as { range?: number[] }).range) p.values.set(key, at((vnode as { range?: number[] }).range?.[0]));
        out[key] = convert(vnode);
      }
      return out;
    }
    if (isSeq(node)) {
      const out: unknown[] = [];
      const p: Positions = { self: at(node.range?.[0]), keys: new Map(), values: new Map() };
      positions.set(out, p);
      node.items.forEach((item, i) => {
        const r = (item as { range?: number[] } | null)?.range;
        if (r) {
          p.keys.set(i, at(r[0]));
          p.values.set(i, at(r[0]));
        }
        out.push(convert(item));
      });
      return out;
    }
    // aliases are resolved by the yaml library when we ask for JS; handle them that way
    if (node && typeof node === 'object' && 'resolve' in (node as object)) {
      // aliases expand into copies: bound the expansion ("billion laughs" would never finish)
      if (++aliases > MAX_ALIAS_EXPANSIONS) {
        throw new YamlError(`too many alias expansions (more than ${MAX_ALIAS_EXPANSIONS}): refusing a YAML alias bomb`, at((node as { range?: number[] }).range?.[0]));
      }
      const target = (node as { resolve(d: unknown): YNode | undefined }).resolve(doc);
      return convert(target);
    }
    return null;
  };
  return convert(doc.contents);
}

/** Read and parse a YAML (or JSON) file; errors name the file. */
export async function loadYamlFile(file: string, opts: YamlOptions = {}): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new YamlError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(e)})`, { file });
  }
  return parseYaml(text, file, opts);
}
