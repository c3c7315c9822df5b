/**
 * A persistent POSIX shell driven over any duplex byte stream (a local child's stdio or an ssh2
 * exec channel). Starting a process or an SSH channel per command costs ~90 ms over SSH; writing
 * commands into one long-lived `sh` costs a fork (~1-13 ms). This file is the protocol.
 *
 * Protocol (all of it built with runner/shell-quote):
 *  - The shell runs DRIVER: it prints a ready line, then loops `IFS= read -r line; eval "$line"`.
 *    `read` consumes its input one byte at a time (POSIX requires it not to read past the
 *    newline on a pipe; verified for dash and bash), so raw bytes for a command's stdin can follow
 *    the command line in the same stream: `head -c N` (GNU) reads exactly N bytes of them.
 *  - Every command is ONE line: newlines inside quoted values become '"$__nl"'.
 *  - Each command gets a fresh random token; before it runs, `<tok>s` is printed on stdout and
 *    stderr; after it, `<tok>e<rc>;` on stdout and `<tok>e` on stderr. Output is what lies
 *    between the markers, byte for byte (binary, no trailing newline, anything). Stray output
 *    (a background job of an earlier command) before the start marker is dropped. The token is
 *    never in the command's argv or environment (the line variable is unset in the subshell), so
 *    a command cannot print it.
 *  - The command runs in a subshell: cwd/env do not leak; `exit` ends only the subshell; stdin
 *    is /dev/null unless given; with stdin the rest of the N bytes is drained even when the
 *    command does not read it all, so data can never be taken for the next command line.
 *  - timeoutMs: coreutils `timeout` kills the command's whole process group; the session lives
 *    on. A controller-side backstop kills the session if even that does not return.
 *  - Interrupt (Ctrl-C, `signal`): SIGINT to the shell's process group, which holds the running
 *    command (no job control: every command stays in it), and to the process groups of the
 *    shell's children (a `timeout` command has its own). The shell itself traps INT and goes on;
 *    the command ends as it would on a terminal's Ctrl-C (rc 130) and the call rejects with
 *    InterruptedError. A command that ignores SIGINT is killed with its shell after
 *    INTERRUPT_GRACE_MS. Commands with stdin (file writes) are never interrupted: a killed
 *    `head -c N` would leave the rest of the data to be read as command lines.
 */

import { randomBytes } from 'crypto';
import type { Readable, Writable } from 'stream';
import { InterruptedError, ModuleFailure } from '../errors';
import type { ExecOptions } from '../module-api';
import { quote } from '../shell-quote';
import { BecomeError, CommandTimeoutError, SessionDiedError } from './errors';
import { Framer } from './framer';
import type { BecomeSpec, RawExecResult } from './types';

/** Exec options the connections understand beyond module-api's ExecOptions. */
export interface SessionExecOptions extends ExecOptions {
  /** Ctrl-C: aborting kills the command (and the shell it ran in) and rejects with InterruptedError */
  signal?: AbortSignal;
}

/** The byte streams of a started shell process/channel. */
export interface ShellChannel {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** end the process/channel now and whatever runs in it (`pgid`: the shell's process group, when known) */
  kill(pgid?: number): void;
  /**
   * SIGINT to the shell's process group and its children's groups (see `interruptCommand`),
   * leaving the shell alive. Absent: the transport cannot, and an interrupt kills the session.
   */
  interrupt?(pid: number, pgid: number): void;
  /** resolves when the process/channel has ended, with a reason ("exit code 1", "signal KILL") */
  closed: Promise<string>;
}

/** What the persistent shell runs. It contains no secret and no marker (it is visible in `ps`). */
// The ready line carries the shell's pid and process group (from /proc, Linux hosts): an SSH
// transport cannot signal the remote process group itself, so it kills it by number.
// `trap` INT: an interrupt meant for the command reaches the shell too (same process group); the
// shell notes it and goes on. dash's `read` returns 1 for a signal as for EOF, hence the flag:
// only a real EOF (the controller closed our stdin) ends the loop. Subshells reset the trap, so
// commands get the default SIGINT.
export const DRIVER =
  `trap '__i=1' INT; __nl='\n'; read -r __a __b __c __d __g __r </proc/$$/stat || __g=0; unset __a __b __c __d __r; ` +
  `printf 'tsplay-ready %s %s\\n' "$$" "$__g"; while :; do __i=; IFS= read -r __s || { [ -n "$__i" ] && continue; break; }; eval "$__s"; done`;

/** How long an interrupted command may take to end before its shell is killed. */
export const INTERRUPT_GRACE_MS = 2000;

/**
 * The shell command an SSH transport runs on a separate channel to interrupt a session's command:
 * SIGINT to the shell's process group and to the groups led by its children (`timeout` makes one).
 */
export function interruptCommand(pid: number, pgid: number): string {
  const p = Math.trunc(pid);
  const g = Math.trunc(pgid);
  // `kill -- -1` would signal every process the user may signal: only real groups, never 0 or 1
  if (!(p > 1 && g > 1)) return 'true';
  return `kill -INT -- -${g} 2>/dev/null; for c in $(cat /proc/${p}/task/${p}/children 2>/dev/null); do [ "$c" -gt 1 ] && kill -INT -- -"$c" 2>/dev/null; done; true`;
}

const READY_RE = /tsplay-ready (\d+) (\d+)\n/;

/** Quote a value for a one-line command: newlines are spliced in from $__nl. */
export function lineQuote(value: string): string {
  return quote(value).replace(/\n/g, `'"$__nl"'`);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * argv that starts the persistent shell, as the login user or through sudo/su.
 * `prompt` is the random sudo prompt the session watches for before it sends the password.
 */
export function shellArgv(become: BecomeSpec | undefined, prompt: string): string[] {
  const driver = ['/bin/sh', '-c', DRIVER];
  if (!become) return driver;
  const flags = become.flags ? become.flags.split(/\s+/).filter(Boolean) : [];
  if (become.method === 'sudo') {
    // Without a password, -n makes sudo fail at once ("a password is required") instead of
    // waiting for a password nobody will type.
    const auth = become.password !== undefined ? ['-S', '-p', prompt] : ['-n'];
    return ['sudo', ...auth, '-H', ...flags, '-u', become.user, '--', ...driver];
  }
  // su reads the password through PAM from stdin when it is not a terminal; -s because the
  // target may have a nologin shell (service users). `--`: whatever the user name is, su never
  // reads it as an option (`--command=...` would run as root); the executor also validates it.
  return ['su', '-l', ...flags, '-s', '/bin/sh', '-c', DRIVER, '--', become.user];
}

/**
 * Which started shell can serve a become spec: the same argv (method, user and flags; the
 * password and prompt only authenticate). Shells are cached and pooled under this key.
 */
export function becomeKey(become: BecomeSpec | undefined): string {
  return become ? JSON.stringify([become.method, become.user, become.flags ?? '']) : '';
}

/** The same as one shell command line (for an SSH exec request). */
export function shellCommand(become: BecomeSpec | undefined, prompt: string): string {
  return 'exec ' + shellArgv(become, prompt).map((a) => quote(a)).join(' ');
}

export function randomPrompt(): string {
  return `[tsplay-sudo-${randomBytes(8).toString('hex')}] `;
}

interface Pending {
  resolve(r: RawExecResult): void;
  reject(e: Error): void;
  out: Framer;
  err: Framer;
  /** Ctrl-C seen for this command: it ends with InterruptedError however it ends */
  interrupted?: boolean;
  /** the command line carried stdin data (a write): never interrupted, waited for by close() */
  hasStdin: boolean;
}

export interface SessionStartOptions {
  /** host name for messages */
  host: string;
  become?: BecomeSpec;
  /** the sudo prompt passed in argv (see shellArgv) */
  prompt: string;
  /** give up on sudo/su/the shell after this long */
  startTimeoutMs?: number;
}

/** Last lines of some stderr for an error message; never contains what we wrote to stdin. */
function tail(buf: Buffer | string, n = 5): string {
  const text = typeof buf === 'string' ? buf : buf.toString('utf8');
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

export class ShellSession {
  private pending: Pending | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private deadReason: string | null = null;
  /** pid of the shell on the host (for diagnostics) */
  pid = 0;
  /** its process group: what a kill must reach (0: unknown) */
  pgid = 0;

  private constructor(private readonly channel: ShellChannel, readonly host: string, readonly becomeKey: string) {
    channel.stdout.on('data', (c: Buffer) => this.pending?.out.feed(c));
    channel.stderr.on('data', (c: Buffer) => this.pending?.err.feed(c));
    // A write to a shell that just died raises EPIPE on the stream: the close handler reports it.
    channel.stdin.on('error', () => undefined);
    void channel.closed.then((reason) => this.onClosed(reason));
  }

  get alive(): boolean {
    return this.deadReason === null;
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  /** Start the shell on an opened channel: feed the become password if asked, wait for the ready line. */
  static async start(channel: ShellChannel, opts: SessionStartOptions): Promise<ShellSession> {
    const { host, become, prompt } = opts;
    const method = become?.method ?? 'sh';
    let out = '';
    let err = '';
    let prompts = 0;
    const key = becomeKey(become);
    channel.stdin.on('error', () => undefined);
    const [pid, pgid] = await new Promise<[number, number]>((resolve, reject) => {
      let finished = false;
      const finish = (e: Error | null, ids: [number, number] = [0, 0]): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        channel.stdout.off('data', onOut);
        channel.stderr.off('data', onErr);
        if (e) {
          channel.kill();
          reject(e);
        } else resolve(ids);
      };
      const isPrompt = (): boolean => {
        if (!become || become.method === 'sudo') return err.split(prompt).length - 1 > prompts;
        // su's PAM prompt ("Password: ", localized variants end the same way)
        return (err.match(/[Pp]assword: ?$/gm)?.length ?? 0) + (out.match(/[Pp]assword: ?$/gm)?.length ?? 0) > prompts;
      };
      const checkPrompt = (): void => {
        if (!become || !isPrompt()) return;
        prompts++;
        if (become.password === undefined) {
          finish(new BecomeError(`${host}: ${method}: a password is required (set the become password)`));
        } else if (prompts > 1) {
          finish(new BecomeError(`${host}: incorrect ${method} password for becoming ${become.user}`));
        } else {
          channel.stdin.write(become.password + '\n');
        }
      };
      const onOut = (c: Buffer): void => {
        out += c.toString('utf8');
        const m = READY_RE.exec(out);
        if (m) finish(null, [Number(m[1]), Number(m[2])]);
        else checkPrompt();
      };
      const onErr = (c: Buffer): void => {
        err += c.toString('utf8');
        checkPrompt();
      };
      channel.stdout.on('data', onOut);
      channel.stderr.on('data', onErr);
      const timer = setTimeout(() => {
        finish(
          become
            ? new BecomeError(`${host}: ${method} to ${become.user} did not give a shell within ${opts.startTimeoutMs} ms${err ? `: ${tail(err.split(prompt).join(''))}` : ''}`)
            : new SessionDiedError(`${host}: the remote shell did not start within ${opts.startTimeoutMs} ms`),
        );
      }, opts.startTimeoutMs ?? 20_000);
      void channel.closed.then((reason) => {
        const text = tail(err.split(prompt).join(''));
        if (!become) {
          finish(new SessionDiedError(`${host}: the shell exited before it was ready (${reason})${text ? `: ${text}` : ''}`, { stderr: text }));
        } else if (/password is required/.test(err)) {
          finish(new BecomeError(`${host}: sudo: a password is required to become ${become.user} (set the become password)`, { stderr: text }));
        } else if (/incorrect password|Sorry, try again|Authentication failure/i.test(err)) {
          finish(new BecomeError(`${host}: incorrect ${method} password for becoming ${become.user}`, { stderr: text }));
        } else {
          finish(new BecomeError(`${host}: ${method} to ${become.user} failed (${reason})${text ? `: ${text}` : ''}`, { stderr: text }));
        }
      });
    });
    const s = new ShellSession(channel, host, key);
    s.pid = pid;
    s.pgid = pgid;
    return s;
  }

  /** Run one command; commands on one session run one after the other. */
  run(cmd: string, opts: SessionExecOptions = {}): Promise<RawExecResult> {
    const p = this.queue.then(() => this.runNow(cmd, opts));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private runNow(cmd: string, opts: SessionExecOptions): Promise<RawExecResult> {
    if (this.deadReason !== null) {
      return Promise.reject(new SessionDiedError(`${this.host}: the shell session is closed (${this.deadReason})`));
    }
    if (opts.signal?.aborted) return Promise.reject(new InterruptedError());
    const line = buildCommandLine(cmd, opts);
    const started = Date.now();
    return new Promise<RawExecResult>((resolve, reject) => {
      let backstop: NodeJS.Timeout | undefined;
      let grace: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      const cleanup = (): void => {
        if (backstop) clearTimeout(backstop);
        if (grace) clearTimeout(grace);
        if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
        this.pending = null;
      };
      const maybeDone = (): void => {
        if (!this.pending || !this.pending.out.done || !this.pending.err.done) return;
        const result = { rc: this.pending.out.rc, stdout: this.pending.out.output(), stderr: this.pending.err.output() };
        if (this.pending.interrupted) {
          cleanup();
          // A SIGINT sent from another channel may still be on its way: this shell runs nothing more.
          void this.close();
          reject(new InterruptedError());
          return;
        }
        cleanup();
        // `timeout` exits 124 (TERM worked) or 137 (it had to KILL); check the clock as well so
        // a command that merely exits 124 by itself is not called a timeout.
        if (opts.timeoutMs !== undefined && (result.rc === 124 || result.rc === 137) && Date.now() - started >= opts.timeoutMs - 20) {
          reject(timeoutError(this.host, cmd, opts.timeoutMs, result));
        } else resolve(result);
      };
      this.pending = {
        resolve,
        reject: (e: Error) => {
          cleanup();
          reject(e);
        },
        out: new Framer(line.start, line.endOut, true, maybeDone),
        err: new Framer(line.start, line.endErr, false, maybeDone),
        hasStdin: line.data !== undefined,
      };
      if (opts.timeoutMs !== undefined) {
        backstop = setTimeout(() => {
          const p = this.pending;
          if (!p) return;
          const partial = { rc: -1, stdout: p.out.partial(), stderr: p.err.partial() };
          this.kill('the command did not return after its timeout');
          p.reject(timeoutError(this.host, cmd, opts.timeoutMs!, partial));
        }, opts.timeoutMs + 3000);
      }
      if (opts.signal) {
        onAbort = () => {
          const p = this.pending;
          if (!p || p.interrupted) return;
          p.interrupted = true;
          const killNow = (): void => {
            if (this.pending !== p) return;
            this.kill('interrupted');
            p.reject(new InterruptedError());
          };
          // stdin data in flight, or no way to signal the command alone: end the shell with it
          if (p.hasStdin || !this.pid || !this.pgid || !this.channel.interrupt) return killNow();
          // Only once the shell has read the whole command line (start marker seen): a signal
          // while `read` is in the middle of a line would lose the part read so far.
          const send = (): void => this.channel.interrupt!(this.pid, this.pgid);
          if (p.out.started) send();
          else p.out.onStart = send;
          grace = setTimeout(killNow, INTERRUPT_GRACE_MS);
        };
        opts.signal.addEventListener('abort', onAbort, { once: true });
      }
      this.channel.stdin.write(line.text);
      if (line.data) this.channel.stdin.write(line.data);
    });
  }

  private onClosed(reason: string): void {
    if (this.deadReason === null) this.deadReason = reason;
    const p = this.pending;
    if (p?.interrupted) p.reject(new InterruptedError());
    else if (p) {
      const stderr = p.err.partial().toString('utf8');
      p.reject(
        new SessionDiedError(`${this.host}: the shell running the command died (${this.deadReason}); the command's outcome is unknown`, {
          rc: -1,
          stdout: p.out.partial().toString('utf8'),
          stderr,
        }),
      );
    }
  }

  private kill(reason: string): void {
    if (this.deadReason === null) this.deadReason = reason;
    this.channel.kill(this.pgid || undefined);
  }

  /**
   * End the shell: EOF on its stdin ends the read loop; kill if it does not go within 2 s. A
   * write in progress (a command with stdin) is let finish first: killed, it could leave its
   * temp file behind, and its data is already on the way.
   */
  async close(): Promise<void> {
    if (this.deadReason === null) this.deadReason = 'closed';
    if (this.pending?.hasStdin) await this.queue;
    this.channel.stdin.end();
    const t = setTimeout(() => this.channel.kill(), 2000);
    await this.channel.closed;
    clearTimeout(t);
  }
}

function timeoutError(host: string, cmd: string, timeoutMs: number, r: RawExecResult): CommandTimeoutError {
  return new CommandTimeoutError(`${host}: command timed out after ${timeoutMs} ms and was killed`, {
    rc: r.rc,
    stdout: r.stdout.toString('utf8'),
    stderr: r.stderr.toString('utf8'),
    cmd,
    timeout: true,
  });
}

interface CommandLine {
  text: string;
  data?: Buffer;
  start: Buffer;
  endOut: Buffer;
  endErr: Buffer;
}

let pool: Buffer = Buffer.alloc(0);
let poolPos = 0;

/**
 * Hex of `n` fresh bytes from the CSPRNG. Drawn from a 4 KiB pool, each byte used once: one
 * randomBytes call per 256 commands instead of one per command (~45 us each, at 20 hosts x
 * 20 tasks a visible share of a run's CPU).
 */
function freshHex(n: number): string {
  if (poolPos + n > pool.length) {
    pool = randomBytes(4096);
    poolPos = 0;
  }
  const hex = pool.toString('hex', poolPos, poolPos + n);
  pool.fill(0, poolPos, poolPos + n);
  poolPos += n;
  return hex;
}

/** The one line written for a command (plus its stdin bytes). Exported for tests. */
export function buildCommandLine(cmd: string, opts: ExecOptions): CommandLine {
  const tok = `tsplay${freshHex(16)}`;
  const start = `${tok}s`;
  const end = `${tok}e`;
  // The subshell must outlive an interrupt until its command has ended (a dash subshell killed by
  // SIGINT would orphan a command that handles SIGINT itself), then end as interrupted. Commands
  // it execs get the default SIGINT back; a command may `trap` it itself.
  const inner: string[] = ["trap 'exit 130' INT", 'unset __s'];
  if (opts.cwd !== undefined) inner.push(`cd ${lineQuote(opts.cwd)} || exit 1`);
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(k)) throw new ModuleFailure(`invalid environment variable name ${JSON.stringify(k)}`);
    inner.push(`export ${k}=${lineQuote(v)}`);
  }
  if (opts.timeoutMs !== undefined) {
    const secs = Math.max(0.001, opts.timeoutMs / 1000).toFixed(3);
    // timeout puts the command in its own process group and kills all of it; -k: KILL 2 s later
    // if TERM was ignored.
    inner.push(`exec timeout -k 2 ${secs} /bin/sh -c "$__c"`);
  } else inner.push('eval "$__c"');
  const sub = `( ${inner.join('; ')} )`;
  let data: Buffer | undefined;
  let run: string;
  if (opts.stdin !== undefined) {
    data = typeof opts.stdin === 'string' ? Buffer.from(opts.stdin, 'utf8') : opts.stdin;
    run = `head -c ${data.length} | { ${sub}; __r=$?; cat >/dev/null; exit "$__r"; }`;
  } else run = `${sub} </dev/null`;
  const text = `__c=${lineQuote(cmd)}; printf %s ${start}; printf %s ${start} >&2; ${run}; printf '%s%d;' ${end} "$?"; printf %s ${end} >&2\n`;
  return { text, data, start: Buffer.from(start), endOut: Buffer.from(end), endErr: Buffer.from(end) };
}
