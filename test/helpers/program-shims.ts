/**
 * Counting the programs a remote command starts, without strace: a directory of shims, one per
 * named program, that log their own name and exec the real program. Put `dir` first in PATH.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { quote } from '../../runner/shell-quote';

export interface ProgramShims {
  dir: string;
  /** the programs called so far, in order (one name per call) */
  calls(): string[];
  /** forget the calls so far */
  reset(): void;
}

export function programShims(dir: string, programs: string[]): ProgramShims {
  const log = path.join(dir, '.calls');
  fs.mkdirSync(dir, { recursive: true });
  for (const p of programs) {
    // resolved before the shims exist, so a shim never calls itself
    const real = execFileSync('/bin/sh', ['-c', `command -v ${p} || true`], { encoding: 'utf8' }).trim();
    if (real) fs.writeFileSync(path.join(dir, p), `#!/bin/sh\necho ${quote(p)} >> ${quote(log)}\nexec ${quote(real)} "$@"\n`, { mode: 0o755 });
  }
  return {
    dir,
    calls: () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : []),
    reset: () => fs.rmSync(log, { force: true }),
  };
}
