/**
 * `tsplay vault ACTION [options] [args]`: ansible-vault's commands and options, so operators'
 * habits and scripts carry over. All terminal I/O goes through VaultIO (nothing below the CLI
 * prints); the only thing that touches the terminal directly is $EDITOR for create/edit.
 */

import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';
import { TsplayError, UsageError, VaultError } from '../errors';
import { secrets } from '../secrets';
import { quote } from '../shell-quote';
import { exists, privateTempDir, readInput, writeAtomic } from './files';
import { DEFAULT_ID } from './passwords';
import { Vault } from './vault';

export interface VaultIO {
  stdout(s: string): void;
  stderr(s: string): void;
  readStdin(): Promise<string>;
  prompt(question: string, opts?: { silent?: boolean }): Promise<string>;
}

export const VAULT_USAGE = `usage: tsplay vault ACTION [options] [args]

Encrypt, decrypt and edit Ansible Vault files (format 1.1/1.2, AES256), compatible with ansible-vault.

actions:
  create FILE             open $EDITOR on a new file, encrypt it when the editor exits
  encrypt [FILE...]       encrypt files in place (stdin to stdout without FILE or with -)
  decrypt [FILE...]       decrypt files in place (stdin to stdout without FILE or with -)
  view FILE...            print the decrypted content
  edit FILE...            decrypt to a private temp file, open $EDITOR, re-encrypt if changed
  rekey FILE...           re-encrypt with a new password
  encrypt_string [STRING...]
                          print "NAME: !vault |" YAML for each string (stdin without STRING)

options:
  --vault-password-file FILE   password file, or an executable that prints the password (repeatable)
  --vault-id [LABEL@]SOURCE    a password with a vault id; SOURCE is a file, a script or "prompt" (repeatable)
  -J, --ask-vault-pass         ask for the vault password
  --encrypt-vault-id ID        the vault id to encrypt with when several are given
  --new-vault-password-file F  rekey: the new password file
  --new-vault-id [LABEL@]SRC   rekey: the new vault id and password source
  --output FILE                decrypt/encrypt/encrypt_string: write here instead (- for stdout)
  -n, --name VAR               encrypt_string: variable name for the next STRING (repeatable)
  --stdin-name VAR             encrypt_string: read the string from stdin and name it VAR
  -p, --prompt                 encrypt_string: ask for the string (and its name)
  -h, --help                   show this help

environment:
  TSPLAY_VAULT_PASSWORD_FILE, ANSIBLE_VAULT_PASSWORD_FILE   password file used in addition to the options
  EDITOR                                                     editor for create/edit (default vi)

Without any password option (or environment file), the password is asked for.
`;

const ACTIONS = ['create', 'encrypt', 'decrypt', 'view', 'edit', 'rekey', 'encrypt_string'] as const;
type Action = (typeof ACTIONS)[number];

interface Parsed {
  action: Action;
  args: string[];
  passwordFiles: string[];
  vaultIds: string[];
  askPass: boolean;
  encryptVaultId?: string;
  newPasswordFile?: string;
  newVaultId?: string;
  output?: string;
  names: string[];
  stdinName?: string;
  promptString: boolean;
  help: boolean;
}

const VALUE_OPTS: Record<string, keyof Parsed> = {
  '--vault-password-file': 'passwordFiles',
  '--vault-pass-file': 'passwordFiles',
  '--vault-id': 'vaultIds',
  '--encrypt-vault-id': 'encryptVaultId',
  '--new-vault-password-file': 'newPasswordFile',
  '--new-vault-id': 'newVaultId',
  '--output': 'output',
  '--name': 'names',
  '-n': 'names',
  '--stdin-name': 'stdinName',
};
const FLAG_OPTS: Record<string, keyof Parsed> = {
  '--ask-vault-pass': 'askPass',
  '--ask-vault-password': 'askPass',
  '-J': 'askPass',
  '--prompt': 'promptString',
  '-p': 'promptString',
  '--help': 'help',
  '-h': 'help',
};

function parseArgs(argv: string[]): Parsed | 'help' {
  const p: Partial<Parsed> & { args: string[]; passwordFiles: string[]; vaultIds: string[]; names: string[] } = {
    args: [], passwordFiles: [], vaultIds: [], names: [], askPass: false, promptString: false, help: false,
  };
  let action: string | undefined;
  let optionsDone = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!optionsDone && a === '--') {
      optionsDone = true;
      continue;
    }
    if (!optionsDone && a.startsWith('-') && a !== '-') {
      const eq = a.startsWith('--') ? a.indexOf('=') : -1;
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (name in FLAG_OPTS) {
        if (eq > 0) throw new UsageError(`option ${name} takes no value`);
        (p as Record<string, unknown>)[FLAG_OPTS[name]] = true;
        continue;
      }
      const key = VALUE_OPTS[name];
      if (!key) throw new UsageError(`unknown option ${name}`, undefined, 'see tsplay vault --help');
      let value: string;
      if (eq > 0) value = a.slice(eq + 1);
      else {
        if (i + 1 >= argv.length) throw new UsageError(`option ${name} needs a value`);
        value = argv[++i];
      }
      const cur = (p as Record<string, unknown>)[key];
      if (Array.isArray(cur)) cur.push(value);
      else (p as Record<string, unknown>)[key] = value;
      continue;
    }
    if (action === undefined) action = a;
    else p.args.push(a);
  }
  if (p.help && action === undefined) return 'help';
  if (action === undefined) throw new UsageError('no action given', undefined, `actions: ${ACTIONS.join(', ')}`);
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown vault action '${action}'`, undefined, `actions: ${ACTIONS.join(', ')}`);
  }
  if (p.help) return 'help';
  return { ...p, action: action as Action } as Parsed;
}

/** Run one vault command; returns the exit code. Errors are written to io.stderr, never thrown. */
export async function runVaultCommand(argv: string[], io: VaultIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const parsed = parseArgs(argv);
    if (parsed === 'help') {
      io.stdout(VAULT_USAGE);
      return 0;
    }
    await new VaultCommand(parsed, io, env).run();
    return 0;
  } catch (e) {
    if (e instanceof TsplayError) {
      io.stderr(`ERROR! ${secrets.mask(e.describe())}\n`);
      return e.exitCode;
    }
    throw e;
  }
}

class VaultCommand {
  constructor(private readonly o: Parsed, private readonly io: VaultIO, private readonly env: NodeJS.ProcessEnv) {}

  async run(): Promise<void> {
    const { o } = this;
    if (o.output !== undefined && o.args.filter((a) => a !== '-').length > 1) {
      throw new UsageError('At most one input file may be used with the --output option');
    }
    switch (o.action) {
      case 'encrypt': return this.encrypt();
      case 'decrypt': return this.decrypt();
      case 'view': return this.view();
      case 'create': return this.create();
      case 'edit': return this.edit();
      case 'rekey': return this.rekey();
      case 'encrypt_string': return this.encryptString();
      default: {
        const never: never = o.action;
        throw new UsageError(`unknown vault action '${String(never)}'`);
      }
    }
  }

  private prompt = (q: string): Promise<string> => this.io.prompt(q, { silent: true });

  /** The passwords for reading; with no source at all, ask (as ansible-vault does). */
  private async readVault(): Promise<Vault> {
    const { o } = this;
    const v = await Vault.fromOptions({ passwordFiles: o.passwordFiles, vaultIds: o.vaultIds, askPass: o.askPass, env: this.env, prompt: this.prompt });
    if (v) return v;
    return (await Vault.fromOptions({ askPass: true, env: {}, prompt: this.prompt })) as Vault;
  }

  /** The passwords for writing plus the one vault id to encrypt with. */
  private async writeVault(): Promise<{ vault: Vault; id: string }> {
    const { o } = this;
    const opts = { passwordFiles: o.passwordFiles, vaultIds: o.vaultIds, askPass: o.askPass, env: this.env, prompt: this.prompt, confirmPrompt: true };
    const vault = (await Vault.fromOptions(opts)) ?? ((await Vault.fromOptions({ ...opts, askPass: true, env: {} })) as Vault);
    const ids = vault.ids;
    if (o.encryptVaultId !== undefined) {
      if (!ids.includes(o.encryptVaultId)) {
        throw new VaultError(`Did not find a match for --encrypt-vault-id=${o.encryptVaultId} in the known vault ids [${ids.join(', ')}]`);
      }
      return { vault, id: o.encryptVaultId };
    }
    if (ids.length > 1) {
      throw new VaultError(`The vault ids ${ids.join(',')} are available to encrypt. Specify the vault id to encrypt with --encrypt-vault-id`);
    }
    return { vault, id: ids[0] };
  }

  private inputs(): string[] {
    return this.o.args.length ? this.o.args : ['-'];
  }

  private async readSource(f: string): Promise<Buffer> {
    return f === '-' ? Buffer.from(await this.io.readStdin(), 'utf8') : readInput(f);
  }

  private async writeResult(input: string, data: string | Buffer): Promise<void> {
    const out = this.o.output ?? input;
    if (out === '-') this.io.stdout(typeof data === 'string' ? data : data.toString('utf8'));
    else await writeAtomic(out, data);
  }

  private async encrypt(): Promise<void> {
    const { vault, id } = await this.writeVault();
    for (const f of this.inputs()) {
      const data = await this.readSource(f);
      if (vault.isEncrypted(data.toString('latin1'))) throw new VaultError(`${f === '-' ? 'input' : f} is already encrypted`);
      await this.writeResult(f, vault.encrypt(data, id));
    }
    this.io.stderr('Encryption successful\n');
  }

  private async decrypt(): Promise<void> {
    const vault = await this.readVault();
    for (const f of this.inputs()) {
      const data = await this.readSource(f);
      const { plaintext } = vault.open(data.toString('utf8'), f === '-' ? 'stdin' : f);
      await this.writeResult(f, plaintext);
    }
    this.io.stderr('Decryption successful\n');
  }

  private async view(): Promise<void> {
    if (this.o.args.length === 0) throw new UsageError('view needs at least one FILE');
    const vault = await this.readVault();
    for (const f of this.o.args) {
      const data = await this.readSource(f);
      this.io.stdout(vault.open(data.toString('utf8'), f === '-' ? 'stdin' : f).plaintext.toString('utf8'));
    }
  }

  private async create(): Promise<void> {
    if (this.o.args.length !== 1) throw new UsageError('create takes exactly one FILE');
    const file = this.o.args[0];
    if (await exists(file)) throw new VaultError(`${file} exists, please use 'edit' instead`);
    const dir = path.dirname(path.resolve(file));
    if (!(await exists(dir))) throw new VaultError(`${file}: directory ${dir} does not exist`);
    const { vault, id } = await this.writeVault();
    const plaintext = await this.withEditor(file, Buffer.alloc(0));
    await writeAtomic(file, vault.encrypt(plaintext, id));
  }

  private async edit(): Promise<void> {
    if (this.o.args.length === 0) throw new UsageError('edit needs at least one FILE');
    const vault = await this.readVault();
    for (const file of this.o.args) {
      const opened = vault.open((await readInput(file)).toString('utf8'), file);
      const edited = await this.withEditor(file, opened.plaintext);
      // re-encrypting an unchanged file would only churn its ciphertext in version control
      if (edited.equals(opened.plaintext)) continue;
      await writeAtomic(file, vault.reencrypt(edited, opened));
    }
  }

  private async rekey(): Promise<void> {
    if (this.o.args.length === 0) throw new UsageError('rekey needs at least one FILE');
    const vault = await this.readVault();
    const { o } = this;
    const newVault = (await Vault.fromOptions({
      passwordFiles: o.newPasswordFile !== undefined ? [o.newPasswordFile] : [],
      vaultIds: o.newVaultId !== undefined ? [o.newVaultId] : [],
      env: {}, prompt: this.prompt, confirmPrompt: true,
      askPass: o.newPasswordFile === undefined && o.newVaultId === undefined,
    })) as Vault;
    // the label of --new-vault-id wins; a bare --new-vault-password-file keeps 1.1 (Ansible)
    const newId = newVault.ids.find((i) => i !== DEFAULT_ID) ?? DEFAULT_ID;
    const opened = [];
    // decrypt every file first so a wrong password changes none of them
    for (const file of o.args) opened.push({ file, o: vault.open((await readInput(file)).toString('utf8'), file) });
    for (const { file, o: op } of opened) await writeAtomic(file, newVault.encrypt(op.plaintext, newId));
    this.io.stderr('Rekey successful\n');
  }

  private async encryptString(): Promise<void> {
    const { o, io } = this;
    const items: Array<{ text: string; name?: string; from: string }> = [];
    const args = o.args.filter((a) => a !== '-');
    if (o.promptString) {
      if (o.args.includes('-') || o.stdinName !== undefined) {
        throw new UsageError('The --prompt option is not supported if also reading input from stdin');
      }
      const name = await io.prompt('Variable name (enter for no name): ');
      const text = await io.prompt('String to encrypt (hidden): ', { silent: true });
      if (text === '') throw new VaultError('The plaintext provided from the prompt was empty, not encrypting');
      items.push({ text, name: name.trim() || undefined, from: 'the prompt' });
    }
    if (o.args.includes('-') || o.stdinName !== undefined || (args.length === 0 && !o.promptString)) {
      const text = await io.readStdin();
      if (text === '') throw new VaultError('stdin was empty, not encrypting');
      items.push({ text, name: o.stdinName, from: 'stdin' });
    }
    if (o.names.length > 0 && args.length > o.names.length) {
      io.stderr(`The number of --name options does not match the number of strings; the last ${args.length - o.names.length} will have no name.\n`);
    }
    args.forEach((text, i) => {
      if (text === '') throw new VaultError('The plaintext provided from the command line args was empty, not encrypting');
      items.push({ text, name: o.names[i], from: 'the command line' });
    });
    const { vault, id } = await this.writeVault();
    const blocks = items.map((it, i) => {
      if (items.length > 1) {
        io.stderr(it.name
          ? `# The encrypted version of variable ("${it.name}", the string #${i + 1} from ${it.from}).\n`
          : `# The encrypted version of the string #${i + 1} from ${it.from}.\n`);
      }
      return formatVaultYaml(vault.encrypt(it.text, id), it.name);
    });
    const out = blocks.join('\n') + '\n';
    if (o.output !== undefined && o.output !== '-') await writeAtomic(o.output, out);
    else io.stdout(out);
    io.stderr('Encryption successful\n');
  }

  /**
   * Put `content` in a private temp file named like `file` (so the editor picks the right
   * syntax), run $EDITOR on it, and return what was saved. The temp file is shredded however
   * this ends.
   */
  private async withEditor(file: string, content: Buffer): Promise<Buffer> {
    const tmp = await privateTempDir();
    try {
      const tmpFile = path.join(tmp.dir, path.basename(file));
      await fs.writeFile(tmpFile, content, { mode: 0o600 });
      const editor = this.env.EDITOR || this.env.VISUAL || 'vi';
      // $EDITOR is a shell word list by convention ("code --wait"), so the shell parses it; the
      // file name is ours and is quoted
      const rc = await new Promise<number>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', `${editor} ${quote(tmpFile)}`], { stdio: 'inherit', env: this.env });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      });
      if (rc !== 0) throw new VaultError(`the editor (${editor}) exited with status ${rc}; ${file} was not changed`);
      try {
        return await fs.readFile(tmpFile);
      } catch {
        throw new VaultError(`the editor (${editor}) removed the temporary file; ${file} was not changed`);
      }
    } finally {
      await tmp.cleanup();
    }
  }
}

/** `name: !vault |` with the vault text indented 10 spaces, as ansible-vault encrypt_string prints it. */
export function formatVaultYaml(vaultText: string, name?: string): string {
  const lines = [`${name ? `${name}: ` : ''}!vault |`];
  for (const l of vaultText.split('\n')) if (l !== '') lines.push(`${' '.repeat(10)}${l}`);
  return lines.join('\n');
}
