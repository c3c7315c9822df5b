/**
 * A set of vault passwords (each with a vault id, "default" when none is given) that can
 * decrypt and encrypt Ansible Vault text. Decrypted values are registered with the secret
 * registry so they never reach output.
 */

import { SourceLocation, VaultError } from '../errors';
import { secrets } from '../secrets';
import {
  decryptWithKeys, deriveKeys, DerivedKeys, encryptPayload, Envelope, formatEnvelope, parseEnvelope,
  VAULT_HEADER_PREFIX, VaultFormatError,
} from './format';
import { registerSecretValue, registerYamlScalars } from './mask';
import { DEFAULT_ID, parseVaultId, readPasswordSource, VaultPassword } from './passwords';

interface Secret {
  id: string;
  password: Buffer;
}

/** What `open` found: the plaintext bytes and the secret that decrypted them. */
export interface Opened {
  plaintext: Buffer;
  /** the id of the password that worked */
  id: string;
  /** the label written in the header (1.2), if any */
  label?: string;
}

export interface VaultOptions {
  /** --vault-password-file (repeatable): a file, or an executable whose stdout is the password */
  passwordFiles?: string[];
  /** --vault-id [label@]source (repeatable); source is a file, a script or `prompt` */
  vaultIds?: string[];
  /** --ask-vault-pass */
  askPass?: boolean;
  /** TSPLAY_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_PASSWORD_FILE are read from here (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** asks for a password without echo; needed for --ask-vault-pass and `prompt` sources */
  prompt?: (q: string) => Promise<string>;
  /** prompting creates a new password: ask twice and compare (the vault command's encrypt/create) */
  confirmPrompt?: boolean;
}

/** Keys derived per (password, salt): a file read several times costs one PBKDF2 run. */
const KEY_CACHE_MAX = 512;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class Vault {
  private readonly secretsList: Secret[];
  private readonly keyCache = new Map<string, DerivedKeys>();

  constructor(passwords: VaultPassword[]) {
    this.secretsList = passwords.map((p, i) => {
      const id = p.id === undefined || p.id === '' ? DEFAULT_ID : p.id;
      if (id.includes(';')) throw new VaultError(`'${id}' is not a valid vault id: the character ';' is not allowed in vault ids`);
      if (typeof p.password !== 'string' || p.password === '') {
        throw new VaultError(`vault password #${i + 1}${id !== DEFAULT_ID ? ` (vault id ${id})` : ''} is empty`);
      }
      return { id, password: Buffer.from(p.password, 'utf8') };
    });
  }

  /**
   * Collect passwords from the command-line options and the environment, in this order:
   * --vault-id entries, --vault-password-file entries, the environment files, --ask-vault-pass.
   * Returns undefined when no source was given at all.
   */
  static async fromOptions(o: VaultOptions): Promise<Vault | undefined> {
    const env = o.env ?? process.env;
    const sources: Array<{ label: string; source: string }> = [];
    for (const spec of o.vaultIds ?? []) sources.push(parseVaultId(spec));
    for (const f of o.passwordFiles ?? []) sources.push({ label: DEFAULT_ID, source: f });
    for (const name of ['TSPLAY_VAULT_PASSWORD_FILE', 'ANSIBLE_VAULT_PASSWORD_FILE']) {
      const f = env[name];
      if (f) sources.push({ label: DEFAULT_ID, source: f });
    }
    if (o.askPass) sources.push({ label: DEFAULT_ID, source: 'prompt' });

    const seen = new Set<string>();
    const passwords: VaultPassword[] = [];
    for (const s of sources) {
      const key = `${s.label}\0${s.source}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (s.source === 'prompt') {
        passwords.push({ id: s.label, password: await askPassword(s.label, o) });
      } else {
        passwords.push({ id: s.label, password: await readPasswordSource(s.source, s.label, env) });
      }
    }
    return passwords.length > 0 ? new Vault(passwords) : undefined;
  }

  /** The vault ids, in the order they are tried. */
  get ids(): string[] {
    return [...new Set(this.secretsList.map((s) => s.id))];
  }

  /** Whether text is vault data (Ansible's test: it starts with the header). */
  isEncrypted(text: string): boolean {
    return typeof text === 'string' && text.startsWith(VAULT_HEADER_PREFIX);
  }

  /**
   * Decrypt without registering anything (for the vault command, which shows plaintext on
   * purpose). `what` names the input in messages ("group_vars/all/vault.yml").
   */
  open(text: string, what?: string, loc?: SourceLocation): Opened {
    const where = what ? ` ${what}` : '';
    if (typeof text !== 'string' || !text.replace(/^\s+/, '').startsWith(VAULT_HEADER_PREFIX)) {
      throw new VaultError(`input is not vault encrypted data${what ? `: ${what} is not a vault encrypted file` : ''}`, loc);
    }
    let env: Envelope;
    try {
      env = parseEnvelope(text);
    } catch (e) {
      if (e instanceof VaultFormatError) {
        throw new VaultError(`Vault format error in${where || ' input'}: ${e.message}`, loc,
          'the vault data is truncated or corrupted; restore it from version control or re-encrypt it');
      }
      throw e;
    }
    if (this.secretsList.length === 0) {
      throw new VaultError(`A vault password is required to decrypt${where || ' vault data'}`, loc,
        'pass --vault-password-file FILE, --vault-id LABEL@SOURCE or --ask-vault-pass');
    }
    // the label is a hint only (it is not authenticated): try its secrets first, then all
    const ordered = env.label
      ? [...this.secretsList.filter((s) => s.id === env.label), ...this.secretsList.filter((s) => s.id !== env.label)]
      : this.secretsList;
    for (const s of ordered) {
      let plaintext: Buffer | null;
      try {
        plaintext = decryptWithKeys(env, this.keysFor(s, env.salt));
      } catch (e) {
        if (e instanceof VaultFormatError) throw new VaultError(`Vault format error in${where || ' input'}: ${e.message}`, loc);
        throw e;
      }
      if (plaintext) return { plaintext, id: s.id, label: env.label };
    }
    const ids = this.ids.join(', ');
    throw new VaultError(`Decryption failed (no vault secrets would decrypt)${what ? ` for ${what}` : ''}`, loc,
      env.label && !this.ids.includes(env.label)
        ? `the data was encrypted with vault id '${env.label}'; the passwords given are for: ${ids}`
        : 'the vault password is wrong, or the data was tampered with');
  }

  /** Decrypt vault text to a string and register it as a secret. */
  decrypt(ciphertext: string, loc?: SourceLocation): string {
    const text = this.decryptText(ciphertext, loc);
    registerSecretValue(text);
    return text;
  }

  /**
   * For runner/yaml's YamlOptions.decrypt. runner/yaml hands over a whole vault-encrypted file
   * with the location line 1, column 1, and a `!vault` value with the location of its `|`/quote,
   * which can never be line 1, column 1 (the `!vault` tag stands before it). A whole file gets
   * its YAML scalar values registered (registerYamlScalars), a single value gets registered whole.
   */
  readonly decryptFn = (ciphertext: string, loc: SourceLocation): string => {
    const text = this.decryptText(ciphertext, loc);
    if (loc && loc.line === 1 && loc.column === 1) registerYamlScalars(text);
    else registerSecretValue(text);
    return text;
  };

  /** Encrypt with the password of vault id `id` (default: the first password). */
  encrypt(plaintext: string | Buffer, id?: string): string {
    const s = this.secretFor(id);
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    return formatEnvelope(encryptPayload(data, s.password), s.id);
  }

  /**
   * Encrypt again with the password that opened `o`, keeping its header label (the vault
   * command's edit: a 1.1 file stays 1.1).
   */
  reencrypt(plaintext: Buffer, o: Opened): string {
    const s = this.secretFor(o.id);
    return formatEnvelope(encryptPayload(plaintext, s.password), o.label);
  }

  private decryptText(ciphertext: string, loc?: SourceLocation): string {
    const { plaintext } = this.open(ciphertext, loc?.file, loc);
    try {
      return utf8.decode(plaintext);
    } catch {
      throw new VaultError(`the decrypted data${loc?.file ? ` of ${loc.file}` : ''} is not UTF-8 text`, loc,
        'binary vault files can be decrypted with `tsplay vault decrypt`, not loaded as variables');
    }
  }

  private secretFor(id?: string): Secret {
    if (this.secretsList.length === 0) throw new VaultError('A vault password is required to encrypt');
    if (id === undefined) return this.secretsList[0];
    const s = this.secretsList.find((x) => x.id === id);
    if (!s) throw new VaultError(`no vault password was given for vault id '${id}'`, undefined, `known vault ids: ${this.ids.join(', ')}`);
    return s;
  }

  private keysFor(s: Secret, salt: Buffer): DerivedKeys {
    const idx = this.secretsList.indexOf(s);
    const key = `${idx}:${salt.toString('hex')}`;
    let k = this.keyCache.get(key);
    if (!k) {
      if (this.keyCache.size >= KEY_CACHE_MAX) this.keyCache.clear();
      k = deriveKeys(s.password, salt);
      this.keyCache.set(key, k);
    }
    return k;
  }
}

async function askPassword(label: string, o: VaultOptions): Promise<string> {
  if (!o.prompt) {
    throw new VaultError('cannot ask for the vault password here (no terminal)', undefined,
      'use --vault-password-file FILE or TSPLAY_VAULT_PASSWORD_FILE instead');
  }
  const suffix = label === DEFAULT_ID ? '' : ` (${label})`;
  const strip = (s: string): string => s.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
  if (o.confirmPrompt) {
    const a = strip(await o.prompt(`New vault password${suffix}: `));
    const b = strip(await o.prompt(`Confirm new vault password${suffix}: `));
    if (a !== b) throw new VaultError('Passwords do not match');
    if (a === '') throw new VaultError('Invalid vault password was provided from prompt: it is empty');
    return a;
  }
  const pw = strip(await o.prompt(`Vault password${suffix}: `));
  if (pw === '') throw new VaultError('Invalid vault password was provided from prompt: it is empty');
  return pw;
}
