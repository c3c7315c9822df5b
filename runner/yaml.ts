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
  /** maps and sequences being converted: an alias to one of them is a loop (`a: &a [*a]`) */
  const open = new Set<unknown>();
  const noNul = (v: string, offset: number | undefined, what: string): string => {
    // a NUL cannot reach a host (argv, paths and environment are C strings): refuse it here,
    // before anything ran, rather than mid-run in a command or a path
    if (v.includes('\0')) {
      throw new YamlError(`${what} contains a NUL byte (\\0), which cannot be passed to a host`, at(offset), 'remove it (a NUL is written \\0, \\x00 or \\u0000 in a double-quoted string)');
    }
    return v;
  };
  const convert = (node: YNode | null | undefined | unknown): unknown => {
    if (node === null || node === undefined) return null;
    if (isScalar(node)) {
      const v = typeof node.value === 'string' ? noNul(node.value, node.range?.[0], 'a value') : node.value;
      // YAML 1.1 as PyYAML reads it (Ansible's parser): y/n are strings, not booleans
      if (typeof v === 'boolean' && /^[yYnN]$/.test(node.source ?? '')) return node.source;
      if (v instanceof VaultText) {
        const loc = at(node.range?.[0]);
        const ct = String(v.ciphertext);
        if (!opts.decrypt) {
          throw new YamlError('a !vault value needs a vault password', loc,
            'pass --vault-password-file FILE, --ask-vault-pass or set TSPLAY_VAULT_PASSWORD_FILE');
        }
        return noNul(opts.decrypt(ct, loc), node.range?.[0], 'a !vault value');
      }
      return v;
    }
    if (isMap(node)) {
      open.add(node);
      const out: Record<string, unknown> = {};
      const p: Positions = { self: at(node.range?.[0]), keys: new Map(), values: new Map() };
      positions.set(out, p);
      for (const item of node.items) {
        if (!isPair(item)) continue;
        const k = item.key as YNode | null;
        let key: string;
        // keys are names: `yes:`/`n:`/`1:` stay the text written (the merge key is a symbol in YAML 1.1)
        if (isScalar(k)) key = typeof k.value === 'symbol' ? '<<' : typeof k.value === 'string' ? noNul(k.value, k.range?.[0], 'a key') : String(k.source ?? k.value ?? '');
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
      open.delete(node);
      return out;
    }
    if (isSeq(node)) {
      open.add(node);
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
      open.delete(node);
      return out;
    }
    // aliases are resolved by the yaml library when we ask for JS; handle them that way
    if (node && typeof node === 'object' && 'resolve' in (node as object)) {
      // aliases expand into copies: bound the expansion ("billion laughs" would never finish)
      if (++aliases > MAX_ALIAS_EXPANSIONS) {
        throw new YamlError(`too many alias expansions (more than ${MAX_ALIAS_EXPANSIONS}): refusing a YAML alias bomb`, at((node as { range?: number[] }).range?.[0]));
      }
      const alias = node as { source?: string; range?: number[]; resolve(d: unknown): YNode | undefined };
      const target = alias.resolve(doc);
      if (open.has(target)) {
        throw new YamlError(`alias *${alias.source ?? ''} is inside its own anchor &${alias.source ?? ''}: that would be an endless structure`, at(alias.range?.[0]),
          'an alias may only refer to a node that is complete where the alias stands');
      }
      return convert(target);
    }
    return null;
  };
  return convert(doc.contents);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Offset of the first byte that does not start a valid UTF-8 sequence (bytes.length if none). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0 || i + len > bytes.length) return i;
    for (let k = 1; k < len; k++) if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    const b1 = bytes[i + 1];
    // overlong forms, UTF-16 surrogates, code points above U+10FFFF
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return i;
    i += len;
  }
  return bytes.length;
}

/**
 * The text of a file that must be UTF-8 (playbooks, vars files, inventories). Reading it with
 * 'utf8' would turn every invalid byte into U+FFFD silently, and that U+FFFD would then be
 * written to hosts as if it were the value: refuse instead, naming the byte.
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    let line = 1;
    for (let i = 0; i < at; i++) if (bytes[i] === 0x0a) line++;
    throw new YamlError(`not valid UTF-8 at byte ${at} (0x${bytes[at]?.toString(16).padStart(2, '0') ?? '??'}): text files are read as UTF-8`, { file, line },
      'convert the file to UTF-8 (e.g. iconv -f latin1 -t utf-8); binary data belongs in a file for copy src');
  }
}

/** Read a text file (see decodeUtf8); errors name the file. */
export async function readTextFile(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new YamlError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code === 'EISDIR' ? 'it is a directory' : code ?? String(e)})`, { file });
  }
  return decodeUtf8(bytes, file);
}

/** Read and parse a YAML (or JSON) file; errors name the file. */
export async function loadYamlFile(file: string, opts: YamlOptions = {}): Promise<unknown> {
  return parseYaml(await readTextFile(file), file, opts);
}
