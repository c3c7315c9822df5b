/**
 * ansible_connection=local: the same persistent-shell protocol as SSH, over a local /bin/sh
 * child process (or sudo/su in front of it for become).
 */

import { spawn } from 'child_process';
import { readFileSync } from 'fs';
import { SessionPool, DEFAULT_MAX_SESSIONS } from './session-pool';
import { randomPrompt, SessionExecOptions, ShellChannel, ShellSession, shellArgv } from './shell-session';
import type { BecomeSpec, Connection, ConnExecOptions, RawExecResult } from './types';

/** ConnExecOptions plus the abort signal (Ctrl-C) that types.ts does not carry yet. */
export type ExtendedExecOptions = ConnExecOptions & SessionExecOptions;

/** Spawn argv as its own process group so a kill reaches everything it started. */
export function spawnChannel(argv: string[]): ShellChannel {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const ended = (s: NodeJS.ReadableStream): Promise<void> => new Promise((r) => s.once('end', () => r()).once('close', () => r()));
  const streamsEnded = Promise.all([ended(child.stdout!), ended(child.stderr!)]);
  const closed = new Promise<string>((resolve) => {
    child.on('error', (e) => resolve(`cannot start ${argv[0]}: ${e.message}`));
    // 'exit', not 'close': a background job of the dead shell may hold its pipes open for long.
    // Give the pipes a moment to deliver the last bytes (sudo's error message) first.
    child.on('exit', (code, signal) => {
      const reason = signal ? `killed by ${signal}` : `exit code ${code}`;
      const t = setTimeout(() => resolve(reason), 200);
      void streamsEnded.then(() => {
        clearTimeout(t);
        resolve(reason);
      });
    });
  });
  let exited = false;
  void closed.then(() => (exited = true));
  const killGroup = (sig: NodeJS.Signals): void => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // already gone
    }
  };
  return {
    stdin: child.stdin!,
    stdout: child.stdout!,
    stderr: child.stderr!,
    // TERM first: `timeout` (own process group) passes it on to the command it runs.
    kill: () => {
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 500).unref();
    },
    // what interruptCommand does on a remote host, done from here
    interrupt: (pid: number, pgid: number) => {
      if (exited) return;
      signalGroup(pgid, 'SIGINT');
      for (const c of childrenOf(pid)) signalGroup(c, 'SIGINT');
    },
    closed,
  };
}

function signalGroup(pgid: number, sig: NodeJS.Signals): void {
  if (!(pgid > 1)) return;
  try {
    process.kill(-pgid, sig);
  } catch {
    // no such group (a child that leads none), or already gone
  }
}

/** pids of a process's children (Linux /proc; none where it is missing) */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export class LocalConnection implements Connection {
  private readonly pool: SessionPool;

  constructor(readonly name = 'localhost', opts: { maxSessions?: number; startTimeoutMs?: number } = {}) {
    this.pool = new SessionPool(
      name,
      (become: BecomeSpec | undefined) => {
        const prompt = randomPrompt();
        return ShellSession.start(spawnChannel(shellArgv(become, prompt)), {
          host: name,
          become,
          prompt,
          startTimeoutMs: opts.startTimeoutMs,
        });
      },
      opts.maxSessions ?? DEFAULT_MAX_SESSIONS,
    );
  }

  /** shells open now (tests) */
  get sessions(): number {
    return this.pool.size;
  }

  exec(cmd: string, opts: ExtendedExecOptions = {}): Promise<RawExecResult> {
    return this.pool.exec(cmd, opts);
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
