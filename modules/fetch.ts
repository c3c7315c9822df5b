/**
 * fetch: a file copied FROM the host TO the controller (dest/<inventory_hostname>/<src>, or dest
 * itself with flat). The controller write is atomic and never goes through a symlink, and a host
 * name or src that would climb out of dest is refused. Its documentation is the defineModule
 * fields below (`tsplay doc fetch`).
 */

import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { defineModule, ModuleFailure, type ModuleContext, type Remote } from '../runner/module-api';

export interface FetchArgs {
  src: string;
  dest: string;
  flat: boolean;
  fail_on_missing: boolean;
  validate_checksum: boolean;
}

const sha1 = (b: Buffer): string => createHash('sha1').update(b).digest('hex');

/** The controller path the file goes to; refuses any name that would leave dest. */
export function fetchTarget(a: Pick<FetchArgs, 'src' | 'dest' | 'flat'>, host: string): { base: string; target: string } {
  if (a.flat) {
    const target = a.dest.endsWith('/') ? path.join(a.dest, path.posix.basename(a.src)) : a.dest;
    return { base: path.dirname(path.resolve(target)), target: path.resolve(target) };
  }
  if (host === '' || host === '.' || host === '..' || host.includes('/') || host.includes('\0')) {
    throw new ModuleFailure(`fetch: the host name ${JSON.stringify(host)} cannot be a directory name under ${a.dest}`);
  }
  const parts = a.src.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) throw new ModuleFailure(`fetch: src ${a.src} contains '..', which would leave ${a.dest}`, { file: a.src });
  const base = path.resolve(a.dest);
  return { base, target: path.join(base, host, ...parts) };
}

/** Directories between base and target's parent, created one by one; a symlink among them is refused, never followed. */
function makeParents(base: string, target: string): void {
  fs.mkdirSync(base, { recursive: true });
  let cur = base;
  for (const part of path.relative(base, path.dirname(target)).split(path.sep).filter(Boolean)) {
    cur = path.join(cur, part);
    const st = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (!st) fs.mkdirSync(cur, { mode: 0o755 });
    else if (!st.isDirectory()) throw new ModuleFailure(`fetch: ${cur} exists and is not a directory (a symlink is not followed)`, { dest: target });
  }
}

/** Temp file beside the target (O_EXCL: never an existing name or link), fsync, rename over the target (a link there is replaced). */
function writeAtomic(target: string, data: Buffer): void {
  const tmp = path.join(path.dirname(target), `.tsplay-fetch-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o644);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function localSha1(target: string): string | undefined {
  const st = fs.lstatSync(target, { throwIfNoEntry: false });
  return st?.isFile() ? sha1(fs.readFileSync(target)) : undefined;
}

export default defineModule<FetchArgs>({
  name: 'fetch',
  description: 'Copy a file from the host to the controller (dest/<inventory_hostname>/<src>, or dest with flat).',
  notes: [
    'Compared by SHA-1 with the controller copy: an identical file is not transferred. The file is read',
    'in one round trip, checked against the host\'s SHA-1 (validate_checksum), and written on the',
    'controller atomically (temp file beside it, fsync, rename); a symlink at the target is replaced,',
    'a symlink among the directories fetch creates is refused. A host name or src with ".." or "/"',
    'that would leave dest is refused. Directories cannot be fetched.',
  ].join('\n'),
  returns: '{ file: src, dest, checksum, remote_checksum }',
  example: `- fetch:
    src: /etc/patroni/patroni.yml
    dest: backups/
- fetch:
    src: /var/lib/postgresql/15/main/postgresql.auto.conf
    dest: "backups/{{ inventory_hostname }}.auto.conf"
    flat: true`,
  checkMode: 'Stats the host file and the controller copy only; reports changed when they differ, writes nothing on the controller.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: { type: 'string', minLength: 1, description: 'The file on the host (not a directory).' },
      dest: { type: 'string', minLength: 1, description: 'Controller directory (dest/<inventory_hostname>/<src>), or with flat the file (a trailing / : dest/basename(src)).' },
      flat: { type: 'boolean', default: false, description: 'Use dest as it is instead of dest/<inventory_hostname>/<src>.' },
      fail_on_missing: { type: 'boolean', default: true, description: 'Fail when src does not exist on the host (false: ok, with a message).' },
      validate_checksum: { type: 'boolean', default: true, description: "Check the transferred bytes against the host's SHA-1." },
    },
  },

  async plan(a, ctx) {
    const { target } = fetchTarget(a, ctx.host);
    const [st] = await ctx.remote.stat([a.src], { follow: true, sha1: true });
    if (!st.exists) {
      if (a.fail_on_missing) throw new ModuleFailure(`the remote file does not exist: ${a.src}`, { file: a.src });
      return { changes: [], result: { file: a.src }, msg: 'the remote file does not exist, not transferring, ignored' };
    }
    if (st.type === 'directory') throw new ModuleFailure(`remote file is a directory, fetch cannot work on directories: ${a.src}`, { file: a.src });
    const local = localSha1(target);
    const result = { file: a.src, dest: target, remote_checksum: st.sha1, checksum: local };
    if (local !== undefined && local === st.sha1) return { changes: [], result };
    return {
      changes: [{ kind: 'exec', summary: `fetch ${a.src} to the controller's ${target}`, command: ':', diff: { path: target, before: local ? `sha1: ${local}\n` : 'absent\n', after: `sha1: ${st.sha1}\n` } }],
      result,
    };
  },

  async apply(a, plan, ctx: ModuleContext<Remote>) {
    const { base, target } = fetchTarget(a, ctx.host);
    const data = await ctx.remote.readFile(a.src);
    if (data === null) throw new ModuleFailure(`the remote file vanished: ${a.src}`, { file: a.src });
    const got = sha1(data);
    if (a.validate_checksum && got !== plan.result?.remote_checksum) {
      throw new ModuleFailure(`checksum mismatch for ${a.src}: the host said ${String(plan.result?.remote_checksum)}, ${got} arrived (the file changed while fetched?)`, { file: a.src });
    }
    makeParents(base, target);
    writeAtomic(target, data);
    return { checksum: got, dest: target };
  },
});
