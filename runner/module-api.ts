/**
 * The module contract: the only runner file that modules import.
 *
 * A module is planned against a read-only view of the host (`Probe`), then applied against a
 * `Remote`. Check mode is safe by construction: in check mode the engine never calls `apply`,
 * and the object handed to `plan` has no method that can change anything.
 *
 * The engine does the same for every module:
 *   validate args (ajv, module `schema`) -> plan -> no changes? ok
 *   : --check? changed + diff : apply -> register -> notify handlers
 */

import { ModuleFailure, TsplayError } from './errors';
import { pathArg, quote, raw, sh } from './shell-quote';

export { ModuleFailure, pathArg, quote, raw, sh, TsplayError };
export { ACCOUNT_ID_PATTERN, ACCOUNT_NAME_MAX, ACCOUNT_NAME_PATTERN, accountNameProblem } from './names';
/** strict UTF-8 decoding of a controller file's bytes: throws "not valid UTF-8 at byte N" naming the file and line */
export { decodeUtf8 } from './yaml';
import type { TemplateFileOptions } from './templating/template-file';
export type { TemplateFileOptions };

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** data for the command's stdin; without it stdin is /dev/null */
  stdin?: string | Buffer;
  /** working directory on the host */
  cwd?: string;
  /** extra environment variables for this command */
  env?: Record<string, string>;
  /** kill the command after this long (ms) and fail */
  timeoutMs?: number;
  /** abort the command (Ctrl-C): it is killed on the host and the call rejects */
  signal?: AbortSignal;
}

export interface FileStat {
  path: string;
  exists: boolean;
  type?: 'file' | 'directory' | 'link' | 'other';
  /** permission bits as a 4-digit octal string, e.g. "0644" */
  mode?: string;
  uid?: number;
  gid?: number;
  owner?: string;
  group?: string;
  size?: number;
  /** seconds since the epoch */
  mtime?: number;
  /** for links: what the link points to */
  linkTarget?: string;
  /** hex sha256 of the content, only for regular files and only when asked for */
  sha256?: string;
  /** hex SHA-1 (Ansible's `checksum`), only for regular files and only with `sha1` */
  sha1?: string;
}

export interface StatOptions {
  /** sha256 of regular files (what change detection compares) */
  checksum?: boolean;
  /** SHA-1 of regular files, Ansible's `checksum` (in the same round trip) */
  sha1?: boolean;
  follow?: boolean;
}

/** Read-only view of a host. Everything a module's `plan()` may do. */
export interface Probe {
  /** Run a command that changes nothing (e.g. `systemctl is-active x`, `dpkg-query ...`). */
  query(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /** The file's content, or null when it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  /** One entry per path, in order, in one round trip. Links are not followed unless `follow`. */
  stat(paths: string[], opts?: StatOptions): Promise<FileStat[]>;
}

export interface WriteOptions {
  /** octal string ("0644") */
  mode?: string;
  owner?: string;
  group?: string;
  /** keep the current file as `path.YYYYMMDD-HHMMSS` before replacing it */
  backup?: boolean;
  /**
   * Command run on the temp file before the rename; a non-zero exit leaves the target untouched.
   * It is split into words on the controller as a POSIX shell would (shlex: quotes, backslashes)
   * and run without a shell, as Ansible does: pipes, `$VAR`, globs and `;` are not interpreted,
   * and the first word is a program from PATH. Each `%s` is replaced by the temp file's path
   * inside its word, which stays one word whatever characters the path holds (`-f %s`,
   * `--config=%s`); without a `%s` the path is added as the last word.
   */
  validate?: string;
}

export interface WriteResult {
  backupFile?: string;
}

/** Read-write view of a host, handed only to `apply()`. */
export interface Remote extends Probe {
  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Atomic write: temp file in the same directory, fsync, owner/mode set, validate, backup,
   * rename over `path`. On any failure the target is untouched and the temp file removed.
   */
  writeFile(path: string, data: Buffer | string, opts?: WriteOptions): Promise<WriteResult>;
}

/** What a `--diff` shows for one change. */
export interface DiffText {
  /** shown as the file name in the diff header */
  path: string;
  before: string;
  after: string;
}

export type Change =
  | {
      kind: 'exec';
      /** one line for humans: "start nginx", "chown 12 entries under /opt/HA" */
      summary: string;
      command: string;
      opts?: ExecOptions;
      /** return codes that count as success; default [0] */
      okRc?: number[];
      /** optional state diff for --diff (e.g. "state: absent" -> "state: directory") */
      diff?: DiffText;
    }
  | {
      kind: 'write';
      summary?: string;
      path: string;
      /** current text content (null: file does not exist); shown in --diff */
      before: string | null;
      /** new text content; written unless `data` is given */
      after: string;
      /** exact bytes to write when they are not text */
      data?: Buffer;
      mode?: string;
      owner?: string;
      group?: string;
      backup?: boolean;
      validate?: string;
    };

export interface Plan {
  changes: Change[];
  /** facts to set on the host (set_fact, include_vars, setup) */
  facts?: Record<string, unknown>;
  /** extra keys for the registered result (stat results, offsets, ...) */
  result?: Record<string, unknown>;
  /** message shown with the result */
  msg?: string;
  /** the module decided there is nothing to do for a reason worth showing (e.g. `creates` exists) */
  skipped?: boolean;
  /** changed with nothing to apply on the host: a controller-side effect (add_host, group_by) */
  changed?: boolean;
}

export interface ModuleContext<R extends Probe = Probe> {
  /** inventory_hostname of the host the task runs for */
  host: string;
  remote: R;
  /** every variable visible to this task (facts, hostvars, groups, ...), read-only */
  vars: Readonly<Record<string, unknown>>;
  check: boolean;
  diff: boolean;
  /**
   * Render a template against the task's variables (+ extra vars); errors name `source`. With
   * `file` options, the text is the template file `source` (comments, `#jinja2:` header, include/
   * extends/import from the template search path: runner/templating/template-file.ts).
   */
  render(template: string, extraVars?: Record<string, unknown>, source?: string, file?: TemplateFileOptions): Promise<string>;
  /** Evaluate a `when`-style condition (string, bool, or list: all must hold). */
  evaluate(condition: unknown): Promise<boolean>;
  /**
   * Controller-side path of a role/playbook file: `kind` "templates" looks in the role's
   * templates/, then the playbook's templates/ and directory; "files" likewise; absolute paths
   * are taken as they are. Throws a clear error naming the searched places.
   */
  findFile(name: string, kind: 'templates' | 'files' | 'vars'): Promise<string>;
  /** Evaluate one expression (`result.stdout`, `groups['db'] | length`) to its value. */
  evaluateExpression(expression: string): Promise<unknown>;
  /** Load a YAML/JSON vars file on the controller (vault-aware); must be a mapping. */
  readVarsFile(path: string): Promise<Record<string, unknown>>;
  /** verbose output (shown with -v, -vv, -vvv) */
  log(level: 1 | 2 | 3, message: string): void;
  /** aborted on Ctrl-C: long waits (pause, wait_for, retries) should stop */
  signal: AbortSignal;
  /** controller clock in ms, for modules that compare clocks (ntp-check) */
  now(): number;
}

/** A JSON Schema object as ajv takes it. */
export type JsonSchema = Record<string, unknown>;

export interface TsplayModule<A = any> {
  /** same as the file name */
  name: string;
  // The module's documentation is these fields and the schema's `description`s, nowhere else:
  // `tsplay doc MODULE` prints them (runner/cli.ts) and test/modules/docs.test.ts checks them.
  /** one line for `tsplay doc --list` */
  description: string;
  /** more about what the module does (behaviour an operator relies on), for `tsplay doc` */
  notes?: string;
  /** JSON Schema of the arguments (ajv validates before plan; `default`s are applied); every property has a `description` */
  schema: JsonSchema;
  /** YAML tasks using the module, for `tsplay doc`; they must load as a playbook's tasks */
  example: string;
  /** what check mode does, for `tsplay doc` */
  checkMode: string;
  /** what the task registers (its result keys), for `tsplay doc` */
  returns?: string;
  /** argument names the engine must not template (conditions the module evaluates itself) */
  rawArgs?: string[];
  /** the free-form string form (`command: ls -l`) is put under this argument */
  freeForm?: string;
  /** argument names may be templates, rendered per host before plan (set_fact: `"{{ item }}": 1`) */
  templatedKeys?: boolean;
  /** runs on the controller; the engine gives it no connection (debug, set_fact, assert, ...) */
  local?: boolean;
  /** runs once per batch on its first host, not per host (Ansible's BYPASS_HOST_LOOP: add_host) */
  bypassHostLoop?: boolean;
  plan(args: A, ctx: ModuleContext<Probe>): Promise<Plan>;
  /** default: run the changes in order (`applyChanges`) */
  apply?(args: A, plan: Plan, ctx: ModuleContext<Remote>): Promise<Record<string, unknown> | void>;
}

/**
 * The default apply: runs each change in order. An exec whose rc is not in `okRc` fails the task
 * with rc/stdout/stderr in the result. Returns rc/stdout/stderr of the last exec.
 */
export async function applyChanges(plan: Plan, ctx: ModuleContext<Remote>): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const c of plan.changes) {
    if (c.kind === 'exec') {
      const r = await ctx.remote.exec(c.command, c.opts);
      const ok = c.okRc ?? [0];
      result.rc = r.rc;
      result.stdout = r.stdout;
      result.stderr = r.stderr;
      if (!ok.includes(r.rc)) {
        throw new ModuleFailure(`${c.summary}: failed with rc=${r.rc}${r.stderr ? `: ${lastLines(r.stderr, 5)}` : ''}`, {
          rc: r.rc,
          stdout: r.stdout,
          stderr: r.stderr,
          cmd: c.command,
        });
      }
    } else {
      const w = await ctx.remote.writeFile(c.path, c.data ?? c.after, {
        mode: c.mode,
        owner: c.owner,
        group: c.group,
        backup: c.backup,
        validate: c.validate,
      });
      if (w.backupFile) result.backup_file = w.backupFile;
    }
  }
  return result;
}

/** The last `n` non-empty lines of a text, for error messages. */
export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

/** Helper for modules: define a module with its types checked. */
export function defineModule<A>(m: TsplayModule<A>): TsplayModule<A> {
  return m;
}
