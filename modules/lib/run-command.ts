/**
 * What `command` and `shell` share: the creates/removes guards (one round trip), the exec
 * change, and Ansible's result shape (rc, stdout, stderr, *_lines, cmd, start, end, delta).
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import {
  ModuleFailure,
  lastLines,
  pathArg,
  quote,
  sh,
  type ExecOptions,
  type ModuleContext,
  type Plan,
  type Probe,
  type Remote,
} from '../../runner/module-api';

export interface CommandArgs {
  chdir?: string;
  creates?: string;
  removes?: string;
  stdin?: string;
  stdin_add_newline?: boolean;
  strip_empty_ends?: boolean;
}

/** Schema properties common to command and shell. */
export const COMMON_COMMAND_SCHEMA = {
  chdir: { type: 'string', minLength: 1, description: 'Change into this directory on the host before running the command.' },
  creates: {
    type: 'string',
    minLength: 1,
    description: 'A path (glob allowed) on the host; when it already exists the command is not run. Relative to chdir.',
  },
  removes: {
    type: 'string',
    minLength: 1,
    description: 'A path (glob allowed) on the host; when it does NOT exist the command is not run. Relative to chdir.',
  },
  stdin: { type: 'string', description: "Data fed to the command's standard input (otherwise stdin is empty)." },
  stdin_add_newline: { type: 'boolean', default: true, description: 'Append a newline to the stdin data.' },
  strip_empty_ends: {
    type: 'boolean',
    default: true,
    description: 'Strip trailing newlines from stdout and stderr in the result.',
  },
} as const;

const GLOB = /[*?[]/;

function under(chdir: string | undefined, p: string): string {
  return chdir && !p.startsWith('/') ? `${chdir.replace(/\/+$/, '')}/${p}` : p;
}

/**
 * Does something match `pattern` on the host? Plain paths go through stat; globs through a
 * shell whose pattern is an UNQUOTED parameter expansion with IFS empty: that expands the
 * glob but never runs `$(...)` or backticks in the value.
 */
async function exists(remote: Probe, pattern: string): Promise<boolean> {
  if (!GLOB.test(pattern)) {
    const [st] = await remote.stat([pattern]);
    return st.exists;
  }
  const script = 'IFS=; for f in $1; do if [ -e "$f" ] || [ -L "$f" ]; then exit 0; fi; done; exit 1';
  const r = await remote.query(sh`sh -c ${script} sh ${pattern}`);
  return r.rc === 0;
}

/** The plan of a command: one exec change, unless `creates` exists or `removes` is missing. */
export async function planCommand(
  args: CommandArgs,
  ctx: ModuleContext<Probe>,
  command: string,
  display: string,
): Promise<Plan> {
  const guards: Array<[string, string]> = [];
  if (args.creates !== undefined) guards.push(['creates', under(args.chdir, args.creates)]);
  if (args.removes !== undefined) guards.push(['removes', under(args.chdir, args.removes)]);
  const plain = guards.filter(([, p]) => !GLOB.test(p));
  // one stat for every plain guard path: the no-change case costs one round trip
  const stats = plain.length ? await ctx.remote.stat(plain.map(([, p]) => p)) : [];
  for (const [kind, p] of guards) {
    const i = plain.findIndex(([k]) => k === kind);
    const there = i >= 0 ? stats[i].exists : await exists(ctx.remote, p);
    if (kind === 'creates' && there) {
      return { changes: [], skipped: true, msg: `skipped, since ${p} exists`, result: { cmd: display, rc: 0, stdout: '', stderr: '' } };
    }
    if (kind === 'removes' && !there) {
      return { changes: [], skipped: true, msg: `skipped, since ${p} does not exist`, result: { cmd: display, rc: 0, stdout: '', stderr: '' } };
    }
  }
  const opts: ExecOptions = {};
  // `cd -` is cd's "previous directory" and `cd -P` an option: a relative chdir gets ./ in front
  if (args.chdir !== undefined) opts.cwd = pathArg(args.chdir);
  if (args.stdin !== undefined) opts.stdin = args.stdin + ((args.stdin_add_newline ?? true) ? '\n' : '');
  return { changes: [{ kind: 'exec', summary: display, command, opts }] };
}

function strip(s: string, yes: boolean): string {
  return yes ? s.replace(/\n+$/, '') : s;
}

function lines(s: string): string[] {
  return s === '' ? [] : s.replace(/\n$/, '').split('\n');
}

/** Run the planned command; a non-zero rc fails the task with everything in the result. */
export async function applyCommand(args: CommandArgs, plan: Plan, ctx: ModuleContext<Remote>, display: string): Promise<Record<string, unknown>> {
  const c = plan.changes[0];
  if (!c || c.kind !== 'exec') return {};
  const start = new Date();
  const r = await ctx.remote.exec(c.command, c.opts);
  const end = new Date();
  const yes = args.strip_empty_ends ?? true;
  const stdout = strip(r.stdout, yes);
  const stderr = strip(r.stderr, yes);
  const result = {
    cmd: display,
    rc: r.rc,
    stdout,
    stderr,
    stdout_lines: lines(stdout),
    stderr_lines: lines(stderr),
    start: start.toISOString(),
    end: end.toISOString(),
    delta: `${((end.getTime() - start.getTime()) / 1000).toFixed(3)}s`,
  };
  if (r.rc !== 0) {
    // the command ran, so it changed something even though it failed (Ansible: changed: true)
    throw new ModuleFailure(`non-zero return code ${r.rc}${stderr ? `: ${lastLines(stderr, 5)}` : ''}`, { ...result, changed: true, msg: 'non-zero return code' });
  }
  return result;
}

/** How a command is shown: its words, quoted only where needed. */
export function displayArgv(argv: string[]): string {
  return argv.map((a) => quote(a)).join(' ');
}
