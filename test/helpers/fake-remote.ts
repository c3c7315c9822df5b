/**
 * Test doubles for modules:
 *  - FakeRemote: an in-memory host (files, directories, links with owner/group/mode), a scripted
 *    `query`/`exec` handler programmed per test, and a record of every command and write.
 *  - LocalRemote: a real Remote on this machine (/bin/sh via child_process, node fs), so the
 *    commands modules build are proven against a real shell, not only compared as strings.
 *  - probeOnly(): the view a module's plan() gets; its mutating methods THROW, so a check-mode
 *    test fails the moment anything tries to change the host.
 *  - makeContext(): a ModuleContext with trivial `{{ var }}` rendering and a tiny condition
 *    evaluator; runModule()/validateArgs(): the engine's own pipeline (runner/executor/
 *    run-module.ts) and argument validation (ModuleRegistry) over those contexts.
 */

import Ajv from 'ajv';
import { spawn } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parse as parseYaml } from 'yaml';
import { runModule as runEngineModule, type ModuleOutcome } from '../../runner/executor/run-module';
import {
  quote,
  type ExecOptions,
  type ExecResult,
  type FileStat,
  type ModuleContext,
  type Plan,
  type Probe,
  type Remote,
  type TsplayModule,
  type WriteOptions,
  type WriteResult,
} from '../../runner/module-api';
import { ModuleRegistry } from '../../runner/module-registry';
import { splitWords } from '../../modules/command';

export interface Call {
  kind: 'query' | 'exec';
  cmd: string;
  opts?: ExecOptions;
}

export interface WriteRecord {
  path: string;
  data: Buffer;
  opts: WriteOptions;
}

interface Meta {
  mode: string;
  owner: string;
  group: string;
  mtime: number;
}

type Entry =
  | ({ type: 'file'; content: Buffer } & Meta)
  | ({ type: 'directory' } & Meta)
  | ({ type: 'link'; target: string } & Meta);

type Responder = Partial<ExecResult> | ((cmd: string, opts: ExecOptions | undefined, kind: Call['kind']) => Partial<ExecResult>);

interface Handler {
  kinds: Array<Call['kind']>;
  match: (cmd: string) => boolean;
  respond: Responder;
}

/** Thrown by the probe-only view: reaching it means plan()/check mode tried to change the host. */
export class MutationInCheckMode extends Error {}

/** The read-only view a module's plan() gets: exec/writeFile exist only to throw. */
export function probeOnly(r: Remote): Probe {
  return {
    query: (cmd, opts) => r.query(cmd, opts),
    readFile: (p) => r.readFile(p),
    stat: (paths, opts) => r.stat(paths, opts),
    exec: (cmd: string) => {
      throw new MutationInCheckMode(`exec called through the probe view: ${cmd}`);
    },
    writeFile: (p: string) => {
      throw new MutationInCheckMode(`writeFile called through the probe view: ${p}`);
    },
  } as Probe;
}

const USERS: Record<string, number> = { root: 0, daemon: 1, nobody: 65534, app: 1000, 'odd user': 1001 };
const GROUPS: Record<string, number> = { root: 0, daemon: 1, nogroup: 65534, app: 1000, 'odd group': 1001 };

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export class FakeRemote implements Remote {
  readonly entries = new Map<string, Entry>();
  readonly calls: Call[] = [];
  readonly writes: WriteRecord[] = [];
  /** every stat call's path list and every readFile path, to count round trips */
  readonly stats: string[][] = [];
  readonly reads: string[] = [];
  private handlers: Handler[] = [];
  /** when set, writeFile with `validate` fails with this stderr (target untouched) */
  validateFails?: string;

  constructor() {
    this.addDir('/');
  }

  addFile(p: string, content: string | Buffer, meta: Partial<Meta> = {}): this {
    this.entries.set(p, { type: 'file', content: Buffer.from(content), ...this.meta(meta, '0644') });
    return this;
  }

  addDir(p: string, meta: Partial<Meta> = {}): this {
    this.entries.set(p, { type: 'directory', ...this.meta(meta, '0755') });
    return this;
  }

  addLink(p: string, target: string, meta: Partial<Meta> = {}): this {
    this.entries.set(p, { type: 'link', target, ...this.meta(meta, '0777') });
    return this;
  }

  private meta(m: Partial<Meta>, mode: string): Meta {
    return { mode: m.mode ?? mode, owner: m.owner ?? 'root', group: m.group ?? 'root', mtime: m.mtime ?? 1700000000 };
  }

  /** Program a response for commands (query and exec) matching `match`. Later handlers win. */
  on(match: string | RegExp | ((cmd: string) => boolean), respond: Responder, kinds: Array<Call['kind']> = ['query', 'exec']): this {
    const m =
      typeof match === 'string' ? (c: string) => c === match : match instanceof RegExp ? (c: string) => match.test(c) : match;
    this.handlers.unshift({ kinds, match: m, respond });
    return this;
  }

  onQuery(match: string | RegExp | ((cmd: string) => boolean), respond: Responder): this {
    return this.on(match, respond, ['query']);
  }

  onExec(match: string | RegExp | ((cmd: string) => boolean), respond: Responder): this {
    return this.on(match, respond, ['exec']);
  }

  /**
   * Accept every exec (rc 0) and play the part of `mkdir -p -- DIRS` at its start, so a plan
   * that creates directories and then writes into them can be applied to the fake.
   */
  acceptExecs(): this {
    return this.onExec(
      () => true,
      (cmd) => {
        const first = cmd.split(' && ')[0];
        if (first.startsWith('mkdir -p -- ')) {
          for (const d of splitWords(first).slice(3)) {
            let cur = '';
            for (const part of d.split('/').filter(Boolean)) {
              cur += '/' + part;
              if (!this.entries.has(cur)) this.addDir(cur);
            }
          }
        }
        return {};
      },
    );
  }

  get execs(): string[] {
    return this.calls.filter((c) => c.kind === 'exec').map((c) => c.cmd);
  }

  get queries(): string[] {
    return this.calls.filter((c) => c.kind === 'query').map((c) => c.cmd);
  }

  /** Round trips a real connection would make: commands, stat batches, reads. */
  get roundTrips(): number {
    return this.calls.length + this.stats.length + this.reads.length;
  }

  /** Mutating calls (exec + writes): check-mode tests expect none. */
  get mutations(): number {
    return this.execs.length + this.writes.length;
  }

  private run(kind: Call['kind'], cmd: string, opts?: ExecOptions): ExecResult {
    this.calls.push({ kind, cmd, opts });
    const h = this.handlers.find((x) => x.kinds.includes(kind) && x.match(cmd));
    if (!h) throw new Error(`FakeRemote: unexpected ${kind}: ${cmd}`);
    const r = typeof h.respond === 'function' ? h.respond(cmd, opts, kind) : h.respond;
    return { rc: r.rc ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  async query(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.run('query', cmd, opts);
  }

  async exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.run('exec', cmd, opts);
  }

  /** Follow links to the final entry (as open(2) would). */
  private resolve(p: string, depth = 0): [string, Entry | undefined] {
    const e = this.entries.get(p);
    if (e?.type === 'link' && depth < 20) {
      const t = e.target.startsWith('/') ? e.target : path.posix.join(path.posix.dirname(p), e.target);
      return this.resolve(t, depth + 1);
    }
    return [p, e];
  }

  async readFile(p: string): Promise<Buffer | null> {
    this.reads.push(p);
    const [, e] = this.resolve(p);
    if (!e) return null;
    if (e.type !== 'file') throw new Error(`FakeRemote: ${p} is a ${e.type}`);
    return Buffer.from(e.content);
  }

  async stat(paths: string[], opts: { checksum?: boolean; follow?: boolean; sha1?: boolean } = {}): Promise<FileStat[]> {
    this.stats.push([...paths]);
    return paths.map((p) => {
      const e = opts.follow ? this.resolve(p)[1] : this.entries.get(p);
      if (!e) return { path: p, exists: false };
      const st: FileStat = {
        path: p,
        exists: true,
        type: e.type,
        mode: e.mode,
        owner: e.owner,
        group: e.group,
        uid: USERS[e.owner] ?? -1,
        gid: GROUPS[e.group] ?? -1,
        size: e.type === 'file' ? e.content.length : e.type === 'link' ? e.target.length : 4096,
        mtime: e.mtime,
      };
      if (e.type === 'link') st.linkTarget = e.target;
      if (e.type === 'file' && opts.checksum) st.sha256 = sha256(e.content);
      if (e.type === 'file' && opts.checksum && opts.sha1) st.sha1 = createHash('sha1').update(e.content).digest('hex');
      return st;
    });
  }

  async writeFile(p: string, data: Buffer | string, opts: WriteOptions = {}): Promise<WriteResult> {
    const buf = Buffer.from(data);
    this.writes.push({ path: p, data: buf, opts });
    const parent = this.entries.get(path.posix.dirname(p));
    if (!parent || parent.type !== 'directory') throw new Error(`FakeRemote: no directory for ${p}`);
    if (opts.validate && this.validateFails !== undefined) {
      throw new Error(`validation failed: ${this.validateFails}`);
    }
    const old = this.entries.get(p);
    const res: WriteResult = {};
    if (opts.backup && old) {
      res.backupFile = `${p}.20250101-000000`;
      this.entries.set(res.backupFile, { ...old });
    }
    const keep = old && old.type !== 'link' ? old : undefined;
    this.entries.set(p, {
      type: 'file',
      content: buf,
      mode: opts.mode ?? keep?.mode ?? '0644',
      owner: opts.owner ?? keep?.owner ?? 'root',
      group: opts.group ?? keep?.group ?? 'root',
      mtime: 1800000000,
    });
    return res;
  }

  probeOnly(): Probe {
    return probeOnly(this);
  }

  content(p: string): string | undefined {
    const e = this.entries.get(p);
    return e?.type === 'file' ? e.content.toString('utf8') : undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// A real Remote on this machine

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
      if (type === 'file' && opts.checksum && opts.sha1) st.sha1 = createHash('sha1').update(await fs.promises.readFile(p)).digest('hex');
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

// ---------------------------------------------------------------------------------------------
// ModuleContext

function lookup(vars: Record<string, unknown>, expr: string): { found: boolean; value: unknown } {
  let cur: unknown = vars;
  for (const part of expr.trim().split(/\.|\[['"]?|['"]?\]/).filter(Boolean)) {
    if (cur === null || typeof cur !== 'object' || !(part in (cur as object))) return { found: false, value: undefined };
    cur = (cur as Record<string, unknown>)[part];
  }
  return { found: true, value: cur };
}

function literal(vars: Record<string, unknown>, s: string): unknown {
  const t = s.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^(['"]).*\1$/.test(t)) return t.slice(1, -1);
  if (t === 'true' || t === 'True') return true;
  if (t === 'false' || t === 'False') return false;
  const l = lookup(vars, t);
  if (!l.found) throw new Error(`undefined variable: ${t}`);
  return l.value;
}

/** A tiny condition language for tests: and / not / == / != / > / < / is (not) defined / truthiness. */
export function evalCondition(vars: Record<string, unknown>, cond: unknown): boolean {
  if (typeof cond === 'boolean') return cond;
  if (Array.isArray(cond)) return cond.every((c) => evalCondition(vars, c));
  const s = String(cond).trim();
  if (s.includes(' and ')) return s.split(' and ').every((c) => evalCondition(vars, c));
  if (s.startsWith('not ')) return !evalCondition(vars, s.slice(4));
  let m = /^(.+?) is (not )?defined$/.exec(s);
  if (m) return lookup(vars, m[1]).found !== Boolean(m[2]);
  m = /^(.+?)\s*(==|!=|>=|<=|>|<)\s*(.+)$/.exec(s);
  if (m) {
    const a = literal(vars, m[1]) as number;
    const b = literal(vars, m[3]) as number;
    switch (m[2]) {
      case '==':
        return a === b;
      case '!=':
        return a !== b;
      case '>':
        return a > b;
      case '<':
        return a < b;
      case '>=':
        return a >= b;
      default:
        return a <= b;
    }
  }
  return Boolean(literal(vars, s));
}

export interface ContextOptions {
  host?: string;
  vars?: Record<string, unknown>;
  check?: boolean;
  diff?: boolean;
  /** name -> controller path, consulted first by findFile */
  files?: Record<string, string>;
  /** findFile also looks in baseDir/<kind>/name and baseDir/name */
  baseDir?: string;
  signal?: AbortSignal;
  now?: () => number;
}

export interface TestContext<R extends Probe> extends ModuleContext<R> {
  logs: string[];
}

export function makeContext<R extends Probe>(remote: R, o: ContextOptions = {}): TestContext<R> {
  const vars = o.vars ?? {};
  const logs: string[] = [];
  return {
    host: o.host ?? 'testhost',
    remote,
    vars,
    check: o.check ?? false,
    diff: o.diff ?? false,
    logs,
    async render(template, extra = {}) {
      const all = { ...vars, ...extra };
      return template.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_m, expr: string) => {
        const l = lookup(all, expr);
        if (!l.found) throw new Error(`undefined variable: ${expr}`);
        return typeof l.value === 'string' ? l.value : JSON.stringify(l.value);
      });
    },
    async evaluate(c) {
      return evalCondition(vars, c);
    },
    async evaluateExpression(expr) {
      return literal(vars, expr);
    },
    async findFile(name, kind) {
      if (o.files?.[name]) return o.files[name];
      const candidates = path.isAbsolute(name)
        ? [name]
        : o.baseDir
          ? [path.join(o.baseDir, kind, name), path.join(o.baseDir, name)]
          : [];
      for (const c of candidates) if (fs.existsSync(c)) return c;
      throw new Error(`could not find ${kind} file '${name}' (searched: ${candidates.join(', ') || 'nothing'})`);
    },
    async readVarsFile(p) {
      const v = parseYaml(fs.readFileSync(p, 'utf8')) as unknown;
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${p}: not a mapping`);
      return v as Record<string, unknown>;
    },
    log(_level, message) {
      logs.push(message);
    },
    signal: o.signal ?? new AbortController().signal,
    now: o.now ?? (() => Date.now()),
  };
}

// ---------------------------------------------------------------------------------------------
// Validation and the engine's pipeline

const registry = new ModuleRegistry();
// A schema lint, not validation: strictTypes makes a sloppy schema fail the module's tests
// instead of warning; a type list is deliberate (a `mode` is a string or a YAML number, and under
// the runtime's coerceTypes only a type list, not anyOf, keeps the number a number).
const lint = new Ajv({ useDefaults: true, allErrors: true, strictTypes: true, allowUnionTypes: true });
const linted = new WeakSet<TsplayModule>();

/** The engine's registry module of that name, checked to be the one the test holds. */
function engineModule(mod: TsplayModule): TsplayModule {
  if (registry.get(mod.name) !== mod) throw new Error(`${mod.name}: not the module registered under that name (modules/index.ts)`);
  if (!linted.has(mod)) {
    lint.compile(mod.schema);
    linted.add(mod);
  }
  return mod;
}

/** The engine's argument validation (ModuleRegistry: yes/no booleans, ajv's coercion and defaults). */
export function validateArgs(mod: TsplayModule, args: unknown): { valid: boolean; args: any; errors: string[] } {
  const r = registry.validate(engineModule(mod).name, (args ?? {}) as Record<string, unknown>);
  return { valid: r.problems.length === 0, args: r.args, errors: r.problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)) };
}

export interface RunResult {
  /** the arguments as validated and normalised by the registry */
  args: any;
  plan: Plan;
  /** what apply returned (undefined in check mode or when there was nothing to do) */
  result?: Record<string, unknown>;
  changed: boolean;
  /** the task's status and the result as `register` would store it, from the engine's runModule */
  status: ModuleOutcome['status'];
  registered: Record<string, unknown>;
  changes?: string[];
  diffs?: ModuleOutcome['diffs'];
}

/** Any Remote that can hand out its probe-only view (FakeRemote, LocalRemote, a wrapped real one). */
export type TestRemote = Remote & { probeOnly(): Probe };

/**
 * The engine's own pipeline (runner/executor/run-module.ts) over test contexts; both module
 * harnesses (this file's runModule, test/modules/ha/fake.ts's runTask) run modules through it.
 */
export function runPipeline(mod: TsplayModule, rawArgs: unknown, probe: ModuleContext<Probe>, apply: ModuleContext<Remote>): Promise<ModuleOutcome> {
  return runEngineModule(engineModule(mod), (rawArgs ?? {}) as Record<string, unknown>, { registry, contexts: async () => ({ probe, apply }) });
}

/** validate -> plan (probe view, whose mutating methods throw) -> apply unless check mode or nothing to do. */
export async function runModule(mod: TsplayModule, rawArgs: unknown, remote: TestRemote, o: ContextOptions = {}): Promise<RunResult> {
  const out = await runPipeline(mod, rawArgs, makeContext(remote.probeOnly(), o), makeContext<Remote>(remote, o));
  const { args, plan, applied, status, result, changes, diffs } = out;
  return { args, plan, result: applied, changed: status === 'changed', status, registered: result, changes, diffs };
}

export const tmpRoot = os.tmpdir();
