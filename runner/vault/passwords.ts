/**
 * Where vault passwords come from, with Ansible's rules so existing setups keep working:
 * - a plain file: its content with surrounding whitespace stripped;
 * - an executable file: run it (no shell, stdin closed) and take its stdout minus surrounding
 *   CR/LF; a "client" script (name ends in `-client`, optionally with an extension) is given
 *   `--vault-id LABEL`, and its exit code 2 means "no secret for that id";
 * - `prompt`: ask on the terminal.
 */

import { spawn } from 'child_process';
import { promises as fs, constants as fsc } from 'fs';
import * as path from 'path';
import { VaultError } from '../errors';
import { VAULT_HEADER_PREFIX } from './format';

export const DEFAULT_ID = 'default';

export interface VaultPassword {
  id?: string;
  password: string;
}

/** `[label@]source` as given to --vault-id (Ansible splits at the first '@'). */
export function parseVaultId(spec: string): { label: string; source: string } {
  const at = spec.indexOf('@');
  const label = at >= 0 ? spec.slice(0, at) : DEFAULT_ID;
  const source = at >= 0 ? spec.slice(at + 1) : spec;
  if (label.includes(';')) {
    throw new VaultError(`'${spec}' is not a valid vault id: the character ';' is not allowed in vault ids`);
  }
  if (source === '') throw new VaultError(`'${spec}' is not a valid vault id: it names no password source`);
  return { label: label || DEFAULT_ID, source };
}

// Python's bytes.strip(): ASCII whitespace only
const stripWs = (s: string): string => s.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
const stripCrLf = (s: string): string => s.replace(/^[\r\n]+|[\r\n]+$/g, '');

export function isClientScript(file: string): boolean {
  const base = path.basename(file);
  const ext = path.extname(base);
  return (ext ? base.slice(0, -ext.length) : base).endsWith('-client');
}

function runScript(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ rc: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({
        rc: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8').trim(),
      }),
    );
  });
}

/** Read one password from a file or executable script. */
export async function readPasswordSource(file: string, label: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new VaultError(`The vault password file ${file} was not found`, undefined,
        'check --vault-password-file / --vault-id and TSPLAY_VAULT_PASSWORD_FILE / ANSIBLE_VAULT_PASSWORD_FILE');
    }
    throw new VaultError(`Could not read vault password file ${file} (${code ?? String(e)})`);
  }
  if (!st.isFile()) throw new VaultError(`The vault password file ${file} is not a regular file`);

  let executable = false;
  if (st.mode & 0o111) {
    try {
      await fs.access(file, fsc.X_OK);
      executable = true;
    } catch {
      executable = false;
    }
  }

  if (executable) {
    const client = isClientScript(file);
    const args = client ? ['--vault-id', label] : [];
    let r;
    try {
      r = await runScript(path.resolve(file), args, env);
    } catch (e) {
      throw new VaultError(`Problem running vault password script ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
        undefined, 'if this is not a script, remove the executable bit from the file');
    }
    const detail = r.stderr ? `: ${r.stderr.split('\n').slice(0, 3).join(' / ')}` : '';
    if (client && r.rc === 2) {
      throw new VaultError(`Vault password client script ${file} did not find a secret for vault-id=${label}${detail}`);
    }
    if (r.rc !== 0) throw new VaultError(`Vault password script ${file} returned non-zero (${r.rc})${detail}`);
    const pw = stripCrLf(r.stdout);
    if (pw === '') throw new VaultError(`Invalid vault password was provided from script (${file}): it printed nothing`);
    return pw;
  }

  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new VaultError(`Could not read vault password file ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const pw = stripCrLf(stripWs(text));
  if (pw.startsWith(VAULT_HEADER_PREFIX)) {
    throw new VaultError(`The vault password file ${file} is itself vault-encrypted, which tsplay does not support`);
  }
  if (pw === '') throw new VaultError(`Invalid vault password was provided from file (${file}): it is empty`);
  return pw;
}
