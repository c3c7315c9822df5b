/**
 * OpenSSH known_hosts: parsing, lookup and the host key policy (strict | accept-new | off).
 * ssh2 accepts any host key unless its hostVerifier says no, so ssh.ts calls verifyHostKey()
 * from there, before authentication: a host with a wrong key never sees our credentials.
 *
 * Supported: plain patterns (comma lists, `*`/`?` wildcards, `!` negation), `[host]:port` for
 * ports other than 22, hashed `|1|salt|hash` entries, any key type, `@revoked` (refused always)
 * and `@cert-authority` (ignored: ssh2 does not do host certificates).
 */

import { createHash, createHmac } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { HostKeyError, TsplayError } from '../errors';
import type { HostKeyPolicy } from './types';

export interface KnownHostEntry {
  file: string;
  /** 1-based */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** plain comma-separated patterns, or null for a hashed entry */
  patterns: string[] | null;
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  /** the public key blob (wire format), as the server sends it */
  key: Buffer;
}

/** Parse a known_hosts text; lines that do not parse are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!l || l.startsWith('#')) continue;
    const fields = l.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    if (fields.length < 3) continue;
    const [hostField, keyType, b64] = fields;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0 || keyTypeOf(key) !== keyType) continue;
    const entry: KnownHostEntry = { file, line: i + 1, marker, patterns: null, keyType, key };
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|');
      if (!salt || !hash) continue;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hostField.split(',').filter(Boolean);
    }
    entries.push(entry);
  }
  return entries;
}

/** The name OpenSSH looks up: `host`, or `[host]:port` when the port is not 22. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type written inside a key blob (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ...). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  if (n > blob.length - 4 || n > 64) return '';
  return blob.subarray(4, 4 + n).toString('latin1');
}

/** OpenSSH's fingerprint: "SHA256:" + unpadded base64 of sha256(blob). */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

const globCache = new Map<string, RegExp>();

function globMatch(pattern: string, name: string): boolean {
  // most entries are plain names: no regex (a run checks every host against every line)
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern.toLowerCase() === name.toLowerCase();
  let re = globCache.get(pattern);
  if (re) return re.test(name);
  re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
    'i',
  );
  globCache.set(pattern, re);
  return re.test(name);
}

/** Does this entry name `name` (already in `[host]:port` form when needed)? */
export function entryMatches(e: KnownHostEntry, name: string): boolean {
  if (e.hashed) {
    const h = createHmac('sha1', e.hashed.salt).update(name).digest();
    return h.equals(e.hashed.hash);
  }
  let hit = false;
  for (const p of e.patterns ?? []) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) hit = true;
  }
  return hit;
}

export type HostKeyVerdict =
  | { kind: 'ok'; entry: KnownHostEntry }
  | { kind: 'unknown' }
  | { kind: 'changed'; entry: KnownHostEntry }
  | { kind: 'revoked'; entry: KnownHostEntry };

/**
 * Look the offered key up for every name the host goes by (inventory name and address). A
 * revoked key or any name whose known key differs wins over a match for another name: an attacker
 * who controls the address must not pass because the alias is unknown, or the other way round.
 */
export function checkHostKey(entries: KnownHostEntry[], names: string[], port: number, key: Buffer): HostKeyVerdict {
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked };
  let ok: KnownHostEntry | undefined;
  for (const n of new Set(names.map((h) => hostKeyName(h, port)))) {
    const mine = entries.filter((e) => !e.marker && entryMatches(e, n));
    if (mine.length === 0) continue;
    const same = mine.find((e) => e.key.equals(key));
    if (same) {
      ok ??= same;
      continue;
    }
    // Known under this name with other key(s): prefer the entry of the same type in the message.
    return { kind: 'changed', entry: mine.find((e) => e.keyType === keyTypeOf(key)) ?? mine[0] };
  }
  return ok ? { kind: 'ok', entry: ok } : { kind: 'unknown' };
}

/** Key types known for the host, to put first in the algorithms we offer (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], names: string[], port: number): string[] {
  const types = new Set<string>();
  for (const n of names.map((h) => hostKeyName(h, port))) {
    for (const e of entries) if (!e.marker && entryMatches(e, n)) types.add(e.keyType);
  }
  return [...types];
}

/** A missing file is an empty one (accept-new creates it); one that cannot be read is an error in words. */
export function readKnownHosts(file: string): KnownHostEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    const why = code === 'EISDIR' ? 'it is a directory' : code === 'ENOTDIR' ? 'a parent of it is not a directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new TsplayError(`cannot read the known_hosts file ${file}: ${why}`, undefined, 'point --known-hosts (or tsplay_known_hosts_file) at a known_hosts file');
  }
  return parseKnownHosts(text, file);
}

/** Append `names keytype base64` (0600 file, 0700 directory when created). */
export function appendKnownHost(file: string, names: string[], port: number, key: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const st = fs.statSync(file);
    if (st.size > 0) {
      const fd = fs.openSync(file, 'r');
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, st.size - 1);
      fs.closeSync(fd);
      if (last[0] !== 0x0a) prefix = '\n';
    }
  } catch {
    // new file
  }
  const hosts = [...new Set(names.map((h) => hostKeyName(h, port)))].join(',');
  fs.appendFileSync(file, `${prefix}${hosts} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

export interface VerifyRequest {
  /** inventory name, for messages */
  host: string;
  /** every name to check: inventory name and address */
  names: string[];
  port: number;
  key: Buffer;
  policy: HostKeyPolicy;
  file: string;
}

/** Apply the policy; throws HostKeyError to refuse, returns to accept. */
export function verifyHostKey(req: VerifyRequest): 'ok' | 'added' | 'unchecked' {
  if (req.policy === 'off') return 'unchecked';
  const entries = readKnownHosts(req.file);
  const v = checkHostKey(entries, req.names, req.port, req.key);
  const offered = `${keyTypeOf(req.key)} ${fingerprint(req.key)}`;
  switch (v.kind) {
    case 'ok':
      return 'ok';
    case 'revoked':
      throw new HostKeyError(req.host, `${req.host}: host key ${offered} is marked @revoked in ${v.entry.file}:${v.entry.line}; refusing to connect`);
    case 'changed': {
      const e = new HostKeyError(
        req.host,
        `${req.host}: HOST KEY CHANGED for ${hostKeyName(req.names[req.names.length - 1], req.port)}: ` +
          `expected ${v.entry.keyType} ${fingerprint(v.entry.key)} (${v.entry.file}:${v.entry.line}), ` +
          `offered ${offered}; refusing to connect (possible man-in-the-middle)`,
      );
      e.hint = `if the host was really reinstalled, remove line ${v.entry.line} of ${v.entry.file} (ssh-keygen -R)`;
      throw e;
    }
    case 'unknown':
      if (req.policy === 'strict') {
        const e = new HostKeyError(req.host, `${req.host}: host key ${offered} is not in ${req.file} and host_key_checking is strict; refusing to connect`);
        e.hint = `add the host's key to ${req.file} (ssh-keyscan), or use host_key_checking accept-new`;
        throw e;
      }
      appendKnownHost(req.file, req.names, req.port, req.key);
      return 'added';
  }
}
