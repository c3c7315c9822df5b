/**
 * apt_key: an APT signing key as its own keyring file (trusted.gpg.d, or `keyring`), not through
 * the deprecated apt-key. The key's fingerprint is read from the OpenPGP packet on the controller
 * (`keyFingerprint`), so no gpg runs and check mode reads only. `tsplay doc apt_key`.
 */

import { createHash } from 'crypto';
import { defineModule, ModuleFailure, sh, type Change } from '../runner/module-api';

export interface AptKeyArgs {
  id?: string;
  data?: string;
  file?: string;
  keyring?: string;
  url?: string;
  keyserver?: string;
  state: 'present' | 'absent';
  validate_certs: boolean;
}

export const TRUSTED_DIR = '/etc/apt/trusted.gpg.d';

/** The bytes of a key: an ASCII-armored block is decoded, binary data is taken as it is. */
export function keyBytes(data: Buffer): { bytes: Buffer; armored: boolean } {
  const text = data.toString('latin1');
  const m = /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/.exec(text);
  if (!m) return { bytes: data, armored: false };
  // armor headers end at the first blank line; the CRC line starts with '='
  const body = m[1].split(/\r?\n\r?\n/).slice(-1)[0];
  const b64 = body.split(/\r?\n/).filter((l) => l && !l.startsWith('=')).join('');
  return { bytes: Buffer.from(b64, 'base64'), armored: true };
}

/** The v4 fingerprint (40 hex, upper case) of the first public-key packet (RFC 4880 12.2). */
export function keyFingerprint(bytes: Buffer): string {
  const tag = bytes[0];
  if (tag === undefined || !(tag & 0x80)) throw new ModuleFailure('not an OpenPGP key (no packet header)');
  let type: number;
  let len: number;
  let off: number;
  if (tag & 0x40) {
    type = tag & 0x3f;
    const o = bytes[1];
    if (o < 192) [len, off] = [o, 2];
    else if (o < 224) [len, off] = [((o - 192) << 8) + bytes[2] + 192, 3];
    else if (o === 255) [len, off] = [bytes.readUInt32BE(2), 6];
    else throw new ModuleFailure('not an OpenPGP key (partial packet length)');
  } else {
    type = (tag >> 2) & 0x0f;
    const lt = tag & 3;
    if (lt === 0) [len, off] = [bytes[1], 2];
    else if (lt === 1) [len, off] = [bytes.readUInt16BE(1), 3];
    else if (lt === 2) [len, off] = [bytes.readUInt32BE(1), 5];
    else throw new ModuleFailure('not an OpenPGP key (indeterminate length)');
  }
  if (type !== 6) throw new ModuleFailure(`not an OpenPGP public key (first packet is type ${type})`);
  const body = bytes.subarray(off, off + len);
  if (body.length !== len) throw new ModuleFailure('truncated OpenPGP key');
  if (body[0] !== 4) throw new ModuleFailure(`OpenPGP key version ${body[0]} is not supported (v4 only)`);
  const head = Buffer.from([0x99, (len >> 8) & 0xff, len & 0xff]);
  return createHash('sha1').update(head).update(body).digest('hex').toUpperCase();
}

const ID = '^(0x)?([0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$';
const normId = (id: string): string => id.replace(/^0x/, '').toUpperCase();

export default defineModule<AptKeyArgs>({
  name: 'apt_key',
  description: 'Install or remove an APT signing key as a keyring file (trusted.gpg.d or keyring), without apt-key.',
  notes:
    "Unlike Ansible's apt-key-based module, the key is written as its own file: keyring when given, else " +
    '/etc/apt/trusted.gpg.d/KEYID.asc (armored) or .gpg (binary), mode 0644; this is what apt-key\'s deprecation ' +
    'asks for. The fingerprint is computed from the key itself (OpenPGP v4), and id, when given, must match it. ' +
    'present is no change when that file already holds these bytes (or, with only id, exists). absent removes the ' +
    'file. url and keyserver need the network and are not supported: fetch the key with get_url and use file.',
  schema: {
    type: 'object',
    properties: {
      id: { type: 'string', pattern: ID, description: 'Key id (8, 16 or 40 hex digits): checked against the key, names the file.' },
      data: { type: 'string', minLength: 1, description: 'The key itself (ASCII-armored).' },
      file: { type: 'string', pattern: '^/', description: 'A key file on the host (armored or binary).' },
      keyring: { type: 'string', pattern: '^/[^\\n]*$', description: 'The keyring file to write (e.g. /usr/share/keyrings/pgdg.gpg).' },
      url: { type: 'string', description: 'Not supported (network): fetch the key with get_url, then use file.' },
      keyserver: { type: 'string', description: 'Not supported (network).' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the key is installed.' },
      validate_certs: { type: 'boolean', default: true, description: 'Accepted for compatibility.' },
    },
    additionalProperties: false,
    allOf: [
      { not: { required: ['data', 'file'] } },
      { if: { properties: { state: { const: 'absent' } }, required: ['state'] }, then: { anyOf: [{ required: ['id'] }, { required: ['keyring'] }] }, else: { anyOf: [{ required: ['data'] }, { required: ['file'] }, { required: ['url'] }, { required: ['keyserver'] }] } },
    ],
  },
  example: `- apt_key:
    file: /tmp/ACCC4CF8.asc
    keyring: /usr/share/keyrings/pgdg.asc
- apt_key:
    id: 7FCC7D46ACCC4CF8
    state: absent`,
  checkMode: 'Reads the key and the keyring file; reports the write or removal.',
  returns: 'fp (fingerprint), id, key_id, path.',
  async plan(args, ctx) {
    if (args.url !== undefined || args.keyserver !== undefined) {
      throw new ModuleFailure(`${args.url !== undefined ? 'url' : 'keyserver'} is not supported (it needs the network): fetch the key with get_url and use file`, {});
    }
    if (args.state === 'absent') {
      const candidates = args.keyring ? [args.keyring] : ['asc', 'gpg'].map((e) => `${TRUSTED_DIR}/${normId(args.id!)}.${e}`);
      const st = await ctx.remote.stat(candidates);
      const there = st.filter((s) => s.exists).map((s) => s.path);
      const changes: Change[] = there.map((p) => ({ kind: 'exec', summary: `remove ${p}`, command: sh`rm -f -- ${p}`, diff: { path: p, before: 'present\n', after: 'absent\n' } }));
      return { changes, result: { id: args.id ?? null, path: there[0] ?? null } };
    }
    let raw: Buffer;
    if (args.file !== undefined) {
      const b = await ctx.remote.readFile(args.file);
      if (b === null) throw new ModuleFailure(`key file ${args.file} not found on the host`, { file: args.file });
      raw = b;
    } else {
      raw = Buffer.from(args.data!, 'utf8');
    }
    const { bytes, armored } = keyBytes(raw);
    const fp = keyFingerprint(bytes);
    if (args.id !== undefined && !fp.endsWith(normId(args.id))) {
      throw new ModuleFailure(`id ${args.id} does not match the key (fingerprint ${fp})`, { id: args.id, fp });
    }
    const keyId = fp.slice(-16);
    const target = args.keyring ?? `${TRUSTED_DIR}/${keyId}.${armored ? 'asc' : 'gpg'}`;
    const result = { fp, id: keyId, key_id: keyId, short_id: fp.slice(-8), path: target };
    const [st] = await ctx.remote.stat([target], { checksum: true });
    if (st.exists && st.type !== 'file') throw new ModuleFailure(`${target} exists and is not a regular file`, { path: target });
    if (st.exists && st.sha256 === createHash('sha256').update(raw).digest('hex')) return { changes: [], result };
    const text = armored ? raw.toString('utf8') : `(binary key ${fp}, ${raw.length} bytes)\n`;
    return {
      changes: [{ kind: 'write', summary: `install key ${keyId} as ${target}`, path: target, before: st.exists ? '(previous key file)\n' : null, after: text, ...(armored ? {} : { data: raw }), mode: '0644' }],
      result,
    };
  },
});
