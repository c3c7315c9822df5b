/**
 * What every test remote shares: the record of its calls and writes, and the probe-only view
 * a module's plan() gets, whose mutating methods THROW, so a check-mode test fails the moment
 * anything tries to change the host.
 */

import { createHash } from 'crypto';
import type { ExecOptions, Probe, Remote, WriteOptions } from '../../runner/module-api';

export interface Call {
  kind: 'query' | 'exec';
  cmd: string;
  opts?: ExecOptions;
}

export interface WriteRecord {
  path: string;
  data: Buffer;
  opts: WriteOptions;
}


/** Thrown by the probe-only view: reaching it means plan()/check mode tried to change the host. */
export class MutationInCheckMode extends Error {}

/** The read-only view a module's plan() gets: exec/writeFile exist only to throw. */
export function probeOnly(r: Remote): Probe {
  return {
    query: (cmd, opts) => r.query(cmd, opts),
    readFile: (p) => r.readFile(p),
    stat: (paths, opts) => r.stat(paths, opts),
    exec: (cmd: string) => {
      throw new MutationInCheckMode(`exec called through the probe view: ${cmd}`);
    },
    writeFile: (p: string) => {
      throw new MutationInCheckMode(`writeFile called through the probe view: ${p}`);
    },
  } as Probe;
}

/** Any Remote that can hand out its probe-only view (FakeRemote, LocalRemote, a wrapped real one). */
export type TestRemote = Remote & { probeOnly(): Probe };

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}
