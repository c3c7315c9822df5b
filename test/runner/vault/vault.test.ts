import { chmodSync } from 'fs';
import { VaultError, YamlError } from '../../../runner/errors';
import { MASK, secrets } from '../../../runner/secrets';
import { Vault, registerYamlScalars } from '../../../runner/vault';
import { parseEnvelope } from '../../../runner/vault/format';
import { parseYaml } from '../../../runner/yaml';
import { tempDir } from './helpers';

const PW = 'correct horse battery staple';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

beforeEach(() => secrets.clear());

describe('Vault encrypt/decrypt', () => {
  const v = new Vault([{ password: PW }]);

  it('round-trips text, including unicode, empty text and exact block multiples', () => {
    for (const s of ['hello', '', 'x'.repeat(16), 'x'.repeat(33), 'päss wörd ✓\n', 'a\nb\nc\n']) {
      const ct = v.encrypt(s);
      expect(v.isEncrypted(ct)).toBe(true);
      expect(v.decrypt(ct)).toBe(s);
    }
  });

  it('writes a 1.1 header and 80-column hex lines ending in a newline', () => {
    const ct = v.encrypt('some secret value that is long enough to need several lines of output');
    const lines = ct.split('\n');
    expect(lines[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(lines[lines.length - 1]).toBe('');
    const body = lines.slice(1, -1);
    expect(body.length).toBeGreaterThan(1);
    for (const l of body.slice(0, -1)) expect(l).toMatch(/^[0-9a-f]{80}$/);
    expect(body[body.length - 1]).toMatch(/^[0-9a-f]{1,80}$/);
  });

  it('uses a fresh salt each time', () => {
    expect(v.encrypt('same')).not.toBe(v.encrypt('same'));
  });

  it('writes a 1.2 header with the vault id label, and a default id stays 1.1', () => {
    const multi = new Vault([{ id: 'dev', password: 'devpw' }, { id: 'prod', password: 'prodpw' }]);
    expect(multi.encrypt('x', 'prod').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(multi.encrypt('x').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    expect(new Vault([{ id: 'default', password: 'p1' }]).encrypt('x').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.1;AES256');
    expect(() => multi.encrypt('x', 'stage')).toThrow(VaultError);
  });

  it('tries the password matching the label first, then every other one', () => {
    const a = new Vault([{ id: 'prod', password: 'prodpw' }]);
    const ct = a.encrypt('payload');
    // right label, wrong order: still decrypts
    expect(new Vault([{ id: 'dev', password: 'devpw' }, { id: 'prod', password: 'prodpw' }]).decrypt(ct)).toBe('payload');
    // label points at a wrong password, but another password is right (the label is only a hint)
    expect(new Vault([{ id: 'prod', password: 'nope' }, { id: 'other', password: 'prodpw' }]).decrypt(ct)).toBe('payload');
    const relabelled = ct.replace(';prod\n', ';other\n');
    expect(new Vault([{ id: 'x', password: 'prodpw' }]).decrypt(relabelled)).toBe('payload');
  });

  it('accepts inline-style text: indentation stripped by YAML, CRLF line ends, upper-case hex', () => {
    const ct = v.encrypt('value');
    expect(v.decrypt(ct.replace(/\n/g, '\r\n'))).toBe('value');
    const [h, ...rest] = ct.split('\n');
    expect(v.decrypt([h, ...rest.map((l) => l.toUpperCase())].join('\n'))).toBe('value');
    expect(v.decrypt(`  ${ct}`)).toBe('value');
  });

  it('rejects empty passwords and ";" in vault ids', () => {
    expect(() => new Vault([{ password: '' }])).toThrow(VaultError);
    expect(() => new Vault([{ id: 'a;b', password: 'x' }])).toThrow(/not allowed/);
  });
});

describe('Vault errors', () => {
  const v = new Vault([{ password: PW }]);
  const ct = v.encrypt('top secret data');
  const loc = { file: 'group_vars/all/vault.yml', line: 1, column: 1 };

  it('a wrong password is a VaultError naming the file', () => {
    const e = thrown(() => new Vault([{ password: 'wrong' }]).decrypt(ct, loc)) as VaultError;
    expect(e).toBeInstanceOf(VaultError);
    expect(e.message).toBe('Decryption failed (no vault secrets would decrypt) for group_vars/all/vault.yml');
    expect(e.location).toEqual(loc);
    expect(e.describe()).toContain('group_vars/all/vault.yml:1:1');
  });

  it('says which vault id the data wants when no password has it', () => {
    const ct2 = new Vault([{ id: 'prod', password: 'p' }]).encrypt('x');
    const e = thrown(() => new Vault([{ id: 'dev', password: 'q' }]).decrypt(ct2, { file: 'f.yml' })) as VaultError;
    expect(e.hint).toContain("vault id 'prod'");
  });

  it('a tampered HMAC is a VaultError, and so is tampered ciphertext', () => {
    const env = parseEnvelope(ct);
    const rebuild = (salt: Buffer, hmac: Buffer, c: Buffer): string => {
      const inner = Buffer.from(`${salt.toString('hex')}\n${hmac.toString('hex')}\n${c.toString('hex')}`, 'latin1').toString('hex');
      return `$ANSIBLE_VAULT;1.1;AES256\n${inner}\n`;
    };
    // sanity: the rebuild of the untouched parts still decrypts
    expect(v.decrypt(rebuild(env.salt, env.hmac, env.ciphertext))).toBe('top secret data');
    const badMac = Buffer.from(env.hmac);
    badMac[5] ^= 1;
    expect(() => v.decrypt(rebuild(env.salt, badMac, env.ciphertext), { file: 'x.yml' })).toThrow(VaultError);
    const badCt = Buffer.from(env.ciphertext);
    badCt[0] ^= 0x80;
    expect(() => v.decrypt(rebuild(env.salt, env.hmac, badCt), { file: 'x.yml' })).toThrow(/Decryption failed.*x\.yml/);
  });

  it('truncated data, garbage and bad headers are VaultErrors naming the file', () => {
    const cases: Array<[string, RegExp]> = [
      [ct.slice(0, 60), /Vault format error in x\.yml/],
      [ct.slice(0, ct.length - 10), /Vault format error in x\.yml/],
      ['$ANSIBLE_VAULT;1.1;AES256\n', /no encrypted data/],
      ['$ANSIBLE_VAULT;1.1;AES256\nzzzz\n', /not valid hexadecimal/],
      ['$ANSIBLE_VAULT;1.1;AES256\n616263\n', /salt, HMAC and ciphertext/],
      ['$ANSIBLE_VAULT;1.0;AES256\n' + ct.split('\n').slice(1).join('\n'), /version "1\.0" is not supported/],
      [ct.replace('AES256', 'AES'), /cipher "AES" is not supported/],
      ['$ANSIBLE_VAULT;1.1\n00', /too few fields/],
      ['hello: world\n', /x\.yml is not a vault encrypted file/],
    ];
    for (const [text, re] of cases) {
      const e = thrown(() => v.decrypt(text, { file: 'x.yml' }));
      expect(e).toBeInstanceOf(VaultError);
      expect((e as Error).message).toMatch(re);
    }
  });

  it('decrypting without any password is a VaultError with a hint', () => {
    const e = thrown(() => new Vault([]).decrypt(ct, { file: 'f.yml' })) as VaultError;
    expect(e).toBeInstanceOf(VaultError);
    expect(e.hint).toMatch(/--vault-password-file/);
  });

  it('binary plaintext is refused as a variable value', () => {
    const bin = v.encrypt(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    expect(() => v.decrypt(bin, { file: 'b.bin' })).toThrow(/not UTF-8/);
    expect(v.open(bin).plaintext).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
  });
});

describe('YAML integration and masking', () => {
  const v = new Vault([{ password: PW }]);

  function inline(name: string, value: string, indent = ''): string {
    const body = v.encrypt(value).trimEnd().split('\n').map((l) => `${indent}  ${l}`).join('\n');
    return `${indent}${name}: !vault |\n${body}\n`;
  }

  it('decrypts inline !vault values through parseYaml and masks them', () => {
    const text = `db:\n  host: db1\n${inline('password', 'Pg-s3cret!', '  ')}port: 5432\n`;
    const data = parseYaml(text, 'vars.yml', { decrypt: v.decryptFn }) as { db: { host: string; password: string }; port: number };
    expect(data.db.password).toBe('Pg-s3cret!');
    expect(data.db.host).toBe('db1');
    expect(secrets.mask('connecting with Pg-s3cret! to db1')).toBe(`connecting with ${MASK} to db1`);
  });

  it('a wrong password on an inline value names file:line:column', () => {
    const text = `a: 1\n${inline('pw', 'zzz-secret')}`;
    const e = thrown(() => parseYaml(text, 'host_vars/db1.yml', { decrypt: new Vault([{ password: 'bad' }]).decryptFn })) as VaultError;
    expect(e).toBeInstanceOf(VaultError);
    expect(e.location).toMatchObject({ file: 'host_vars/db1.yml', line: 2 });
    expect(e.message).toContain('host_vars/db1.yml');
  });

  it('a whole vault file registers its scalar values, not its keys or whole text', () => {
    const plain = 'vault_db_password: "hunter2-db"\nvault_users:\n  - name: alice\n    token: tok-abcdef\nvault_pin: 84736251\nport: 5432\nenabled: true\n';
    const data = parseYaml(v.encrypt(plain), 'vault.yml', { decrypt: v.decryptFn }) as Record<string, unknown>;
    expect(data.vault_db_password).toBe('hunter2-db');
    for (const s of ['hunter2-db', 'alice', 'tok-abcdef', '84736251']) expect(secrets.has(s)).toBe(true);
    for (const s of ['vault_db_password', 'vault_users', 'token', plain, '5432', 'true']) expect(secrets.has(s)).toBe(false);
    expect(secrets.mask('vault_db_password=hunter2-db port=5432')).toBe(`vault_db_password=${MASK} port=5432`);
  });

  it('without a password a vault file is a YamlError with a hint', () => {
    expect(() => parseYaml(v.encrypt('a: b\n'), 'vault.yml')).toThrow(YamlError);
  });

  it('registerYamlScalars registers unparsable text whole', () => {
    registerYamlScalars('key: [unclosed, "x\n');
    expect(secrets.has('key: [unclosed, "x')).toBe(true);
  });

  it('decrypt() registers the value and its trimmed form', () => {
    v.decrypt(v.encrypt('from-stdin-secret\n'));
    expect(secrets.has('from-stdin-secret\n')).toBe(true);
    expect(secrets.mask('pw=from-stdin-secret;')).toBe(`pw=${MASK};`);
  });
});

describe('Vault.fromOptions', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());
  const ct = new Vault([{ password: 'filepw' }]).encrypt('ok');

  it('returns undefined with no source at all', async () => {
    expect(await Vault.fromOptions({ env: {} })).toBeUndefined();
  });

  it('reads a password file, stripping surrounding whitespace', async () => {
    const f = t.file('pw', '  filepw \n\n');
    const v = await Vault.fromOptions({ passwordFiles: [f], env: {} });
    expect(v!.decrypt(ct)).toBe('ok');
  });

  it('runs an executable password file and uses its stdout', async () => {
    const f = t.file('pw.sh', '#!/bin/sh\necho "filepw"\n', 0o700);
    const v = await Vault.fromOptions({ passwordFiles: [f], env: {} });
    expect(v!.decrypt(ct)).toBe('ok');
  });

  it('gives a client script --vault-id LABEL, and exit 2 means no secret for that id', async () => {
    const f = t.file('vault-pass-client.sh',
      '#!/bin/sh\n[ "$1" = --vault-id ] || exit 1\ncase "$2" in prod) echo "pw-for-$2";; *) echo "no $2" >&2; exit 2;; esac\n', 0o700);
    const v = await Vault.fromOptions({ vaultIds: [`prod@${f}`], env: {} });
    const prodCt = new Vault([{ id: 'prod', password: 'pw-for-prod' }]).encrypt('via-client');
    expect(v!.decrypt(prodCt)).toBe('via-client');
    await expect(Vault.fromOptions({ vaultIds: [`dev@${f}`], env: {} })).rejects.toThrow(/did not find a secret for vault-id=dev: no dev/);
  });

  it('reports a failing script, a missing file and an empty file as VaultErrors', async () => {
    const bad = t.file('bad.sh', '#!/bin/sh\necho oops >&2\nexit 3\n', 0o700);
    await expect(Vault.fromOptions({ passwordFiles: [bad], env: {} })).rejects.toThrow(/returned non-zero \(3\): oops/);
    await expect(Vault.fromOptions({ passwordFiles: [t.file('missing')], env: {} })).rejects.toThrow(/was not found/);
    await expect(Vault.fromOptions({ passwordFiles: [t.file('empty', '\n')], env: {} })).rejects.toThrow(VaultError);
    const notExec = t.file('noexec.sh', '#!/bin/sh\necho filepw\n');
    chmodSync(notExec, 0o600);
    // not executable: read as a plain file, so the password is the script text and cannot decrypt
    const v = await Vault.fromOptions({ passwordFiles: [notExec], env: {} });
    expect(() => v!.decrypt(ct)).toThrow(/Decryption failed/);
  });

  it('reads TSPLAY_VAULT_PASSWORD_FILE and ANSIBLE_VAULT_PASSWORD_FILE', async () => {
    const f = t.file('pw', 'filepw\n');
    expect((await Vault.fromOptions({ env: { TSPLAY_VAULT_PASSWORD_FILE: f } }))!.decrypt(ct)).toBe('ok');
    expect((await Vault.fromOptions({ env: { ANSIBLE_VAULT_PASSWORD_FILE: f } }))!.decrypt(ct)).toBe('ok');
  });

  it('asks for the password with --ask-vault-pass, and fails clearly without a prompt', async () => {
    const asked: string[] = [];
    const v = await Vault.fromOptions({ askPass: true, env: {}, prompt: async (q) => (asked.push(q), 'filepw') });
    expect(asked).toEqual(['Vault password: ']);
    expect(v!.decrypt(ct)).toBe('ok');
    await expect(Vault.fromOptions({ askPass: true, env: {} })).rejects.toThrow(VaultError);
  });

  it('combines several ids: --vault-id label@prompt and files', async () => {
    const f = t.file('pw', 'filepw\n');
    const v = await Vault.fromOptions({ vaultIds: ['prod@prompt'], passwordFiles: [f], env: {}, prompt: async () => 'prodpw' });
    expect(v!.ids).toEqual(['prod', 'default']);
    expect(v!.decrypt(ct)).toBe('ok');
    expect(v!.decrypt(new Vault([{ id: 'prod', password: 'prodpw' }]).encrypt('p'))).toBe('p');
  });
});
