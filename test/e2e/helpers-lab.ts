/**
 * Helpers for the e2e tests that run against the staging lab (test/lab): commands on lab hosts
 * through `test/lab/lab exec`, fingerprints of host directory trees, tsplay runs with the lab
 * inventory, and copies of that inventory that tests may break on purpose.
 */
import { spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { ROOT, runTsplay, type TsplayRun } from '../helpers/run-tsplay';

export const LAB = path.join(ROOT, 'test', 'lab', 'lab');
export const LAB_INVENTORY = path.join(ROOT, 'inventories', 'lab');
export const LAB_HOSTS = ['lab1', 'lab2', 'lab3', 'lab4', 'lab5'];
export const labIp = (host: string): string => `198.18.0.${10 + Number(host.replace('lab', ''))}`;

/** Generous: a full deployment on the 2-core machine takes minutes. */
export const RUN_TIMEOUT_MS = 14 * 60_000;

export interface Exec {
  code: number;
  stdout: string;
  stderr: string;
}

/** A shell command on a lab host, as root. */
export function labExec(host: string, cmd: string, timeoutMs = 60_000): Exec {
  const r = spawnSync(LAB, ['exec', host, cmd], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Like labExec, but a non-zero exit is an error that shows what the host said. */
export function labSh(host: string, cmd: string, timeoutMs?: number): string {
  const r = labExec(host, cmd, timeoutMs);
  if (r.code !== 0) throw new Error(`${host}: \`${cmd}\` exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

export function labIsUp(): boolean {
  const r = spawnSync(LAB, ['status'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0 && LAB_HOSTS.every((h) => new RegExp(`^${h}\\s+up\\s.*ssh=ok`, 'm').test(r.stdout));
}

/**
 * One sha256 over every entry below `dirs` on a host: path, type, mode, owner, group, size,
 * mtime and link target of every entry, plus the content of files under 1 MiB. Any write, chown
 * or chmod shows (the mtime catches rewrites of big files too), and it stays fast although the
 * lab's /opt is the machine's (gigabytes of unrelated files).
 */
export function hostTreeHash(host: string, dirs: string[]): string {
  const list = dirs.map((d) => `'${d.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = [
    `for d in ${list}; do [ -e "$d" ] || echo "absent $d"; done`,
    `find ${list} -xdev -printf '%p %y %m %u %g %s %T@ %l\\n' 2>/dev/null | LC_ALL=C sort`,
    `find ${list} -xdev -type f -size -1024k -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0r sha256sum`,
  ].join('\n');
  return labSh(host, `(${script}) | sha256sum | cut -d' ' -f1`, 180_000).trim();
}

/** The directories the HA roles write to (the dry run must leave them exactly as they were). */
export const IMPORTANT_DIRS = ['/etc', '/var/lib/postgresql', '/var/lib/etcd', '/opt'];

export interface TimedRun extends TsplayRun {
  seconds: number;
}

/** `tsplay run PLAYBOOK -i INVENTORY... ARGS --format json`, from the repository root. */
export function runPlaybook(playbook: string, inventories: string[], args: string[] = []): TimedRun {
  const t0 = Date.now();
  const inv = inventories.flatMap((i) => ['-i', i]);
  const r = runTsplay(['run', playbook, ...inv, ...args, '--format', 'json'], { cwd: ROOT, timeoutMs: RUN_TIMEOUT_MS });
  return { ...r, seconds: (Date.now() - t0) / 1000 };
}

/** Changed count per host from the recap. */
export function changedPerHost(run: TsplayRun): Record<string, number> {
  const rc = run.events.find((e) => e.type === 'recap');
  if (!rc) throw new Error(`no recap\n${tail(run)}`);
  const out: Record<string, number> = {};
  for (const [h, c] of Object.entries(rc.hosts as Record<string, { changed: number }>)) out[h] = c.changed;
  return out;
}

/** The host_result events that changed something (or would, in check mode). */
export function changedResults(run: TsplayRun): Array<Record<string, any>> {
  return run.events.filter((e) => e.type === 'host_result' && e.status === 'changed');
}

/** The end of a run's output, for assertion messages. */
export function tail(run: TsplayRun, lines = 60): string {
  const failures = run.events
    .filter((e) => e.type === 'host_result' && e.status === 'failed' && !e.ignored)
    .map((e) => `FAILED ${e.host} [${e.task}]: ${e.msg ?? ''}`);
  const out = run.stdout.split('\n').slice(-lines).join('\n');
  return [`exit ${run.code}`, ...failures, `stderr: ${run.stderr.slice(-4000)}`, `stdout (end): ${out.slice(-8000)}`].join('\n');
}

/**
 * A copy of inventories/lab in a temp dir that tests may change. The connection variables point
 * at the lab key and known_hosts by absolute path (the original uses paths relative to itself).
 */
export function copyLabInventory(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-labinv-'));
  fs.cpSync(LAB_INVENTORY, dir, { recursive: true });
  const gv = path.join(dir, 'group_vars', 'all.yml');
  const state = path.join(ROOT, 'test', 'lab', '.state');
  fs.writeFileSync(gv, fs.readFileSync(gv, 'utf8').split('{{ inventory_dir }}/../../test/lab/.state').join(state));
  return dir;
}
