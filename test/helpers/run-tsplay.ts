/**
 * Runs the built CLI (dist/, built by `npm test`'s pretest or the jest global setup) as a real
 * subprocess, the way a user does, in a throw-away project directory.
 */
import { spawnSync } from 'child_process';
import crypto from 'crypto';
import fs from 'fs';
import os from 'os';
import path from 'path';

export const ROOT = path.resolve(__dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'tsplay');

export interface TsplayRun {
  code: number;
  stdout: string;
  stderr: string;
  /** parsed events when --format json was given */
  events: Array<Record<string, any>>;
}

export function runTsplay(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): TsplayRun {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const events: Array<Record<string, any>> = [];
  if (args.includes('json')) {
    for (const line of r.stdout.split('\n')) {
      if (!line.trim()) continue;
      try {
        events.push(JSON.parse(line));
      } catch {
        throw new Error(`not a JSON event line: ${line}\nstderr: ${r.stderr}`);
      }
    }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, events };
}

/** A temp directory with the given files (paths relative to it). */
export function makeProject(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsplay-t-'));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return dir;
}

/** sha256 over every path, type, mode, owner and content below `dir` (a tree fingerprint). */
export function treeHash(dir: string): string {
  const h = crypto.createHash('sha256');
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    h.update(`${path.relative(dir, p)}\0${st.mode}\0${st.uid}\0${st.gid}\0`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e));
    else if (st.isSymbolicLink()) h.update(fs.readlinkSync(p));
    else if (st.isFile()) h.update(fs.readFileSync(p));
  };
  walk(dir);
  return h.digest('hex');
}

/** The recap event of a json run. */
export function recap(run: TsplayRun): Record<string, any> {
  const r = run.events.find((e) => e.type === 'recap');
  if (!r) throw new Error(`no recap event\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  return r;
}

/** host_result events of one task name. */
export function results(run: TsplayRun, task?: string): Array<Record<string, any>> {
  return run.events.filter((e) => e.type === 'host_result' && (task === undefined || e.task === task));
}

export const LOCAL_INVENTORY = 'localhost ansible_connection=local\n';
