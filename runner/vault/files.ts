/**
 * File handling for the vault command: reads and writes that fail with a VaultError naming the
 * file, atomic replacement that keeps the file's mode (and owner where allowed), and a private
 * temp directory for plaintext that is overwritten before it is removed.
 */

import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { VaultError } from '../errors';

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? String(e);
}

export async function readInput(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT') throw new VaultError(`${file}: file not found`);
    if (code === 'EISDIR') throw new VaultError(`${file} is a directory, not a file`);
    throw new VaultError(`${file}: cannot read file (${code})`);
  }
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Replace `file` atomically: write a temp file in the same directory, give it the old file's
 * mode and owner (or `newMode` for a new file), fsync, rename over. A symlink is followed so
 * the link stays a link (as ansible-vault does).
 */
export async function writeAtomic(file: string, data: Buffer | string, newMode = 0o600): Promise<void> {
  let target = file;
  try {
    target = await fs.realpath(file);
  } catch {
    // a new file: write it where it was named
  }
  let mode = newMode;
  let owner: { uid: number; gid: number } | undefined;
  try {
    const st = await fs.stat(target);
    mode = st.mode & 0o7777;
    owner = { uid: st.uid, gid: st.gid };
  } catch {
    // does not exist yet
  }
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tsplay-tmp`);
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(tmp, 'wx', 0o600);
    await fh.writeFile(data);
    if (owner) {
      // only root may give a file away; an ordinary user keeps their own ownership
      await fh.chown(owner.uid, owner.gid).catch(() => undefined);
    }
    await fh.chmod(mode);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fs.rename(tmp, target);
  } catch (e) {
    if (fh) await fh.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw new VaultError(`${file}: cannot write file (${errno(e)})`);
  }
  // make the rename itself durable; not every filesystem lets a directory be fsynced
  try {
    const d = await fs.open(dir, 'r');
    await d.sync().catch(() => undefined);
    await d.close();
  } catch {
    // ignore: the data is written, only durability across a crash is weaker
  }
}

/** A 0700 directory for plaintext; `cleanup` overwrites every file in it, then removes it. */
export async function privateTempDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tsplay-vault-'));
  await fs.chmod(dir, 0o700);
  return {
    dir,
    async cleanup() {
      let names: string[] = [];
      try {
        names = await fs.readdir(dir);
      } catch {
        return;
      }
      for (const n of names) await shred(path.join(dir, n));
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Overwrite a file with random bytes before unlinking it, so the plaintext does not stay in
 * the freed blocks. (On copy-on-write or journalling filesystems this is best effort, like
 * shred(1); the private 0700 directory is the real protection.)
 */
export async function shred(file: string): Promise<void> {
  try {
    const st = await fs.lstat(file);
    if (st.isFile() && st.size > 0) {
      const fh = await fs.open(file, 'r+');
      try {
        await fh.write(randomBytes(st.size), 0, st.size, 0);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  } catch {
    // fall through to the unlink
  }
  await fs.rm(file, { force: true, recursive: true });
}
