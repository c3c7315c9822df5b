/**
 * The module-facing Probe/Remote over a Connection: every operation is one shell command (one
 * round trip on the persistent shell), built with runner/shell-quote. Needs GNU coreutils on the
 * host (stat -c, sync FILE, mv -T, ln -T; sha256sum where there), as on every Debian. The write
 * itself is runner/connection/write-script.ts.
 */

import { createHash, randomBytes } from 'crypto';
import { ModuleFailure } from '../errors';
import { LocalConnection } from './local';
import { localReadFile, localStat } from './local-probe';
import type { ExecOptions, ExecResult, FileStat, Probe, StatOptions, Remote, WriteOptions, WriteResult } from '../module-api';
import { sh } from '../shell-quote';
import { ShlexError, shlexSplit } from '../shlex';
import { writeScript } from './write-script';
import type { BecomeSpec, Connection, RawExecResult } from './types';

function decode(r: RawExecResult): ExecResult {
  return { rc: r.rc, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

function firstLine(s: string): string {
  return s.trim().split('\n').filter(Boolean).slice(-3).join('; ');
}

const MODE_RE = /^[0-7]{3,4}$/;

/** `path.YYYYMMDD-HHMMSS` in the controller's local time. */
export function backupName(path: string, now = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${path}.${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/**
 * The validate command as an argv (Ansible runs it without a shell too): split shlex-style on
 * the controller, so a bad one fails before anything reaches the host.
 */
export function validateArgv(host: string, path: string, validate: string): string[] {
  let words: string[];
  try {
    words = shlexSplit(validate);
  } catch (e) {
    if (!(e instanceof ShlexError)) throw e;
    throw new ModuleFailure(`${host}: ${path}: cannot split validate ${JSON.stringify(validate)} into words: ${e.message}`);
  }
  if (words.length === 0) throw new ModuleFailure(`${host}: ${path}: validate is empty`);
  // a program name is not an option; refusing it beats guessing how exec reads it
  if (words[0].startsWith('-')) throw new ModuleFailure(`${host}: ${path}: validate must start with a program, not ${JSON.stringify(words[0])}`);
  if (words.some((w) => w.includes('\0'))) throw new ModuleFailure(`${host}: ${path}: validate contains a NUL byte`);
  return words;
}

export function createRemote(conn: Connection, become?: BecomeSpec, opts: { shellProbes?: boolean } = {}): Remote {
  const run = (cmd: string, opts?: ExecOptions): Promise<RawExecResult> => conn.exec(cmd, { ...opts, become });

  const query = async (cmd: string, opts?: ExecOptions): Promise<ExecResult> => decode(await run(cmd, opts));

  const readFile = async (path: string): Promise<Buffer | null> => {
    // LC_ALL=C so the "not there" cases can be told from permission problems by their message.
    const r = await run(sh`LC_ALL=C exec cat -- ${path}`);
    if (r.rc === 0) return r.stdout;
    const err = r.stderr.toString('utf8');
    if (/No such file or directory|Not a directory/.test(err)) return null;
    throw new ModuleFailure(`${conn.name}: cannot read ${path}: ${firstLine(err) || `rc=${r.rc}`}`, { rc: r.rc, stderr: err, path });
  };

  const stat = async (paths: string[], opts: StatOptions = {}): Promise<FileStat[]> => {
    if (paths.length === 0) return [];
    const r = await run(statCommand(paths, opts));
    return parseStat(conn.name, paths, r, opts);
  };

  const exec = query;

  const writeFile = async (path: string, data: Buffer | string, opts: WriteOptions = {}): Promise<WriteResult> => {
    if (opts.mode !== undefined && !MODE_RE.test(opts.mode)) {
      throw new ModuleFailure(`${conn.name}: ${path}: mode must be an octal string like "0644", got ${JSON.stringify(opts.mode)}`);
    }
    const validate = opts.validate !== undefined ? validateArgv(conn.name, path, opts.validate) : undefined;
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const tok = `tsplay-w-${randomBytes(8).toString('hex')}`;
    const backup = opts.backup ? backupName(path) : undefined;
    // the host commits only these exact bytes: a transfer cut short is never renamed into place
    const script = writeScript({
      tok,
      path,
      nonce: randomBytes(8).toString('hex'),
      size: buf.length,
      sha256: createHash('sha256').update(buf).digest('hex'),
      mode: opts.mode,
      owner: opts.owner,
      group: opts.group,
      validate,
      backup,
    });
    const r = await run(script, { stdin: buf });
    const stderrAll = r.stderr.toString('utf8');
    const mine = stderrAll.split('\n').filter((l) => l.startsWith(tok + ':'));
    const stderr = stderrAll
      .split('\n')
      .filter((l) => !l.startsWith(tok + ':'))
      .join('\n');
    const failed = mine.map((l) => l.slice(tok.length + 1).split(':')).find((f) => f[0] !== 'backup');
    if (r.rc !== 0 || failed) {
      const [step, rc] = failed ?? ['write', String(r.rc)];
      const stdout = r.stdout.toString('utf8');
      if (step === 'validate') {
        throw new ModuleFailure(`${conn.name}: validation of ${path} failed (rc=${rc})${stderr.trim() ? `: ${firstLine(stderr)}` : ''}; the file was not changed`, {
          rc: Number(rc),
          stdout,
          stderr,
          path,
        });
      }
      throw new ModuleFailure(`${conn.name}: cannot write ${path}: ${step} failed${stderr.trim() ? `: ${firstLine(stderr)}` : ` (rc=${rc})`}`, {
        rc: Number(rc),
        stderr,
        path,
      });
    }
    // `<tok>:backup:<n>`: the backup took the n-th name (0: the timestamp alone; a taken name is skipped)
    const b = mine.find((l) => l.startsWith(`${tok}:backup:`));
    if (b === undefined) return {};
    const n = Number(b.slice(`${tok}:backup:`.length));
    return { backupFile: n > 0 ? `${backup}-${n}` : backup };
  };

  // the local connection as the controller's own user: probes need no shell (see local-probe.ts)
  if (conn instanceof LocalConnection && !become && !opts.shellProbes) {
    const fail = (path: string, e: unknown): never => {
      throw new ModuleFailure(`${conn.name}: cannot read ${path}: ${(e as Error).message}`, { path });
    };
    return {
      query,
      exec,
      writeFile,
      readFile: (path) => localReadFile(path).catch((e) => fail(path, e)),
      stat: (paths, opts) => localStat(paths, opts).catch((e) => fail(paths.join(' '), e)),
    };
  }
  return { query, readFile, stat, exec, writeFile };
}

/** A read-only view for plan(): a new object holding closures, so no cast reaches exec/writeFile. */
export function probeOnly(remote: Remote): Probe {
  const probe: Probe = {
    query: (cmd, opts) => remote.query(cmd, opts),
    readFile: (path) => remote.readFile(path),
    stat: (paths, opts) => remote.stat(paths, opts),
  };
  return Object.freeze(probe);
}

const TYPES: Record<string, FileStat['type']> = {
  'regular file': 'file',
  'regular empty file': 'file',
  directory: 'directory',
  'symbolic link': 'link',
};

/** Fields of one stat record, each ended by NUL (none can hold a NUL). */
const STAT_FORMAT = '%F\\0%a\\0%u\\0%g\\0%U\\0%G\\0%s\\0%Y\\0';
const STAT_FIELDS = 8;

/**
 * One shell command that stats every path with at most three programs, however many paths:
 * the shell's own tests sort them (M missing, E exists, L link followed by its NUL-ended target),
 * then ONE `stat` over the existing ones, then (checksum) ONE `sha256sum` over the regular
 * files. Forks, not round trips, are what a host pays per task, and on a busy host they add up
 * (the file module stats the target and all its parents). Exported for tests.
 */
export function statCommand(paths: string[], opts: StatOptions = {}): string {
  const exists = opts.follow ? '[ -e "$p" ]' : '{ [ -e "$p" ] || [ -L "$p" ]; }';
  const tag = opts.follow ? 'printf E' : `if [ -L "$p" ]; then printf L; readlink -z -- "$p" || printf '\\0'; else printf E; fi`;
  const isFile = opts.follow ? '[ -f "$p" ]' : '[ -f "$p" ] && [ ! -L "$p" ]';
  const parts = [
    'set --',
    `for p in ${sh`${paths}`}; do if ${exists}; then set -- "$@" "$p"; ${tag}; else printf M; fi; done`,
    "printf '\\n'",
    `if [ $# -gt 0 ]; then LC_ALL=C stat ${opts.follow ? '-L ' : ''}--printf '${STAT_FORMAT}' -- "$@" || exit 3; fi`,
  ];
  if (opts.checksum || opts.sha1) {
    // the regular files, appended after the existing paths, which `shift` then drops
    parts.push(`n=$#; for p do if ${isFile}; then set -- "$@" "$p"; fi; done; shift "$n"`);
    if (opts.checksum) parts.push('if [ $# -gt 0 ]; then LC_ALL=C sha256sum -- "$@" || exit 4; fi');
    // Ansible's `checksum` is SHA-1: the stat module asks for it in the same round trip
    if (opts.sha1) parts.push('if [ $# -gt 0 ]; then LC_ALL=C sha1sum -- "$@" || exit 4; fi');
  }
  return parts.join('; ');
}

/** Index of the n-th `ch` from `from` on, or -1. */
function nthIndex(s: string, ch: string, from: number, n: number): number {
  let i = from - 1;
  for (let k = 0; k < n; k++) {
    i = s.indexOf(ch, i + 1);
    if (i < 0) return -1;
  }
  return i;
}

function parseStat(host: string, paths: string[], r: RawExecResult, opts: StatOptions): FileStat[] {
  const checksum = !!opts.checksum;
  // NUL and newline never occur inside a UTF-8 sequence: one decode, then plain string scanning
  const buf = r.stdout.toString('utf8');
  let pos = 0;
  const stderr = r.stderr.toString('utf8');
  const fail = (why: string): never => {
    throw new ModuleFailure(`${host}: ${why}${stderr.trim() ? `: ${firstLine(stderr)}` : ''}`, { rc: r.rc, stderr });
  };
  if (r.rc === 3) fail(`cannot stat ${paths.join(' ')}`);
  if (r.rc === 4) fail(`cannot read ${paths.join(' ')} for checksums`);
  if (r.rc !== 0) fail(`stat failed (rc=${r.rc})`);
  const upTo = (sep: string, what: string): string => {
    const i = buf.indexOf(sep, pos);
    if (i < 0) fail(`stat failed: truncated output (${what})`);
    const s = buf.slice(pos, i);
    pos = i + 1;
    return s;
  };
  const out: FileStat[] = [];
  // (only the no-follow command tags links: `L` is always a link, and its target comes with it)
  for (const path of paths) {
    const tag = buf.charAt(pos++);
    if (tag === 'M') out.push({ path, exists: false });
    else if (tag === 'E') out.push({ path, exists: true });
    else if (tag === 'L') out.push({ path, exists: true, linkTarget: upTo('\0', 'link target') });
    else fail(`stat failed: unexpected output for ${path}`);
  }
  if (buf.charAt(pos++) !== '\n') fail('stat failed: unexpected output after the tags');
  for (const st of out) {
    if (!st.exists) continue;
    const end = nthIndex(buf, '\0', pos, STAT_FIELDS);
    if (end < 0) fail(`stat failed: truncated output (${st.path})`);
    const [ftype, mode, uid, gid, owner, group, size, mtime] = buf.slice(pos, end).split('\0');
    pos = end + 1;
    Object.assign(st, {
      type: TYPES[ftype] ?? 'other',
      mode: mode.padStart(4, '0'),
      uid: Number(uid),
      gid: Number(gid),
      owner,
      group,
      size: Number(size),
      mtime: Number(mtime),
    });
  }
  {
    for (const st of checksum ? out : []) {
      if (st.type !== 'file') continue;
      // sha256sum starts a line with '\\' when it had to escape the name; the hash follows
      let line = upTo('\n', `checksum of ${st.path}`);
      if (line.startsWith('\\')) line = line.slice(1);
      if (!/^[0-9a-f]{64}/.test(line)) fail(`cannot read ${st.path} for its checksum`);
      st.sha256 = line.slice(0, 64);
    }
    for (const st of opts.sha1 ? out : []) {
      if (st.type !== 'file') continue;
      let line = upTo('\n', `sha1 of ${st.path}`);
      if (line.startsWith('\\')) line = line.slice(1);
      if (!/^[0-9a-f]{40}/.test(line)) fail(`cannot read ${st.path} for its checksum`);
      st.sha1 = line.slice(0, 40);
    }
  }
  if (pos !== buf.length) fail('stat failed: unexpected trailing output');
  return out;
}
