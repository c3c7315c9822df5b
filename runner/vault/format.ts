/**
 * The Ansible Vault 1.1 / 1.2 AES256 format, byte for byte, so files move freely between
 * tsplay and ansible-vault:
 *
 *   $ANSIBLE_VAULT;1.1;AES256            (1.2 adds ";label", the vault id)
 *   hex( hex(salt) "\n" hex(hmac) "\n" hex(ciphertext) ), wrapped at 80 columns
 *
 * key material = PBKDF2-HMAC-SHA256(password, salt, 10000 iterations, 80 bytes)
 *   [0,32) AES-256-CTR key, [32,64) HMAC-SHA256 key, [64,80) initial counter block.
 * The plaintext is PKCS#7-padded to the AES block size before CTR (Ansible does, so we must),
 * and the HMAC covers the ciphertext only (encrypt-then-MAC).
 *
 * Everything here is synchronous because runner/yaml's decrypt hook is synchronous.
 * Malformed input raises VaultFormatError (a plain internal error carrying a reason); the
 * Vault class turns it into a VaultError that names the file.
 */

import { createCipheriv, createDecipheriv, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'crypto';

export const VAULT_MAGIC = '$ANSIBLE_VAULT';
export const VAULT_HEADER_PREFIX = `${VAULT_MAGIC};`;
export const CIPHER = 'AES256';
export const PBKDF2_ITERATIONS = 10000;
const KEY_LEN = 32;
const IV_LEN = 16;
const HMAC_LEN = 32;
const SALT_LEN = 32;
const LINE_WIDTH = 80;

/** Why a vault text could not be parsed or decrypted; not user-facing on its own. */
export class VaultFormatError extends Error {}

export interface Envelope {
  version: '1.1' | '1.2';
  cipher: string;
  /** the vault id from a 1.2 header; absent for 1.1 */
  label?: string;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

export interface DerivedKeys {
  cipherKey: Buffer;
  hmacKey: Buffer;
  iv: Buffer;
}

const HEX = /^[0-9a-fA-F]*$/;

function unhex(s: string, what: string): Buffer {
  if (!HEX.test(s) || s.length % 2 !== 0) throw new VaultFormatError(`${what} is not valid hexadecimal`);
  return Buffer.from(s, 'hex');
}

/** Split a vault text into its header fields and binary parts, checking every field. */
export function parseEnvelope(text: string): Envelope {
  const lines = text.replace(/^\s+/, '').split(/\r\n|\r|\n/);
  const header = lines[0].split(';').map((p) => p.trim());
  if (header[0] !== VAULT_MAGIC) throw new VaultFormatError(`the first line is not a ${VAULT_MAGIC} header`);
  if (header.length < 3) throw new VaultFormatError(`the header "${lines[0].trim()}" has too few fields`);
  const version = header[1];
  if (version !== '1.1' && version !== '1.2') {
    throw new VaultFormatError(`vault format version "${version}" is not supported (only 1.1 and 1.2)`);
  }
  const cipher = header[2];
  if (cipher !== CIPHER) throw new VaultFormatError(`cipher "${cipher}" is not supported (only ${CIPHER})`);
  // Ansible reads a label whenever a 4th field is present, whatever the version says
  const label = header.length >= 4 && header[3] !== '' ? header[3] : undefined;

  const body = lines.slice(1).join('').replace(/\s+/g, '');
  if (body === '') throw new VaultFormatError('there is no encrypted data after the header');
  const inner = unhex(body, 'the encrypted data').toString('latin1');
  const nl1 = inner.indexOf('\n');
  const nl2 = nl1 < 0 ? -1 : inner.indexOf('\n', nl1 + 1);
  if (nl2 < 0) throw new VaultFormatError('the encrypted data does not have the salt, HMAC and ciphertext parts');
  const salt = unhex(inner.slice(0, nl1), 'the salt');
  const hmac = unhex(inner.slice(nl1 + 1, nl2), 'the HMAC');
  const ciphertext = unhex(inner.slice(nl2 + 1), 'the ciphertext');
  if (salt.length === 0) throw new VaultFormatError('the salt is empty');
  if (hmac.length !== HMAC_LEN) throw new VaultFormatError(`the HMAC is ${hmac.length} bytes, expected ${HMAC_LEN}`);
  // PKCS#7 always adds 1..16 bytes, so a valid ciphertext is a non-empty multiple of the block size
  if (ciphertext.length === 0 || ciphertext.length % IV_LEN !== 0) {
    throw new VaultFormatError(`the ciphertext length (${ciphertext.length} bytes) is not a multiple of ${IV_LEN}`);
  }
  return { version, cipher, label, salt, hmac, ciphertext };
}

export function deriveKeys(password: Buffer, salt: Buffer): DerivedKeys {
  const km = pbkdf2Sync(password, salt, PBKDF2_ITERATIONS, 2 * KEY_LEN + IV_LEN, 'sha256');
  return { cipherKey: km.subarray(0, KEY_LEN), hmacKey: km.subarray(KEY_LEN, 2 * KEY_LEN), iv: km.subarray(2 * KEY_LEN) };
}

/**
 * Decrypt an envelope with derived keys. Returns null when the HMAC does not match (a wrong
 * password, or tampered data: the two cannot be told apart, by design). The HMAC is checked
 * in constant time before any decryption happens.
 */
export function decryptWithKeys(env: Envelope, keys: DerivedKeys): Buffer | null {
  const mac = createHmac('sha256', keys.hmacKey).update(env.ciphertext).digest();
  if (mac.length !== env.hmac.length || !timingSafeEqual(mac, env.hmac)) return null;
  const d = createDecipheriv('aes-256-ctr', keys.cipherKey, keys.iv);
  const padded = Buffer.concat([d.update(env.ciphertext), d.final()]);
  const n = padded[padded.length - 1];
  // authentic data with bad padding means the writer was broken, not that the password is wrong
  if (n < 1 || n > IV_LEN || n > padded.length) throw new VaultFormatError('the decrypted data has invalid padding');
  for (let i = padded.length - n; i < padded.length; i++) {
    if (padded[i] !== n) throw new VaultFormatError('the decrypted data has invalid padding');
  }
  return padded.subarray(0, padded.length - n);
}

/** Encrypt to the hexlified payload (no header, no wrapping). `salt` is for tests only. */
export function encryptPayload(plaintext: Buffer, password: Buffer, salt: Buffer = randomBytes(SALT_LEN)): string {
  const keys = deriveKeys(password, salt);
  const n = IV_LEN - (plaintext.length % IV_LEN);
  const padded = Buffer.concat([plaintext, Buffer.alloc(n, n)]);
  const c = createCipheriv('aes-256-ctr', keys.cipherKey, keys.iv);
  const ciphertext = Buffer.concat([c.update(padded), c.final()]);
  const mac = createHmac('sha256', keys.hmacKey).update(ciphertext).digest();
  const inner = `${salt.toString('hex')}\n${mac.toString('hex')}\n${ciphertext.toString('hex')}`;
  return Buffer.from(inner, 'latin1').toString('hex');
}

/** Header plus the payload in 80-column lines, ending with a newline (as Ansible writes it). */
export function formatEnvelope(payloadHex: string, label?: string): string {
  const header = label && label !== 'default' ? `${VAULT_MAGIC};1.2;${CIPHER};${label}` : `${VAULT_MAGIC};1.1;${CIPHER}`;
  const out = [header];
  for (let i = 0; i < payloadHex.length; i += LINE_WIDTH) out.push(payloadHex.slice(i, i + LINE_WIDTH));
  return out.join('\n') + '\n';
}
