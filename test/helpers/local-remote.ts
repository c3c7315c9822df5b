/**
 * LocalRemote: a real Remote on this machine (/bin/sh via child_process, node fs), so the
 * commands modules build are proven against a real shell, not only compared as strings; and
 * the temp directories and tree snapshots its tests use.
 */

import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { quote, type ExecOptions, type ExecResult, type FileStat, type Probe, type Remote, type WriteOptions, type WriteResult } from '../../runner/module-api';
import { probeOnly, sha256, type Call, type WriteRecord } from './probe-view';

function readIds(file: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && !m.has(Number(f[2]))) m.set(Number(f[2]), f[0]);
  }
  return m;
}

function nameToId(file: string, name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return Number(f[2]);
  }
  throw new Error(`no such ${file.endsWith('passwd') ? 'user' : 'group'}: ${name}`);
}

function runSh(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', cmd], {
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({
        rc: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : -1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');
  });
}

export class LocalRemote implements Remote {
  readonly calls: Call[] = [];
  readonly writes: WriteRecord[] = [];
  private users = readIds('/etc/passwd');
  private groups = readIds('/etc/group');

  get execs(): string[] {
    return this.calls.filter((c) => c.kind === 'exec').map((c) => c.cmd);
  }

  async query(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    this.calls.push({ kind: 'query', cmd, opts });
    return runSh(cmd, opts);
  }

  async exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    this.calls.push({ kind: 'exec', cmd, opts });
    return runSh(cmd, opts);
  }

  async readFile(p: string): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async stat(paths: string[], opts: { checksum?: boolean; follow?: boolean; sha1?: boolean } = {}): Promise<FileStat[]> {
    const out: FileStat[] = [];
    for (const p of paths) {
      let s: fs.Stats;
      try {
        s = opts.follow ? await fs.promises.stat(p) : await fs.promises.lstat(p);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') {
          out.push({ path: p, exists: false });
          continue;
        }
        throw e;
      }
      const type = s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'link' : 'other';
      const st: FileStat = {
        path: p,
        exists: true,
        type,
        mode: (s.mode & 0o7777).toString(8).padStart(4, '0'),
        uid: s.uid,
        gid: s.gid,
        owner: this.users.get(s.uid),
        group: this.groups.get(s.gid),
        size: s.size,
        mtime: Math.floor(s.mtimeMs / 1000),
      };
      if (type === 'link') st.linkTarget = await fs.promises.readlink(p);
      if (type === 'file' && opts.checksum) st.sha256 = sha256(await fs.promises.readFile(p));
      if (type === 'file' && opts.sha1) st.sha1 = createHash('sha1').update(await fs.promises.readFile(p)).digest('hex');
      out.push(st);
    }
    return out;
  }

  async writeFile(p: string, data: Buffer | string, opts: WriteOptions = {}): Promise<WriteResult> {
    const buf = Buffer.from(data);
    this.writes.push({ path: p, data: buf, opts });
    const tmp = path.join(path.dirname(p), `.tsplay-test-${process.pid}-${Math.random().toString(36).slice(2)}`);
    const fd = await fs.promises.open(tmp, 'wx', 0o600);
    try {
      await fd.writeFile(buf);
      await fd.sync();
    } finally {
      await fd.close();
    }
    try {
      let mode = opts.mode;
      const old = await fs.promises.stat(p).catch(() => undefined);
      if (mode === undefined) mode = old ? (old.mode & 0o7777).toString(8) : '644';
      await fs.promises.chmod(tmp, parseInt(mode, 8));
      if (opts.owner !== undefined || opts.group !== undefined) {
        await fs.promises.chown(
          tmp,
          opts.owner !== undefined ? nameToId('/etc/passwd', opts.owner) : -1,
          opts.group !== undefined ? nameToId('/etc/group', opts.group) : -1,
        );
      }
      if (opts.validate) {
        const r = await runSh(opts.validate.split('%s').join(quote(tmp)));
        if (r.rc !== 0) throw new Error(`validation failed (rc=${r.rc}): ${r.stdout}${r.stderr}`);
      }
      const res: WriteResult = {};
      if (opts.backup && old) {
        res.backupFile = `${p}.${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
        await fs.promises.copyFile(p, res.backupFile);
      }
      await fs.promises.rename(tmp, p);
      return res;
    } catch (e) {
      await fs.promises.rm(tmp, { force: true });
      throw e;
    }
  }

  probeOnly(): Probe {
    return probeOnly(this);
  }
}

/** A temp directory for LocalRemote tests, with a hostile name so quoting is always exercised. */
export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "tsplay mod 'q' $(x) `y` ü-"));
}

/** Everything observable about a tree (type, mode, owner, content hash, link target), to prove nothing changed. */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (p: string): void => {
    const s = fs.lstatSync(p);
    let desc = `${s.mode.toString(8)} ${s.uid}:${s.gid}`;
    if (s.isSymbolicLink()) desc += ` -> ${fs.readlinkSync(p)}`;
    else if (s.isFile()) desc += ` ${sha256(fs.readFileSync(p))} ${s.mtimeMs}`;
    out[path.relative(root, p) || '.'] = desc;
    if (s.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(root);
  return out;
}

export const tmpRoot = os.tmpdir();
