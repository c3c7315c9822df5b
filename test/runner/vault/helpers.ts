/** Shared fixtures for the vault tests: temp dirs, a fake VaultIO, and the ansible-vault binary. */

import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { VaultIO } from '../../../runner/vault';

export function tempDir(): { dir: string; file(name: string, content?: string, mode?: number): string; cleanup(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsplay-vault-test-'));
  return {
    dir,
    file(name, content, mode) {
      const p = path.join(dir, name);
      if (content !== undefined) writeFileSync(p, content, { mode: mode ?? 0o600 });
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface FakeIO extends VaultIO {
  out: string;
  err: string;
  prompts: Array<{ question: string; silent?: boolean }>;
}

/** A VaultIO that records output and answers prompts from a queue (failing if it runs dry). */
export function fakeIO(opts: { stdin?: string; answers?: string[] } = {}): FakeIO {
  const answers = [...(opts.answers ?? [])];
  const io: FakeIO = {
    out: '',
    err: '',
    prompts: [],
    stdout(s) { io.out += s; },
    stderr(s) { io.err += s; },
    async readStdin() { return opts.stdin ?? ''; },
    async prompt(question, o) {
      io.prompts.push({ question, silent: o?.silent });
      const a = answers.shift();
      if (a === undefined) throw new Error(`unexpected prompt: ${question}`);
      return a;
    },
  };
  return io;
}

/**
 * The path of ansible-vault. The interoperability tests need it and must fail (not skip)
 * without it, with a message saying how to install it.
 */
export function ansibleVaultPath(): string {
  const r = spawnSync('sh', ['-c', 'command -v ansible-vault'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (r.status !== 0 || !p) {
    throw new Error('ansible-vault is not installed; the vault interoperability tests require it: '
      + 'apt-get install -y --no-install-recommends ansible-core');
  }
  return p;
}

export function ansibleVault(args: string[], input?: string): { rc: number; stdout: string; stderr: string } {
  const r = spawnSync(ansibleVaultPath(), args, {
    encoding: 'utf8', input, cwd: os.tmpdir(),
    // keep the user's ansible.cfg and vault environment variables out of the comparison
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8' },
  });
  return { rc: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A small seeded PRNG (mulberry32) so random tests are reproducible. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
