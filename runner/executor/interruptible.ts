/**
 * Ctrl-C reaches a module's commands: every `query`/`exec` carries the run's abort signal, so
 * the connection interrupts the command on the host (SIGINT to it, see shell-session.ts) and the
 * call rejects with InterruptedError. File reads, stats and writes do not carry it: they are
 * short, and a write in progress must finish (or roll back on the host), never stop half-way.
 */

import type { ExecOptions, Remote } from '../module-api';

export function interruptible(remote: Remote, signal: AbortSignal | undefined): Remote {
  if (!signal) return remote;
  return withExecOptions(remote, (o) => ({ ...(o ?? {}), signal: o?.signal ?? signal }));
}

/** The same remote with every command's options passed through `f` (reads and writes untouched). */
export function withExecOptions(remote: Remote, f: (o?: ExecOptions) => ExecOptions): Remote {
  return {
    query: (cmd, o) => remote.query(cmd, f(o)),
    exec: (cmd, o) => remote.exec(cmd, f(o)),
    readFile: (p) => remote.readFile(p),
    stat: (p, o) => remote.stat(p, o),
    writeFile: (p, d, o) => remote.writeFile(p, d, o),
  };
}
