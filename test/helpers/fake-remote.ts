/**
 * Test doubles for modules (one import for a module test):
 *  - FakeRemote (here): an in-memory host (files, directories, links with owner/group/mode), a
 *    scripted `query`/`exec` handler programmed per test, and a record of every command and write.
 *  - LocalRemote (local-remote.ts): a real Remote on this machine, so the commands modules build
 *    are proven against a real shell, not only compared as strings.
 *  - probeOnly() (probe-view.ts): the view a module's plan() gets; its mutating methods THROW.
 *  - makeContext()/runModule()/validateArgs() (module-run.ts): test contexts, run through the
 *    engine's own pipeline and argument validation.
 */

import { createHash } from 'crypto';
import * as path from 'path';
import type { ExecOptions, ExecResult, FileStat, Probe, Remote, WriteOptions, WriteResult } from '../../runner/module-api';
import { splitWords } from '../../modules/command';
import { probeOnly, sha256, type Call, type WriteRecord } from './probe-view';

export { LocalRemote, makeTempDir, snapshotTree, tmpRoot } from './local-remote';
export { evalCondition, makeContext, runModule, runPipeline, validateArgs, type ContextOptions, type RunResult, type TestContext } from './module-run';
export { MutationInCheckMode, probeOnly, type Call, type TestRemote, type WriteRecord } from './probe-view';

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

const USERS: Record<string, number> = { root: 0, daemon: 1, nobody: 65534, app: 1000, 'odd user': 1001 };
const GROUPS: Record<string, number> = { root: 0, daemon: 1, nogroup: 65534, app: 1000, 'odd group': 1001 };

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
      if (e.type === 'file' && opts.sha1) st.sha1 = createHash('sha1').update(e.content).digest('hex');
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
