/**
 * Read-only file operations of the local connection without a shell: on `ansible_connection:
 * local` without become, the controller is the host, so stat/readFile go through Node's fs
 * (no fork per probe, ~20x cheaper than a command). Results are the same FileStat shape as the
 * shell implementation in remote.ts; owner/group names come from /etc/passwd and /etc/group
 * (stat prints UNKNOWN for ids without a name, and so do we).
 */

import { createHash } from 'crypto';
import { promises as fs, readFileSync, statSync } from 'fs';
import type { FileStat, StatOptions } from '../module-api';

/** the last parse of each file, by its mtime and size: a user created by a task changes both */
const parsed = new Map<string, { key: string; names: Map<number, string> }>();

function idNames(file: string): Map<number, string> {
  let key = '';
  try {
    const st = statSync(file);
    key = `${st.mtimeMs}:${st.size}:${st.ino}`;
  } catch {
    /* no file: names stay UNKNOWN */
  }
  const hit = parsed.get(file);
  if (hit && key && hit.key === key) return hit.names;
  const m = new Map<number, string>();
  if (key) parsed.set(file, { key, names: m });
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && /^\d+$/.test(f[2]) && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
    }
  } catch {
    /* no file: names stay UNKNOWN */
  }
  return m;
}

// checked per call of localStat's batch: users created by an earlier task must be seen
function typeOf(st: import('fs').Stats): FileStat['type'] {
  if (st.isSymbolicLink()) return 'link';
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  return 'other';
}

export async function localStat(paths: string[], opts: StatOptions = {}): Promise<FileStat[]> {
  const users = idNames('/etc/passwd');
  const groups = idNames('/etc/group');
  return Promise.all(
    paths.map(async (path): Promise<FileStat> => {
      let st: import('fs').Stats;
      try {
        st = opts.follow ? await fs.stat(path) : await fs.lstat(path);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return { path, exists: false };
        throw e;
      }
      const out: FileStat = {
        path,
        exists: true,
        type: typeOf(st),
        mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
        uid: st.uid,
        gid: st.gid,
        owner: users.get(st.uid) ?? 'UNKNOWN',
        group: groups.get(st.gid) ?? 'UNKNOWN',
        size: st.size,
        mtime: Math.floor(st.mtimeMs / 1000),
      };
      if (out.type === 'link' && !opts.follow) out.linkTarget = await fs.readlink(path);
      if ((opts.checksum || opts.sha1) && out.type === 'file') {
        const content = await fs.readFile(path);
        if (opts.checksum) out.sha256 = createHash('sha256').update(content).digest('hex');
        if (opts.sha1) out.sha1 = createHash('sha1').update(content).digest('hex');
      }
      return out;
    }),
  );
}

export async function localReadFile(path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw e;
  }
}
