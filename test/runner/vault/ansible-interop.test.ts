/**
 * Interoperability with the real ansible-vault (Debian's ansible-core). These tests require
 * it and fail with an install hint when it is missing: compatibility is the point of the format.
 */

import { spawnSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import { secrets } from '../../../runner/secrets';
import { runVaultCommand, Vault } from '../../../runner/vault';
import { encryptPayload } from '../../../runner/vault/format';
import { parseYaml } from '../../../runner/yaml';
import { ansibleVault, ansibleVaultPath, fakeIO, tempDir } from './helpers';

jest.setTimeout(60_000);

const PW = 'interop-Pässword';
let t: ReturnType<typeof tempDir>;
let pwFile: string;

beforeAll(() => {
  t = tempDir();
  pwFile = t.file('pw', `${PW}\n`);
});
afterAll(() => t.cleanup());
beforeEach(() => secrets.clear());

it('ansible-vault is installed', () => {
  expect(ansibleVaultPath()).toMatch(/ansible-vault$/);
});

it('our encryption with a fixed salt is byte-identical to ansible-core\'s (known vector)', () => {
  const salt = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
  const plaintext = 'vault_db_password: "s3cr3t"\nüñí: ✓\n';
  const py = [
    'import sys',
    'from ansible.parsing.vault import VaultAES256, VaultSecret',
    'pt, pw, salt = sys.argv[1].encode(), sys.argv[2].encode(), bytes.fromhex(sys.argv[3])',
    'sys.stdout.write(VaultAES256.encrypt(pt, VaultSecret(pw), salt=salt).decode())',
  ].join('\n');
  // the interpreter ansible-vault itself runs with, so its ansible package is importable
  const python = readFileSync(ansibleVaultPath(), 'utf8').split('\n')[0].replace(/^#!\s*/, '').trim().split(/\s+/);
  const r = spawnSync(python[0], [...python.slice(1), '-c', py, plaintext, PW, salt.toString('hex')], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(encryptPayload(Buffer.from(plaintext, 'utf8'), Buffer.from(PW, 'utf8'), salt)).toBe(r.stdout);
});

it('files we encrypt (1.1) open with ansible-vault', () => {
  const f = t.file('ours.yml', new Vault([{ password: PW }]).encrypt('a: 1\nsecret: "x y z"\n'));
  const r = ansibleVault(['view', '--vault-password-file', pwFile, f]);
  expect(r.stderr).not.toMatch(/ERROR/);
  expect(r.stdout).toBe('a: 1\nsecret: "x y z"\n');
});

it('files we encrypt with a vault id (1.2) open with ansible-vault --vault-id', () => {
  const f = t.file('ours12.yml', new Vault([{ id: 'prod', password: PW }]).encrypt('x'.repeat(200)));
  expect(readFileSync(f, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
  const r = ansibleVault(['decrypt', '--vault-id', `prod@${pwFile}`, '--output', '-', f]);
  expect(r.stdout).toBe('x'.repeat(200));
});

it('files ansible-vault encrypts open here, 1.1 and 1.2', () => {
  for (const [args, id] of [[['--vault-password-file', pwFile], undefined], [['--vault-id', `stage@${pwFile}`], 'stage']] as const) {
    const f = t.file(`theirs-${id ?? 'default'}.yml`, 'user: admin\npassword: "Tr0ub4dor&3"\n');
    const r = ansibleVault(['encrypt', ...args, f]);
    expect(r.rc).toBe(0);
    const text = readFileSync(f, 'utf8');
    expect(text.startsWith(id ? `$ANSIBLE_VAULT;1.2;AES256;${id}` : '$ANSIBLE_VAULT;1.1;AES256')).toBe(true);
    const data = parseYaml(text, f, { decrypt: new Vault([{ id, password: PW }]).decryptFn }) as Record<string, string>;
    expect(data.password).toBe('Tr0ub4dor&3');
    expect(secrets.mask('pw Tr0ub4dor&3')).toBe('pw ********');
  }
});

it('ansible-vault encrypt_string output loads through parseYaml', () => {
  const r = ansibleVault(['encrypt_string', '--vault-password-file', pwFile, '--name', 'db_pass', 'from-ansible-42']);
  expect(r.rc).toBe(0);
  const data = parseYaml(`${r.stdout}\nother: 1\n`, 'vars.yml', { decrypt: new Vault([{ password: PW }]).decryptFn }) as Record<string, unknown>;
  expect(data).toEqual({ db_pass: 'from-ansible-42', other: 1 });
});

it('our encrypt_string output decrypts with ansible-vault', async () => {
  const io = fakeIO();
  expect(await runVaultCommand(['encrypt_string', '--vault-password-file', pwFile, '--name', 'api_key', 'k-123-secret'], io, {})).toBe(0);
  // pull the vault text back out of the YAML block and let ansible-vault decrypt it
  const vaultText = io.out.split('\n').slice(1).map((l) => l.trim()).filter(Boolean).join('\n') + '\n';
  const f = t.file('from-string.vault', vaultText);
  const r = ansibleVault(['decrypt', '--vault-password-file', pwFile, '--output', '-', f]);
  expect(r.stdout).toBe('k-123-secret');
});

it('a file edited here is still readable by ansible-vault', async () => {
  const f = t.file('edit-me.yml', 'v: 1\n');
  expect(ansibleVault(['encrypt', '--vault-password-file', pwFile, f]).rc).toBe(0);
  const editor = t.file('ed.sh', '#!/bin/sh\nsed -i "s/v: 1/v: 2/" "$1"\n', 0o700);
  const io = fakeIO();
  expect(await runVaultCommand(['edit', '--vault-password-file', pwFile, f], io, { EDITOR: editor, PATH: process.env.PATH })).toBe(0);
  expect(readFileSync(f, 'utf8').startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
  expect(ansibleVault(['view', '--vault-password-file', pwFile, f]).stdout).toBe('v: 2\n');
  writeFileSync(f, 'cleanup');
});
