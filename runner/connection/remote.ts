/**
 * The module-facing Probe/Remote over a Connection: every operation is one shell command (one
 * round trip on the persistent shell), built with runner/shell-quote. Needs GNU coreutils on the
 * host (stat -c, mktemp -p, sync FILE, mv -T, chmod --reference), as on every Debian.
 */

import { randomBytes } from 'crypto';
import { posix } from 'path';
import { ModuleFailure } from '../errors';
import { LocalConnection } from './local';
import { localReadFile, localStat } from './local-probe';
import type { ExecOptions, ExecResult, FileStat, Probe, Remote, WriteOptions, WriteResult } from '../module-api';
import { sh } from '../shell-quote';
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

  const stat = async (paths: string[], opts: { checksum?: boolean; follow?: boolean } = {}): Promise<FileStat[]> => {
    if (paths.length === 0) return [];
    const exists = opts.follow ? '[ -e "$p" ]' : '{ [ -e "$p" ] || [ -L "$p" ]; }';
    const statCmd = `LC_ALL=C stat ${opts.follow ? '-L ' : ''}--printf 'E\\n%F\\n%a\\n%u\\n%g\\n%U\\n%G\\n%s\\n%Y\\n' -- "$p" || printf 'X\\n'`;
    // Link targets may hold newlines: readlink -z ends them with NUL. Checksums: one line of hex.
    const link = `if [ -L "$p" ]; then readlink -z -- "$p" || printf '\\0'; fi`;
    const isFile = opts.follow ? '[ -f "$p" ]' : '[ -f "$p" ] && [ ! -L "$p" ]';
    const sum = opts.checksum ? `; if ${isFile}; then sha256sum < "$p" || printf 'X\\n'; fi` : '';
    const cmd = `for p in ${sh`${paths}`}; do if ${exists}; then ${statCmd}; ${opts.follow ? ':' : link}${sum}; else printf 'M\\n'; fi; done`;
    const r = await run(cmd);
    return parseStat(conn.name, paths, r, !!opts.checksum, !opts.follow);
  };

  const exec = query;

  const writeFile = async (path: string, data: Buffer | string, opts: WriteOptions = {}): Promise<WriteResult> => {
    if (opts.mode !== undefined && !MODE_RE.test(opts.mode)) {
      throw new ModuleFailure(`${conn.name}: ${path}: mode must be an octal string like "0644", got ${JSON.stringify(opts.mode)}`);
    }
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const tok = `tsplay-w-${randomBytes(8).toString('hex')}`;
    const dir = posix.dirname(path);
    const backup = opts.backup ? backupName(path) : undefined;
    const steps: string[] = [
      sh`k=${tok}; p=${path}; t=`,
      `fail() { r=$?; printf '%s:%s:%s\\n' "$k" "$1" "$r" >&2; [ -z "$t" ] || rm -f -- "$t"; exit 1; }`,
      sh`t=$(mktemp -p ${dir} .tsplay-tmp-XXXXXXXXXX) || fail mktemp`,
      // stdin is exactly the data (the session's head -c N); it streams into the temp file.
      `cat > "$t" || fail write`,
      `sync -- "$t" || fail fsync`,
    ];
    // A replaced file keeps its mode/owner unless told otherwise (mktemp made it 0600); a new
    // one gets 0666 & ~umask (chmod without who honours the umask).
    if (opts.mode === undefined) steps.push(`if [ -e "$p" ]; then chmod --reference="$p" -- "$t"; else chmod =rw -- "$t"; fi || fail chmod`);
    if (opts.owner === undefined && opts.group === undefined) {
      steps.push(`if [ -e "$p" ]; then chown --reference="$p" -- "$t" 2>/dev/null || :; fi`);
    } else {
      const spec = `${opts.owner ?? ''}${opts.group !== undefined ? `:${opts.group}` : ''}`;
      steps.push(sh`chown -- ${spec} "$t" || fail chown`);
    }
    if (opts.mode !== undefined) steps.push(sh`chmod -- ${opts.mode} "$t" || fail chmod`);
    if (opts.validate !== undefined) {
      const v = opts.validate.includes('%s') ? opts.validate.split('%s').join('"$t"') : `${opts.validate} "$t"`;
      steps.push(sh`( eval ${v} ) </dev/null || fail validate`);
    }
    if (backup !== undefined) {
      steps.push(sh`if [ -f "$p" ]; then cp -p -- "$p" ${backup} || fail backup; printf '%s:backup:0\\n' "$k" >&2; fi`);
    }
    steps.push(`mv -T -f -- "$t" "$p" || fail rename`);
    const r = await run(steps.join('\n'), { stdin: buf });
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
    return mine.some((l) => l.startsWith(`${tok}:backup:`)) ? { backupFile: backup } : {};
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

function parseStat(host: string, paths: string[], r: RawExecResult, checksum: boolean, links: boolean): FileStat[] {
  const buf = r.stdout;
  let pos = 0;
  const fail = (why: string): never => {
    throw new ModuleFailure(`${host}: stat failed: ${why}${r.stderr.length ? `: ${firstLine(r.stderr.toString('utf8'))}` : ''}`, {
      rc: r.rc,
      stderr: r.stderr.toString('utf8'),
    });
  };
  const line = (): string => {
    const i = buf.indexOf(0x0a, pos);
    if (i < 0) fail('truncated output');
    const s = buf.subarray(pos, i).toString('utf8');
    pos = i + 1;
    return s;
  };
  const out: FileStat[] = [];
  for (const path of paths) {
    const tag = line();
    if (tag === 'M') {
      out.push({ path, exists: false });
      continue;
    }
    if (tag === 'X') fail(`cannot stat ${path}`);
    if (tag !== 'E') fail(`unexpected output for ${path}`);
    const [ftype, mode, uid, gid, owner, group, size, mtime] = [line(), line(), line(), line(), line(), line(), line(), line()];
    const st: FileStat = {
      path,
      exists: true,
      type: TYPES[ftype] ?? 'other',
      mode: mode.padStart(4, '0'),
      uid: Number(uid),
      gid: Number(gid),
      owner,
      group,
      size: Number(size),
      mtime: Number(mtime),
    };
    if (links && st.type === 'link') {
      const z = buf.indexOf(0, pos);
      if (z < 0) fail('truncated link target');
      st.linkTarget = buf.subarray(pos, z).toString('utf8');
      pos = z + 1;
    }
    if (checksum && st.type === 'file') {
      const l = line();
      if (l === 'X') fail(`cannot read ${path} for its checksum`);
      st.sha256 = l.slice(0, 64);
    }
    out.push(st);
  }
  return out;
}
