/**
 * The process's terminal: the only place (with the reporters) that writes to stdout/stderr,
 * and where secrets are read from the user without echo.
 */

import fs from 'fs';
import { secrets } from '../secrets';

export function out(s: string): void {
  process.stdout.write(secrets.mask(s));
}

export function err(s: string): void {
  process.stderr.write(secrets.mask(s));
}

/**
 * stdout for a run's events: what the reporters write during one turn of the event loop goes
 * out as one write at its end (20 hosts finishing a task together were 20 writes, each one a
 * syscall and a wake-up of the reader). Order is kept; flush() before exiting.
 */
export class BatchedStdout {
  private parts: string[] = [];
  private scheduled = false;

  readonly write = (s: string): void => {
    this.parts.push(s);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
  };

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.parts.length === 0) return;
    const s = this.parts.join('');
    this.parts = [];
    process.stdout.write(s);
  };
}

export function isTty(): boolean {
  return Boolean(process.stdout.isTTY);
}

export function colorWanted(): boolean {
  return isTty() && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
}

/** Read a line from the controlling terminal without echo (passwords). */
export async function promptSecret(question: string): Promise<string> {
  let fd: number;
  try {
    fd = fs.openSync('/dev/tty', 'r+');
  } catch {
    // no terminal: read one line from stdin (e.g. piped in CI)
    return readLineFromStdin();
  }
  fs.writeSync(fd, question);
  const { execFileSync } = await import('child_process');
  const stty = (arg: string) => {
    try {
      execFileSync('stty', [arg], { stdio: [fd, 'ignore', 'ignore'] });
    } catch {
      /* not a real tty */
    }
  };
  stty('-echo');
  try {
    const buf = Buffer.alloc(1);
    let line = '';
    for (;;) {
      const n = fs.readSync(fd, buf, 0, 1, null);
      if (n === 0) break;
      const ch = buf.toString('utf8');
      if (ch === '\n' || ch === '\r') break;
      line += ch;
    }
    return line;
  } finally {
    stty('echo');
    fs.writeSync(fd, '\n');
    fs.closeSync(fd);
  }
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function readLineFromStdin(): Promise<string> {
  const all = await readStdin();
  return all.split('\n')[0];
}
