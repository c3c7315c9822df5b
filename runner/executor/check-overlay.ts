/**
 * Check mode across tasks: files a dry run *would* write are remembered per host, and later
 * tasks' plans see them through the read-only probe. So `copy` then `lineinfile` on the same
 * new file plans the lineinfile against the copied content, and a dry run of a fresh deploy
 * shows the diffs the real run will make instead of failing on files that do not exist yet.
 */

import { createHash } from 'crypto';
import type { Change, FileStat, Probe } from '../module-api';

interface Planned {
  content: Buffer;
  mode?: string;
  owner?: string;
  group?: string;
}

export class CheckOverlay {
  private readonly files = new Map<string, Planned>();

  record(changes: Change[]): void {
    for (const c of changes) {
      if (c.kind !== 'write') continue;
      const prev = this.files.get(c.path);
      this.files.set(c.path, {
        content: c.data ?? Buffer.from(c.after, 'utf8'),
        mode: c.mode ?? prev?.mode,
        owner: c.owner ?? prev?.owner,
        group: c.group ?? prev?.group,
      });
    }
  }

  get size(): number {
    return this.files.size;
  }

  /** A probe that answers from the planned files first, then from the host. */
  wrap(probe: Probe): Probe {
    if (this.files.size === 0) return probe;
    const files = this.files;
    return Object.freeze({
      query: (cmd, opts) => probe.query(cmd, opts),
      readFile: async (path: string) => files.get(path)?.content ?? probe.readFile(path),
      stat: async (paths: string[], opts?: { checksum?: boolean; follow?: boolean }) => {
        const real = await probe.stat(paths, opts);
        return real.map((st): FileStat => {
          const f = files.get(st.path);
          if (!f) return st;
          return {
            ...st,
            exists: true,
            type: 'file',
            mode: f.mode ?? (st.exists ? st.mode : '0644'),
            owner: f.owner ?? (st.exists ? st.owner : 'root'),
            group: f.group ?? (st.exists ? st.group : 'root'),
            size: f.content.length,
            sha256: opts?.checksum ? createHash('sha256').update(f.content).digest('hex') : undefined,
          };
        });
      },
    } satisfies Probe);
  }
}
