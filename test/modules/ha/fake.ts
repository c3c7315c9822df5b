/**
 * Test helpers for the HA modules: a scripted fake host, a real local host (/bin/sh + fs) for
 * running the generated scripts for real, a ModuleContext builder, and `validate`/`runTask`: the
 * engine's own argument validation (ModuleRegistry) and validate -> plan -> apply pipeline.
 */

import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { probeOnly } from '../../../runner/connection/remote';
import type { ModuleOutcome } from '../../../runner/executor/run-module';
import {
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
} from '../../../runner/module-api';
import { runPipeline, validateArgs } from '../../helpers/module-run';

export interface Call {
  kind: 'query' | 'exec' | 'readFile' | 'stat' | 'writeFile';
  cmd?: string;
  path?: string;
  paths?: string[];
  opts?: ExecOptions | WriteOptions;
  data?: string;
}

type Matcher = RegExp | string | ((cmd: string, opts?: ExecOptions) => boolean);
type Reply = Partial<ExecResult> | ((cmd: string, opts?: ExecOptions) => Partial<ExecResult>);

export const ok = (stdout = '', stderr = ''): ExecResult => ({ rc: 0, stdout, stderr });

function matches(m: Matcher, cmd: string, opts?: ExecOptions): boolean {
  if (typeof m === 'string') return cmd.includes(m);
  if (m instanceof RegExp) return m.test(cmd);
  return m(cmd, opts);
}

/** A scripted host: every command must match a rule, else the test fails with the command. */
export class FakeHost implements Remote {
  readonly calls: Call[] = [];
  readonly files = new Map<string, string>();
  private readonly rules: Array<{ m: Matcher; r: Reply; kinds: Array<'query' | 'exec'> }> = [];

  /** Answer queries (read-only commands) matching `m`. Later rules win. */
  onQuery(m: Matcher, r: Reply): this {
    this.rules.unshift({ m, r, kinds: ['query'] });
    return this;
  }

  /** Answer execs (mutations, from apply) matching `m`. Later rules win. */
  onExec(m: Matcher, r: Reply = {}): this {
    this.rules.unshift({ m, r, kinds: ['exec'] });
    return this;
  }

  private answer(kind: 'query' | 'exec', cmd: string, opts?: ExecOptions): ExecResult {
    this.calls.push({ kind, cmd, opts });
    const rule = this.rules.find((x) => x.kinds.includes(kind) && matches(x.m, cmd, opts));
    if (!rule) throw new Error(`FakeHost: unexpected ${kind}:\n${cmd}`);
    const r = typeof rule.r === 'function' ? rule.r(cmd, opts) : rule.r;
    return { rc: r.rc ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  }

  async query(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.answer('query', cmd, opts);
  }

  async exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.answer('exec', cmd, opts);
  }

  async readFile(p: string): Promise<Buffer | null> {
    this.calls.push({ kind: 'readFile', path: p });
    const c = this.files.get(p);
    return c === undefined ? null : Buffer.from(c);
  }

  async stat(paths: string[]): Promise<FileStat[]> {
    this.calls.push({ kind: 'stat', paths });
    return paths.map((p) => (this.files.has(p) ? { path: p, exists: true, type: 'file' as const } : { path: p, exists: false }));
  }

  async writeFile(p: string, data: Buffer | string, opts?: WriteOptions): Promise<WriteResult> {
    this.calls.push({ kind: 'writeFile', path: p, data: data.toString(), opts });
    this.files.set(p, data.toString());
    return {};
  }

  /** Commands of one kind, in order. */
  cmds(kind: 'query' | 'exec'): string[] {
    return this.calls.filter((c) => c.kind === kind).map((c) => c.cmd as string);
  }

  mutations(): Call[] {
    return this.calls.filter((c) => c.kind === 'exec' || c.kind === 'writeFile');
  }
}

/**
 * For check-mode tests: the same host, but any mutating call throws (and is remembered, in case
 * a module swallows the throw).
 */
export function readOnly(inner: Probe): Remote & { violations: string[] } {
  const violations: string[] = [];
  return {
    violations,
    query: (c, o) => inner.query(c, o),
    readFile: (p) => inner.readFile(p),
    stat: (p, o) => inner.stat(p, o),
    exec: async (c) => {
      violations.push(`exec: ${c}`);
      throw new Error(`mutating exec in check mode: ${c}`);
    },
    writeFile: async (p) => {
      violations.push(`writeFile: ${p}`);
      throw new Error(`mutating write in check mode: ${p}`);
    },
  };
}

/** A real host: this machine, commands through /bin/sh like a Connection does. */
export class LocalHost implements Remote {
  readonly calls: Call[] = [];

  run(kind: 'query' | 'exec', cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    this.calls.push({ kind, cmd, opts });
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', cmd], {
        // not the repository: a stray relative path in a script must not land in the work tree
        cwd: opts?.cwd ?? '/tmp',
        env: { ...process.env, ...(opts?.env ?? {}) },
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: opts?.timeoutMs,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({ rc: code ?? 255, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
      );
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts?.stdin ?? '');
    });
  }

  query(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.run('query', cmd, opts);
  }

  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.run('exec', cmd, opts);
  }

  async readFile(p: string): Promise<Buffer | null> {
    try {
      return await fs.promises.readFile(p);
    } catch {
      return null;
    }
  }

  async stat(paths: string[]): Promise<FileStat[]> {
    return Promise.all(
      paths.map(async (p) => {
        try {
          const s = await fs.promises.lstat(p);
          const type = s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'link' : 'other';
          return { path: p, exists: true, type, uid: s.uid, gid: s.gid, size: s.size, mode: (s.mode & 0o7777).toString(8).padStart(4, '0') } as FileStat;
        } catch {
          return { path: p, exists: false };
        }
      }),
    );
  }

  async writeFile(p: string, data: Buffer | string, opts?: WriteOptions): Promise<WriteResult> {
    const tmp = path.join(path.dirname(p), `.tsplay-test-${process.pid}`);
    await fs.promises.writeFile(tmp, data, { mode: opts?.mode ? parseInt(opts.mode, 8) : 0o644 });
    await fs.promises.rename(tmp, p);
    return {};
  }
}

export interface CtxOptions {
  host?: string;
  vars?: Record<string, unknown>;
  check?: boolean;
  diff?: boolean;
  now?: () => number;
}

export function makeCtx<R extends Probe>(remote: R, o: CtxOptions = {}): ModuleContext<R> {
  const unused = (what: string) => () => {
    throw new Error(`${what} is not used by the HA modules`);
  };
  return {
    host: o.host ?? 'db1',
    remote,
    vars: o.vars ?? {},
    check: o.check ?? false,
    diff: o.diff ?? true,
    render: unused('render'),
    evaluate: unused('evaluate'),
    findFile: unused('findFile'),
    evaluateExpression: unused('evaluateExpression'),
    readVarsFile: unused('readVarsFile'),
    log: () => undefined,
    signal: new AbortController().signal,
    now: o.now ?? (() => Date.now()),
  };
}

/** The engine's validation (ModuleRegistry: yes/no booleans, ajv's coercion and defaults as the runtime compiles them). */
export function validate<A>(mod: TsplayModule<A>, args: unknown): { valid: boolean; args: A; errors: string[] } {
  return validateArgs(mod, args);
}

/** Validated args (throws on invalid, so tests read simply). */
export function argsOf<A>(mod: TsplayModule<A>, args: unknown): A {
  const r = validate(mod, args);
  if (!r.valid) throw new Error(`invalid args for ${mod.name}: ${r.errors.join('; ')}`);
  return r.args;
}

export interface TaskRun {
  plan: Plan;
  changed: boolean;
  /** the result as `register` would store it */
  result: Record<string, unknown>;
  status: ModuleOutcome['status'];
}

/**
 * The engine's own validate -> plan (read-only probe) -> (no changes: ok | check: changed |
 * apply), through runPipeline (test/helpers/module-run.ts), with this file's contexts.
 */
export async function runTask<A>(mod: TsplayModule<A>, args: unknown, remote: Remote, o: CtxOptions = {}): Promise<TaskRun> {
  const out = await runPipeline(mod, args, makeCtx(probeOnly(remote), o), makeCtx<Remote>(remote, o));
  return { plan: out.plan, changed: out.status === 'changed', result: out.result, status: out.status };
}

/** Strings a test can push through arguments to prove quoting. */
export const HOSTILE = [`a b`, `it's`, `"dq"`, '$(touch /tmp/pwned)', '`id`', 'x\ny', 'semi;colon', '&& rm -rf /'];

/**
 * Stub tools that record their argv: run a generated command for real through /bin/sh with these
 * stubs first in PATH, then read back exactly which words each tool received. This proves a
 * hostile value arrived as one literal argument and nothing else ran.
 */
export class ArgvRecorder {
  readonly dir: string;
  private readonly log: string;

  /** `tools`: name -> shell body run after recording (default: exit 0). */
  constructor(tools: Record<string, string>) {
    this.dir = fs.mkdtempSync('/tmp/tsplay-stubs-');
    this.log = path.join(this.dir, 'log');
    fs.mkdirSync(this.log);
    for (const [name, body] of Object.entries(tools)) {
      const script = `#!/bin/sh\nf="${this.log}/$(date +%s%N)-$$"\nprintf '%s\\0' ${name} "$@" > "$f"\n${body || 'exit 0'}\n`;
      fs.writeFileSync(path.join(this.dir, name), script, { mode: 0o755 });
    }
  }

  run(cmd: string, opts?: ExecOptions): Promise<ExecResult> {
    return new LocalHost().run('exec', cmd, { ...opts, env: { ...(opts?.env ?? {}), PATH: `${this.dir}:${process.env.PATH}` } });
  }

  /** argv of every stub call, in order (argv[0] is the tool name). */
  records(): string[][] {
    return fs
      .readdirSync(this.log)
      .sort()
      .map((f) => fs.readFileSync(path.join(this.log, f), 'utf8').split('\0').slice(0, -1));
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
