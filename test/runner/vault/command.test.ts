import { existsSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { secrets } from '../../../runner/secrets';
import { runVaultCommand, Vault, VAULT_USAGE } from '../../../runner/vault';
import { parseYaml } from '../../../runner/yaml';
import { fakeIO, tempDir } from './helpers';

const PW = 'cmd-test-password';
const vault = new Vault([{ password: PW }]);

let t: ReturnType<typeof tempDir>;
let pwFile: string;
const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH });

beforeEach(() => {
  t = tempDir();
  pwFile = t.file('pw', `${PW}\n`);
  secrets.clear();
});
afterEach(() => t.cleanup());

async function run(args: string[], opts: { stdin?: string; answers?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const io = fakeIO(opts);
  const rc = await runVaultCommand(args, io, opts.env ?? env());
  return { rc, io };
}

describe('encrypt / decrypt / view', () => {
  it('encrypts in place keeping the mode, and decrypts back', async () => {
    const f = t.file('vars.yml', 'password: p@ss\n', 0o640);
    const { rc, io } = await run(['encrypt', '--vault-password-file', pwFile, f]);
    expect(rc).toBe(0);
    expect(io.err).toContain('Encryption successful');
    const ct = readFileSync(f, 'utf8');
    expect(ct.startsWith('$ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(statSync(f).mode & 0o7777).toBe(0o640);
    expect(vault.decrypt(ct)).toBe('password: p@ss\n');
    // no temp files left next to it
    expect(require('fs').readdirSync(t.dir).sort()).toEqual(['pw', 'vars.yml']);

    expect((await run(['decrypt', `--vault-password-file=${pwFile}`, f])).rc).toBe(0);
    expect(readFileSync(f, 'utf8')).toBe('password: p@ss\n');
    expect(statSync(f).mode & 0o7777).toBe(0o640);
  });

  it('encrypts several files, and through a symlink writes the target', async () => {
    const a = t.file('a.yml', 'a: 1\n');
    const b = t.file('b.yml', 'b: 2\n');
    const link = path.join(t.dir, 'link.yml');
    symlinkSync(b, link);
    expect((await run(['encrypt', '--vault-password-file', pwFile, a, link])).rc).toBe(0);
    expect(vault.decrypt(readFileSync(a, 'utf8'))).toBe('a: 1\n');
    expect(vault.decrypt(readFileSync(b, 'utf8'))).toBe('b: 2\n');
    expect(require('fs').lstatSync(link).isSymbolicLink()).toBe(true);
  });

  it('refuses to encrypt twice and to decrypt plain text', async () => {
    const f = t.file('x.yml', 'x: 1\n');
    await run(['encrypt', '--vault-password-file', pwFile, f]);
    const before = readFileSync(f, 'utf8');
    const again = await run(['encrypt', '--vault-password-file', pwFile, f]);
    expect(again.rc).toBe(1);
    expect(again.io.err).toBe(`ERROR! ${f} is already encrypted\n`);
    expect(readFileSync(f, 'utf8')).toBe(before);
    const plain = t.file('plain.yml', 'y: 2\n');
    const d = await run(['decrypt', '--vault-password-file', pwFile, plain]);
    expect(d.rc).toBe(1);
    expect(d.io.err).toContain(`${plain} is not a vault encrypted file`);
  });

  it('reports a missing file and a wrong password clearly, without a stack trace', async () => {
    const missing = path.join(t.dir, 'nope.yml');
    const r1 = await run(['view', '--vault-password-file', pwFile, missing]);
    expect(r1.rc).toBe(1);
    expect(r1.io.err).toBe(`ERROR! ${missing}: file not found\n`);

    const f = t.file('s.yml', vault.encrypt('s: 1\n'));
    const wrong = t.file('wrong', 'not-it\n');
    const r2 = await run(['decrypt', '--vault-password-file', wrong, f]);
    expect(r2.rc).toBe(1);
    expect(r2.io.err.split('\n')[0]).toBe(`ERROR! Decryption failed (no vault secrets would decrypt) for ${f}`);
    expect(r2.io.err).not.toMatch(/\n\s+at /);
    expect(vault.decrypt(readFileSync(f, 'utf8'))).toBe('s: 1\n');

    const r3 = await run(['view', '--vault-password-file', path.join(t.dir, 'no-pw'), f]);
    expect(r3.io.err).toContain('The vault password file');
    expect(r3.rc).toBe(1);
  });

  it('decrypt --output - prints, --output FILE writes 0600 and leaves the input alone', async () => {
    const f = t.file('s.yml', vault.encrypt('k: v\n'));
    const before = readFileSync(f, 'utf8');
    const r = await run(['decrypt', '--vault-password-file', pwFile, '--output', '-', f]);
    expect(r.io.out).toBe('k: v\n');
    const out = path.join(t.dir, 'out.yml');
    expect((await run(['decrypt', '--vault-password-file', pwFile, '--output', out, f])).rc).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe('k: v\n');
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(f, 'utf8')).toBe(before);
    const two = await run(['decrypt', '--vault-password-file', pwFile, '--output', out, f, f]);
    expect(two.rc).toBe(1);
    expect(two.io.err).toContain('At most one input file');
  });

  it('encrypts stdin to stdout and decrypts stdin to stdout', async () => {
    const e = await run(['encrypt', '--vault-password-file', pwFile], { stdin: 'from stdin\n' });
    expect(e.rc).toBe(0);
    expect(vault.decrypt(e.io.out)).toBe('from stdin\n');
    const d = await run(['decrypt', '--vault-password-file', pwFile, '-'], { stdin: e.io.out });
    expect(d.io.out).toBe('from stdin\n');
  });

  it('view prints every file; the command does not mask what the user asked to see', async () => {
    const a = t.file('a.yml', vault.encrypt('alpha-secret\n'));
    const b = t.file('b.yml', vault.encrypt('beta-secret\n'));
    const r = await run(['view', '--vault-password-file', pwFile, a, b]);
    expect(r.rc).toBe(0);
    expect(r.io.out).toBe('alpha-secret\nbeta-secret\n');
  });

  it('asks for the password when no source is given, and confirms a new one', async () => {
    const f = t.file('s.yml', vault.encrypt('asked\n'));
    const r = await run(['view', f], { answers: [PW] });
    expect(r.io.out).toBe('asked\n');
    expect(r.io.prompts).toEqual([{ question: 'Vault password: ', silent: true }]);

    const g = t.file('new.yml', 'n: 1\n');
    const mismatch = await run(['encrypt', '--ask-vault-pass', g], { answers: ['one', 'two'] });
    expect(mismatch.rc).toBe(1);
    expect(mismatch.io.err).toContain('Passwords do not match');
    expect(readFileSync(g, 'utf8')).toBe('n: 1\n');
    expect((await run(['encrypt', '-J', g], { answers: ['newpw', 'newpw'] })).rc).toBe(0);
    expect(new Vault([{ password: 'newpw' }]).decrypt(readFileSync(g, 'utf8'))).toBe('n: 1\n');
  });

  it('uses TSPLAY_VAULT_PASSWORD_FILE from the environment', async () => {
    const f = t.file('s.yml', vault.encrypt('env\n'));
    const r = await run(['view', f], { env: { ...env(), TSPLAY_VAULT_PASSWORD_FILE: pwFile } });
    expect(r.io.out).toBe('env\n');
  });

  it('--vault-id writes a 1.2 header; two ids need --encrypt-vault-id', async () => {
    const f = t.file('p.yml', 'p: 1\n');
    expect((await run(['encrypt', '--vault-id', `prod@${pwFile}`, f])).rc).toBe(0);
    expect(readFileSync(f, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');

    const devPw = t.file('devpw', 'dev-password\n');
    const g = t.file('g.yml', 'g: 1\n');
    const two = await run(['encrypt', '--vault-id', `prod@${pwFile}`, '--vault-id', `dev@${devPw}`, g]);
    expect(two.rc).toBe(1);
    expect(two.io.err).toContain('--encrypt-vault-id');
    expect((await run(['encrypt', '--vault-id', `prod@${pwFile}`, '--vault-id', `dev@${devPw}`, '--encrypt-vault-id', 'dev', g])).rc).toBe(0);
    expect(readFileSync(g, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;dev');
    const view = await run(['view', '--vault-id', `prod@${pwFile}`, '--vault-id', `dev@${devPw}`, g, f]);
    expect(view.io.out).toBe('g: 1\np: 1\n');
  });
});

describe('create / edit', () => {
  /** An $EDITOR that records what it was given, then runs `action` on the file. */
  function editor(action: string): string {
    const log = path.join(t.dir, 'editor.log');
    return t.file('editor.sh', [
      '#!/bin/sh',
      `printf '%s\\n' "$1" "$(stat -c %a "$(dirname "$1")")" "$(stat -c %a "$1")" > ${JSON.stringify(log)}`,
      action,
      '',
    ].join('\n'), 0o700);
  }
  const editorLog = (): string[] => readFileSync(path.join(t.dir, 'editor.log'), 'utf8').trim().split('\n');

  it('create opens $EDITOR on a private temp file and encrypts the result', async () => {
    const f = path.join(t.dir, 'new-vault.yml');
    const ed = editor('printf "created: yes\\n" > "$1"');
    const r = await run(['create', '--vault-password-file', pwFile, f], { env: { ...env(), EDITOR: ed } });
    expect(r.rc).toBe(0);
    expect(vault.decrypt(readFileSync(f, 'utf8'))).toBe('created: yes\n');
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const [tmpFile, dirMode, fileMode] = editorLog();
    expect(path.basename(tmpFile)).toBe('new-vault.yml');
    expect(dirMode).toBe('700');
    expect(fileMode).toBe('600');
    expect(existsSync(tmpFile)).toBe(false);
    expect(existsSync(path.dirname(tmpFile))).toBe(false);
  });

  it('create refuses an existing file', async () => {
    const f = t.file('exists.yml', 'x\n');
    const r = await run(['create', '--vault-password-file', pwFile, f], { env: { ...env(), EDITOR: 'true' } });
    expect(r.rc).toBe(1);
    expect(r.io.err).toContain("exists, please use 'edit' instead");
    expect(readFileSync(f, 'utf8')).toBe('x\n');
  });

  it('edit re-encrypts a changed file, keeping mode and vault id, and removes the temp file', async () => {
    const f = t.file('e.yml', new Vault([{ id: 'prod', password: PW }]).encrypt('count: 1\n'), 0o640);
    const ed = editor('sed -i "s/count: 1/count: 2/" "$1"');
    const r = await run(['edit', '--vault-id', `prod@${pwFile}`, f], { env: { ...env(), EDITOR: ed } });
    expect(r.rc).toBe(0);
    const ct = readFileSync(f, 'utf8');
    expect(ct.split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    expect(vault.decrypt(ct)).toBe('count: 2\n');
    expect(statSync(f).mode & 0o7777).toBe(0o640);
    const [tmpFile, dirMode] = editorLog();
    expect(dirMode).toBe('700');
    expect(existsSync(path.dirname(tmpFile))).toBe(false);
  });

  it('edit leaves an unchanged file byte-for-byte alone', async () => {
    const f = t.file('same.yml', vault.encrypt('same\n'));
    const before = readFileSync(f, 'utf8');
    expect((await run(['edit', '--vault-password-file', pwFile, f], { env: { ...env(), EDITOR: editor(':') } })).rc).toBe(0);
    expect(readFileSync(f, 'utf8')).toBe(before);
  });

  it('edit with a failing editor changes nothing and still removes the temp file', async () => {
    const f = t.file('fail.yml', vault.encrypt('keep\n'));
    const before = readFileSync(f, 'utf8');
    const ed = editor('echo changed > "$1"; exit 3');
    const r = await run(['edit', '--vault-password-file', pwFile, f], { env: { ...env(), EDITOR: ed } });
    expect(r.rc).toBe(1);
    expect(r.io.err).toContain('exited with status 3');
    expect(readFileSync(f, 'utf8')).toBe(before);
    expect(existsSync(path.dirname(editorLog()[0]))).toBe(false);
  });

  it('edit of a plain file is refused', async () => {
    const f = t.file('plain.yml', 'p\n');
    const r = await run(['edit', '--vault-password-file', pwFile, f], { env: { ...env(), EDITOR: 'true' } });
    expect(r.rc).toBe(1);
    expect(r.io.err).toContain('is not a vault encrypted file');
  });
});

describe('rekey', () => {
  it('re-encrypts every file with the new password, and none when one fails', async () => {
    const a = t.file('a.yml', vault.encrypt('a\n'));
    const b = t.file('b.yml', vault.encrypt('b\n'));
    const newPw = t.file('newpw', 'brand-new\n');
    const r = await run(['rekey', '--vault-password-file', pwFile, '--new-vault-password-file', newPw, a, b]);
    expect(r.rc).toBe(0);
    expect(r.io.err).toContain('Rekey successful');
    const nv = new Vault([{ password: 'brand-new' }]);
    expect(nv.decrypt(readFileSync(a, 'utf8'))).toBe('a\n');
    expect(nv.decrypt(readFileSync(b, 'utf8'))).toBe('b\n');
    expect(() => vault.decrypt(readFileSync(a, 'utf8'))).toThrow(/Decryption failed/);

    // c opens with the new password, d does not: nothing may change
    const c = t.file('c.yml', nv.encrypt('c\n'));
    const d = t.file('d.yml', vault.encrypt('d\n'));
    const cBefore = readFileSync(c, 'utf8');
    const r2 = await run(['rekey', '--vault-password-file', newPw, '--new-vault-password-file', pwFile, c, d]);
    expect(r2.rc).toBe(1);
    expect(r2.io.err).toContain(`for ${d}`);
    expect(readFileSync(c, 'utf8')).toBe(cBefore);
  });

  it('--new-vault-id sets the label; without a new source it asks twice', async () => {
    const a = t.file('a.yml', vault.encrypt('a\n'));
    const r = await run(['rekey', '--vault-password-file', pwFile, '--new-vault-id', `prod@${pwFile}`, a]);
    expect(r.rc).toBe(0);
    expect(readFileSync(a, 'utf8').split('\n')[0]).toBe('$ANSIBLE_VAULT;1.2;AES256;prod');
    const r2 = await run(['rekey', '--vault-password-file', pwFile, a], { answers: ['p2', 'p2'] });
    expect(r2.rc).toBe(0);
    expect(r2.io.prompts.map((p) => p.question)).toEqual(['New vault password: ', 'Confirm new vault password: ']);
    expect(new Vault([{ password: 'p2' }]).decrypt(readFileSync(a, 'utf8'))).toBe('a\n');
  });
});

describe('encrypt_string', () => {
  it('prints a "NAME: !vault |" block with 10-space indentation that parseYaml loads back', async () => {
    const r = await run(['encrypt_string', '--vault-password-file', pwFile, '--name', 'db_password', 'S3cr3t value!']);
    expect(r.rc).toBe(0);
    const lines = r.io.out.trimEnd().split('\n');
    expect(lines[0]).toBe('db_password: !vault |');
    expect(lines[1]).toBe('          $ANSIBLE_VAULT;1.1;AES256');
    for (const l of lines.slice(2)) expect(l).toMatch(/^ {10}[0-9a-f]{1,80}$/);
    const data = parseYaml(`x: 1\n${r.io.out}`, 'vars.yml', { decrypt: vault.decryptFn });
    expect(data).toEqual({ x: 1, db_password: 'S3cr3t value!' });
    expect(secrets.mask('login with S3cr3t value!')).toBe('login with ********');
  });

  it('several strings with names, and --stdin-name', async () => {
    const r = await run(['encrypt_string', '--vault-password-file', pwFile, '-n', 'one', '--name', 'two', 'v-one', 'v-two', '--stdin-name', 'three'],
      { stdin: 'v-three' });
    expect(r.rc).toBe(0);
    expect(r.io.err).toContain('# The encrypted version of variable ("three", the string #1 from stdin).');
    const data = parseYaml(r.io.out, 'vars.yml', { decrypt: vault.decryptFn });
    expect(data).toEqual({ three: 'v-three', one: 'v-one', two: 'v-two' });
  });

  it('without a name prints a bare !vault block; without args reads stdin; empty is refused', async () => {
    const r = await run(['encrypt_string', '--vault-password-file', pwFile], { stdin: 'piped' });
    expect(r.io.out.startsWith('!vault |\n          $ANSIBLE_VAULT;1.1;AES256\n')).toBe(true);
    expect(parseYaml(`k: ${r.io.out}`, 'v.yml', { decrypt: vault.decryptFn })).toEqual({ k: 'piped' });
    const empty = await run(['encrypt_string', '--vault-password-file', pwFile], { stdin: '' });
    expect(empty.rc).toBe(1);
    expect(empty.io.err).toContain('stdin was empty');
  });

  it('--prompt asks for the name and the hidden string', async () => {
    const r = await run(['encrypt_string', '--vault-password-file', pwFile, '-p'], { answers: ['api_token', 'tok-999'] });
    expect(r.rc).toBe(0);
    expect(r.io.prompts).toEqual([
      { question: 'Variable name (enter for no name): ', silent: undefined },
      { question: 'String to encrypt (hidden): ', silent: true },
    ]);
    expect(parseYaml(r.io.out, 'v.yml', { decrypt: vault.decryptFn })).toEqual({ api_token: 'tok-999' });
  });

  it('--output writes the block to a file', async () => {
    const out = path.join(t.dir, 'snippet.yml');
    expect((await run(['encrypt_string', '--vault-password-file', pwFile, '--name', 'k', 'val-x', '--output', out])).rc).toBe(0);
    expect(parseYaml(readFileSync(out, 'utf8'), out, { decrypt: vault.decryptFn })).toEqual({ k: 'val-x' });
  });
});

describe('usage', () => {
  it('--help prints the usage and exits 0', async () => {
    for (const args of [['--help'], ['encrypt', '-h']]) {
      const r = await run(args);
      expect(r.rc).toBe(0);
      expect(r.io.out).toBe(VAULT_USAGE);
    }
    for (const action of ['create', 'encrypt', 'decrypt', 'view', 'edit', 'rekey', 'encrypt_string']) expect(VAULT_USAGE).toContain(action);
  });

  it('bad arguments exit 1 with a message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /no action given/],
      [['frobnicate'], /unknown vault action 'frobnicate'/],
      [['view', '--bogus'], /unknown option --bogus/],
      [['view', '--vault-password-file'], /needs a value/],
      [['view', '--vault-id', 'a;b@x', 'f'], /not allowed in vault ids/],
      [['view'], /view needs at least one FILE/],
      [['create', 'a', 'b'], /exactly one FILE/],
    ];
    for (const [args, re] of cases) {
      const r = await run(args);
      expect(r.rc).toBe(1);
      expect(r.io.err).toMatch(/^ERROR! /);
      expect(r.io.err).toMatch(re);
    }
  });

  it('writes through a file that cannot be replaced fail with a VaultError, not a crash', async () => {
    const f = t.file('ro-dir-file.yml', 'z\n');
    writeFileSync(f, 'z\n');
    const r = await run(['encrypt', '--vault-password-file', pwFile, '--output', path.join(t.dir, 'no', 'such', 'dir', 'x'), f]);
    expect(r.rc).toBe(1);
    expect(r.io.err).toMatch(/cannot write file \(ENOENT\)/);
  });
});
