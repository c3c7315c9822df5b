/**
 * argv -> options -> run. The only top-level catch and the only process.exit in tsplay.
 *
 * The engine's parts (YAML, ajv, liquidjs, the executor, the vault) are imported by the command
 * that needs them, not here: `tsplay --version`, `--help` and usage errors then start without
 * loading them (about 0.2 s of CPU on a small machine), and `inventory` skips the executor.
 */

import { setMaxListeners } from 'events';
import fs from 'fs';
import { closest } from './did-you-mean';
import path from 'path';
import {
  EXIT,
  InterruptedError,
  MultiError,
  TsplayError,
  UsageError,
  ValidationError,
} from './errors';
import type { RunOptions } from './executor/types';
import type { SshDefaults } from './inventory/connection-vars';
import type { Inventory } from './inventory/index';
import type { TsplayModule } from './module-api';
import type { Playbook, TaskItem } from './loader/types';
import type { EventInput, RunEvent } from './output/events';
import { now } from './output/events';
import { BatchedStdout, colorWanted, err, isTty, out, promptSecret, readStdin } from './output/terminal';
import { accountNameProblem } from './names';
import { secrets } from './secrets';
import type { Vault } from './vault/index';
import type { YamlOptions } from './yaml';

import pkg from '../package.json';

const VERSION: string = pkg.version;

const MAIN_HELP = `tsplay ${VERSION}: agentless, SSH-based playbook runner (Ansible-compatible playbooks and inventories)

Usage:
  tsplay run PLAYBOOK -i INVENTORY [options]   run a playbook (see: tsplay run --help)
  tsplay inventory -i INVENTORY --list|--graph|--host NAME
  tsplay doc --list | tsplay doc MODULE        module documentation
  tsplay vault ACTION ...                      Ansible Vault 1.1 files (see: tsplay vault --help)
  tsplay --version | --help

Exit codes: 0 ok, 1 usage/input/internal error, 2 a host failed, 4 a host unreachable, 130 interrupted.
`;

const RUN_HELP = `Usage: tsplay run PLAYBOOK -i INVENTORY [options]

Inventory and hosts:
  -i, --inventory PATH       inventory file or directory, or a host list 'web1,web2,' (repeatable)
  -l, --limit PATTERN        further limit the hosts (Ansible host patterns)
      --list-hosts           print the hosts each play would run on, then exit
Mode:
  -C, --check                dry run: plan every task, change nothing
  -D, --diff                 show the changes (unified diffs for files)
      --syntax-check         validate the playbook, its roles, static module arguments, templates, expressions
                             and src files (as every run does first); report all errors
      --list-tasks           print the tasks each play would run, then exit
      --start-at-task NAME   start at the first task with this name
      --force-handlers       run notified handlers also on hosts that failed afterwards
                             (a play's force_handlers: keyword wins)
  -t, --tags TAGS            only tasks with these tags (comma-separated, repeatable)
      --skip-tags TAGS       skip tasks with these tags
  -e, --extra-vars VARS      k=v pairs, YAML/JSON, or @file (repeatable; highest precedence)
Execution:
  -f, --forks N              hosts in parallel (default 20)
  -c, --connection TYPE      ssh or local, for hosts whose inventory sets no ansible_connection
                             (the play's 'connection:' keyword wins over it)
  -u, --user USER            SSH user for hosts whose inventory sets no ansible_user
                             (the 'remote_user:' keyword wins over it)
      --timeout SECONDS      SSH connect timeout (default 10)
      --keepalive-interval S  seconds of silence before an SSH keepalive is sent (default 15; 0: off)
      --keepalive-count N    unanswered keepalives before the host is unreachable (default 3): a frozen
                             host is detected after about S x (N+1) seconds; host variables
                             tsplay_keepalive_interval / tsplay_keepalive_count (or -o ServerAliveInterval /
                             ServerAliveCountMax in ansible_ssh_common_args) win over these
      --host-key-checking P  strict | accept-new (default) | off
      --known-hosts FILE     known_hosts file (default ~/.ssh/known_hosts)
  -k, --ask-pass             ask for the SSH password
  -K, --ask-become-pass      ask for the become (sudo/su) password
Vault:
      --vault-password-file FILE   (repeatable; also TSPLAY_VAULT_PASSWORD_FILE)
      --ask-vault-pass
      --vault-id [LABEL@]SOURCE
Output:
  -v, -vv, -vvv              more detail (results, commands, connection)
      --format human|json    json: one event per line (documented in README)
  -h, --help
`;

const INVENTORY_HELP = `Usage: tsplay inventory -i INVENTORY (--list | --graph [GROUP] | --host NAME) [-e k=v] [--vault-password-file F]
Shows the inventory as tsplay reads it: --list as JSON (like ansible-inventory), --graph as a tree,
--host NAME the merged variables of one host.
`;

interface ParsedRun {
  playbook?: string;
  inventories: string[];
  /** -c: the connection type for hosts whose inventory does not set one */
  connection?: string;
  /** --force-handlers */
  forceHandlers?: boolean;
  /** -u: the remote user for hosts whose inventory does not set one */
  remoteUser?: string;
  check: boolean;
  diff: boolean;
  limit?: string;
  forks: number;
  tags: string[];
  skipTags: string[];
  extraVars: string[];
  verbosity: number;
  listHosts: boolean;
  listTasks: boolean;
  syntaxCheck: boolean;
  startAtTask?: string;
  format: 'human' | 'json';
  timeout: number;
  keepaliveInterval?: number;
  keepaliveCount?: number;
  hostKeyChecking?: 'strict' | 'accept-new' | 'off';
  knownHosts?: string;
  askPass: boolean;
  askBecomePass: boolean;
  vaultPasswordFiles: string[];
  vaultIds: string[];
  askVaultPass: boolean;
  help: boolean;
  // inventory command
  list: boolean;
  graph?: string | true;
  hostName?: string;
}

type OptSpec = { names: string[]; arg: boolean; set: (p: ParsedRun, v: string) => void };

const num = (flag: string, v: string, min: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${flag} expects a whole number >= ${min}, got '${v}'`);
  return n;
};

/** Where roles named NS.COLL.ROLE are found: Ansible's variables and default path. */
function collectionsPath(): string[] {
  // an empty variable counts as unset
  const env = process.env.TSPLAY_COLLECTIONS_PATH || process.env.ANSIBLE_COLLECTIONS_PATH || process.env.ANSIBLE_COLLECTIONS_PATHS;
  const home = process.env.HOME ?? '';
  return (env ?? `${home}/.ansible/collections:/usr/share/ansible/collections`).split(':').filter(Boolean);
}

/** A source that does not exist but has a comma is a host list (`-i web1,web2,`), as Ansible reads it. */
function checkInventories(sources: string[]): void {
  for (const inv of sources) if (!fs.existsSync(inv) && !inv.includes(',')) throw new UsageError(`inventory not found: ${inv}`);
}

const OPTIONS: OptSpec[] = [
  { names: ['-i', '--inventory', '--inventory-file'], arg: true, set: (p, v) => p.inventories.push(v) },
  { names: ['-C', '--check'], arg: false, set: (p) => (p.check = true) },
  { names: ['-D', '--diff'], arg: false, set: (p) => (p.diff = true) },
  { names: ['-l', '--limit'], arg: true, set: (p, v) => (p.limit = p.limit ? `${p.limit}:&${v}` : v) },
  { names: ['-c', '--connection'], arg: true, set: (p, v) => {
    if (v !== 'ssh' && v !== 'local' && v !== 'smart') throw new UsageError(`--connection expects ssh or local, got '${v}'`);
    p.connection = v === 'smart' ? 'ssh' : v;
  } },
  { names: ['--force-handlers'], arg: false, set: (p) => (p.forceHandlers = true) },
  { names: ['-u', '--user'], arg: true, set: (p, v) => {
    const problem = accountNameProblem(v);
    if (problem) throw new UsageError(`--user ${problem}`);
    p.remoteUser = v;
  } },
  { names: ['-f', '--forks'], arg: true, set: (p, v) => (p.forks = num('--forks', v, 1)) },
  { names: ['-t', '--tags'], arg: true, set: (p, v) => p.tags.push(...v.split(',').map((x) => x.trim()).filter(Boolean)) },
  { names: ['--skip-tags'], arg: true, set: (p, v) => p.skipTags.push(...v.split(',').map((x) => x.trim()).filter(Boolean)) },
  { names: ['-e', '--extra-vars'], arg: true, set: (p, v) => p.extraVars.push(v) },
  { names: ['--list-hosts'], arg: false, set: (p) => (p.listHosts = true) },
  { names: ['--list-tasks'], arg: false, set: (p) => (p.listTasks = true) },
  { names: ['--syntax-check'], arg: false, set: (p) => (p.syntaxCheck = true) },
  { names: ['--start-at-task'], arg: true, set: (p, v) => (p.startAtTask = v) },
  {
    names: ['--format'],
    arg: true,
    set: (p, v) => {
      if (v !== 'human' && v !== 'json') throw new UsageError(`--format expects human or json, got '${v}'`);
      p.format = v;
    },
  },
  { names: ['-T', '--timeout'], arg: true, set: (p, v) => (p.timeout = num('--timeout', v, 1)) },
  { names: ['--keepalive-interval'], arg: true, set: (p, v) => (p.keepaliveInterval = num('--keepalive-interval', v, 0)) },
  { names: ['--keepalive-count'], arg: true, set: (p, v) => (p.keepaliveCount = num('--keepalive-count', v, 1)) },
  {
    names: ['--host-key-checking'],
    arg: true,
    set: (p, v) => {
      if (!['strict', 'accept-new', 'off'].includes(v)) throw new UsageError(`--host-key-checking expects strict, accept-new or off, got '${v}'`);
      p.hostKeyChecking = v as ParsedRun['hostKeyChecking'];
    },
  },
  { names: ['--known-hosts'], arg: true, set: (p, v) => (p.knownHosts = v) },
  { names: ['-k', '--ask-pass'], arg: false, set: (p) => (p.askPass = true) },
  { names: ['-K', '--ask-become-pass'], arg: false, set: (p) => (p.askBecomePass = true) },
  { names: ['--vault-password-file', '--vault-pass-file'], arg: true, set: (p, v) => p.vaultPasswordFiles.push(v) },
  { names: ['--vault-id'], arg: true, set: (p, v) => p.vaultIds.push(v) },
  { names: ['-J', '--ask-vault-pass', '--ask-vault-password'], arg: false, set: (p) => (p.askVaultPass = true) },
  { names: ['-h', '--help'], arg: false, set: (p) => (p.help = true) },
  { names: ['--list'], arg: false, set: (p) => (p.list = true) },
  { names: ['--host'], arg: true, set: (p, v) => (p.hostName = v) },
];


export function parseArgs(argv: string[], command: string): ParsedRun {
  const p: ParsedRun = {
    inventories: [],
    check: false,
    diff: false,
    forks: 20,
    tags: [],
    skipTags: [],
    extraVars: [],
    verbosity: 0,
    listHosts: false,
    listTasks: false,
    syntaxCheck: false,
    format: 'human',
    timeout: 10,
    askPass: false,
    askBecomePass: false,
    vaultPasswordFiles: [],
    vaultIds: [],
    askVaultPass: false,
    help: false,
    list: false,
  };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    if (/^-v+$/.test(a)) {
      p.verbosity += a.length - 1;
      continue;
    }
    if (a === '--verbose') {
      p.verbosity++;
      continue;
    }
    if (command === 'inventory' && a === '--graph') {
      const next = argv[i + 1];
      p.graph = next && !next.startsWith('-') ? (i++, next) : true;
      continue;
    }
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    let inline: string | undefined;
    if (a.startsWith('--') && a.includes('=')) {
      inline = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    } else if (/^-[a-zA-Z]./.test(a) && !a.startsWith('--')) {
      // -ihosts / -efoo=bar short forms
      inline = a.slice(2);
      a = a.slice(0, 2);
    }
    const spec = OPTIONS.find((o) => o.names.includes(a));
    if (!spec) {
      const best = closest(a, OPTIONS.flatMap((o) => o.names).filter((n) => n.startsWith('--')));
      throw new UsageError(`unknown option '${a}'`, undefined, best ? `did you mean '${best.match}'? (see tsplay ${command} --help)` : `see tsplay ${command} --help`);
    }
    if (spec.arg) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`option ${a} needs a value`, undefined, `see tsplay ${command} --help`);
      spec.set(p, v);
    } else {
      if (inline !== undefined && a.startsWith('--')) throw new UsageError(`option ${a} takes no value`);
      spec.set(p, '');
      if (inline) {
        // combined short flags such as -CD or -vvv after another flag
        for (const ch of inline) {
          const s = OPTIONS.find((o) => o.names.includes(`-${ch}`) && !o.arg);
          if (ch === 'v') p.verbosity++;
          else if (s) s.set(p, '');
          else throw new UsageError(`unknown option '-${ch}' in '${argv[i]}'`);
        }
      }
    }
  }
  if (command === 'run') {
    if (positional.length > 1) throw new UsageError(`one playbook per run, got: ${positional.join(' ')}`);
    p.playbook = positional[0];
  } else if (positional.length) {
    throw new UsageError(`unexpected argument '${positional[0]}'`, undefined, `see tsplay ${command} --help`);
  }
  return p;
}

/** -e k=v k2=v2 | -e '{"a":1}' | -e @file.yml */
async function parseExtraVars(items: string[], yamlOpts: YamlOptions): Promise<Record<string, unknown>> {
  const { loadYamlFile, parseYaml } = await import('./yaml');
  const out: Record<string, unknown> = {};
  for (const item of items) {
    if (item.startsWith('@')) {
      const file = item.slice(1);
      const v = await loadYamlFile(file, yamlOpts);
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`-e @${file}: must contain a mapping of variables`);
      Object.assign(out, v);
    } else if (/^\s*[{[]/.test(item)) {
      const v = parseYaml(item, '-e', yamlOpts);
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`-e '${item}': must be a mapping`);
      Object.assign(out, v);
    } else {
      for (const m of item.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S*)/g)) {
        let v = m[2];
        if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
        out[m[1]] = v;
      }
      if (!/^\s*([A-Za-z_][A-Za-z0-9_]*=("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S*)\s*)+$/.test(item)) {
        throw new UsageError(`-e '${item}': expected k=v pairs, YAML/JSON, or @file`);
      }
    }
  }
  return out;
}

function walkTasks(items: TaskItem[], visit: (t: TaskItem, depth: number) => void, depth = 0): void {
  for (const t of items) {
    visit(t, depth);
    if (t.kind === 'block') {
      walkTasks(t.block, visit, depth + 1);
      walkTasks(t.rescue, visit, depth + 1);
      walkTasks(t.always, visit, depth + 1);
    }
  }
}

/** Host patterns of every play are checked before the first connection (the loader checks the rest). */
function crossCheck(pb: Playbook, inventory: Inventory): void {
  const errors: TsplayError[] = [];
  for (const play of pb.plays) {
    if (play.hosts.includes('{{')) continue;
    try {
      inventory.select(play.hosts, play.loc);
    } catch (e) {
      if (e instanceof TsplayError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length) throw new MultiError(errors);
}

function listTasks(pb: Playbook, inventory: Inventory, tags: string[]): string {
  const lines: string[] = [`playbook: ${pb.file}`];
  for (const play of pb.plays) {
    lines.push('', `  play #${pb.plays.indexOf(play) + 1} (${play.hosts}): ${play.name ?? play.hosts}\tTAGS: [${play.tags.join(', ')}]`, '    tasks:');
    for (const section of [play.preTasks, play.roleTasks, play.tasks, play.postTasks]) {
      walkTasks(section, (t) => {
        if (t.kind === 'block') return;
        if (tags.length && !tags.some((x) => t.effectiveTags.includes(x)) && !t.effectiveTags.includes('always')) return;
        const name = t.kind === 'task' ? t.name ?? t.module : t.kind === 'meta' ? `meta: ${t.action}` : `${t.kind}: ${t.target}`;
        lines.push(`      ${t.role ? `${t.role.name} : ` : ''}${name}\tTAGS: [${t.effectiveTags.join(', ')}]`);
      });
    }
  }
  void inventory;
  return lines.join('\n') + '\n';
}

async function makeVault(p: ParsedRun): Promise<Vault | undefined> {
  const { Vault } = await import('./vault/index');
  return Vault.fromOptions({ passwordFiles: p.vaultPasswordFiles, vaultIds: p.vaultIds, askPass: p.askVaultPass, env: process.env, prompt: (q) => promptSecret(q) });
}

/** What would fail mid-run in a template, expression or `src` file (runner/loader/static-check.ts). */
async function checkTemplates(pb: Playbook, loader: import('./loader/index').Loader, modules: import('./module-registry').ModuleRegistry): Promise<TsplayError[]> {
  const [{ staticCheck }, { Templar }] = await Promise.all([import('./loader/static-check'), import('./templating/index')]);
  return staticCheck(pb, { templar: new Templar(), loader, rawArgs: (m) => modules.get(m)?.rawArgs ?? [] });
}

async function cmdRun(argv: string[]): Promise<number> {
  const p = parseArgs(argv, 'run');
  if (p.help) {
    out(RUN_HELP);
    return EXIT.OK;
  }
  if (!p.playbook) throw new UsageError('missing PLAYBOOK', undefined, 'usage: tsplay run PLAYBOOK -i INVENTORY (see tsplay run --help)');
  const [{ Inventory }, { Loader }, { ModuleRegistry }, { loadYamlFile }] = await Promise.all([
    import('./inventory/index'),
    import('./loader/index'),
    import('./module-registry'),
    import('./yaml'),
  ]);
  const vault = await makeVault(p);
  const yamlOpts: YamlOptions = { decrypt: vault?.decryptFn };
  const extraVars = await parseExtraVars(p.extraVars, yamlOpts);
  checkInventories(p.inventories);
  const inventory = await Inventory.load(p.inventories, { decrypt: vault?.decryptFn });
  const modules = new ModuleRegistry();
  const rolesPath = (process.env.TSPLAY_ROLES_PATH ?? process.env.ANSIBLE_ROLES_PATH ?? '').split(':').filter(Boolean);
  const loader = new Loader({ modules, rolesPath, collectionsPath: collectionsPath(), decrypt: vault?.decryptFn });
  const playbookFile = path.resolve(p.playbook);
  const pb = await loader.loadPlaybook(playbookFile);
  await inventory.addVarsDir(path.dirname(playbookFile));
  crossCheck(pb, inventory);
  // templates, expressions and controller files too, before any connection (the list modes only show)
  const deferred = p.syntaxCheck || !(p.listTasks || p.listHosts) ? await checkTemplates(pb, loader, modules) : [];
  if (p.syntaxCheck) {
    // files of include_tasks / include_role: errors only if a run includes them, as in Ansible
    for (const w of [...(pb.deferred ?? []), ...deferred]) err(`[WARNING]: included file: ${w.describe()}\n`);
    out(`playbook: ${p.playbook}\nsyntax OK: ${pb.plays.length} play(s)\n`);
    return EXIT.OK;
  }
  if (p.listTasks) {
    out(listTasks(pb, inventory, p.tags));
    return EXIT.OK;
  }
  if (p.listHosts) {
    const limit = p.limit ? new Set(inventory.select(p.limit)) : undefined;
    const lines = [`playbook: ${p.playbook}`];
    for (const play of pb.plays) {
      const hosts = inventory.select(play.hosts, play.loc).filter((h) => !limit || limit.has(h));
      lines.push('', `  play #${pb.plays.indexOf(play) + 1} (${play.hosts}): ${play.name ?? play.hosts}`, `    pattern: ['${play.hosts}']`, `    hosts (${hosts.length}):`, ...hosts.map((h) => `      ${h}`));
    }
    out(lines.join('\n') + '\n');
    return EXIT.OK;
  }
  if (p.limit) inventory.select(p.limit);
  const connPassword = p.askPass ? await promptSecret('SSH password: ') : undefined;
  const becomePassword = p.askBecomePass ? await promptSecret('BECOME password: ') : undefined;
  if (connPassword) secrets.add(connPassword);
  if (becomePassword) secrets.add(becomePassword);

  const [{ PlaybookExecutor }, { HumanReporter, JsonReporter }, { Templar }] = await Promise.all([
    import('./executor/index'),
    import('./output/human'),
    import('./templating/index'),
  ]);
  const stdout = new BatchedStdout();
  const ac = new AbortController();
  // every running command listens for Ctrl-C on this signal (and stops listening when it ends):
  // with --forks 20 that is 20 listeners, not a leak
  setMaxListeners(0, ac.signal);
  let sigints = 0;
  const onSigint = () => {
    sigints++;
    if (sigints === 1) {
      err('\n[interrupted] stopping: no new tasks start, running commands get SIGINT, running writes finish (Ctrl-C again to quit at once)\n');
      ac.abort();
    } else {
      stdout.flush();
      process.exit(EXIT.INTERRUPTED);
    }
  };
  process.on('SIGINT', onSigint);

  const reporter =
    p.format === 'json'
      ? new JsonReporter(stdout.write)
      : new HumanReporter({ verbosity: p.verbosity, color: colorWanted(), live: isTty() && p.format === 'human', write: stdout.write });
  const emit = (e: EventInput) => reporter.handle({ ...e, time: now() } as RunEvent);
  // the keepalive defaults travel with the run options to where the connection spec is built
  const opts: RunOptions & SshDefaults = {
    check: p.check,
    diff: p.diff,
    forks: p.forks,
    limit: p.limit,
    tags: p.tags,
    skipTags: p.skipTags,
    extraVars,
    verbosity: p.verbosity,
    startAtTask: p.startAtTask,
    timeoutMs: p.timeout * 1000,
    keepaliveIntervalMs: p.keepaliveInterval === undefined ? undefined : p.keepaliveInterval * 1000,
    keepaliveCountMax: p.keepaliveCount,
    hostKeyChecking: p.hostKeyChecking,
    knownHostsFile: p.knownHosts,
    becomePassword,
    connPassword,
    connection: p.connection,
    remoteUser: p.remoteUser,
    forceHandlers: p.forceHandlers,
    signal: ac.signal,
    version: VERSION,
  };
  const templar = new Templar();
  const readVarsFile = async (file: string) => {
    const v = await loadYamlFile(file, yamlOpts);
    if (v === null) return {};
    // as Ansible's preprocess_vars: a mapping, or a list of mappings merged in order
    const isMap = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
    if (Array.isArray(v) && v.every(isMap)) return Object.assign({}, ...v) as Record<string, unknown>;
    if (!isMap(v)) throw new ValidationError('a vars file must contain a mapping of variables, or a list of mappings', { file });
    return v;
  };
  const executor = new PlaybookExecutor({ inventory, loader, templar, modules, emit, readVarsFile }, opts);
  try {
    const summary = await executor.run(pb);
    return summary.exitCode;
  } finally {
    reporter.close();
    stdout.flush();
    process.off('SIGINT', onSigint);
  }
}

async function cmdInventory(argv: string[]): Promise<number> {
  const p = parseArgs(argv, 'inventory');
  if (p.help) {
    out(INVENTORY_HELP);
    return EXIT.OK;
  }
  if (!p.inventories.length) throw new UsageError('missing -i INVENTORY', undefined, INVENTORY_HELP.split('\n')[0]);
  const modes = [p.list, p.graph !== undefined, p.hostName !== undefined].filter(Boolean).length;
  if (modes !== 1) throw new UsageError('give exactly one of --list, --graph, --host NAME');
  checkInventories(p.inventories);
  const { Inventory } = await import('./inventory/index');
  const vault = await makeVault(p);
  const inventory = await Inventory.load(p.inventories, { decrypt: vault?.decryptFn });
  if (p.list) out(JSON.stringify(inventory.toListJSON(), null, 4) + '\n');
  else if (p.graph !== undefined) out(inventory.graph(typeof p.graph === 'string' ? p.graph : undefined) + '\n');
  else {
    if (!inventory.hasHost(p.hostName!)) throw new UsageError(`host '${p.hostName}' is not in the inventory`);
    out(JSON.stringify(inventory.hostVars(p.hostName!), null, 4) + '\n');
  }
  return EXIT.OK;
}

function schemaType(s: Record<string, unknown>): string {
  if (s.enum) return (s.enum as unknown[]).join('|');
  if (Array.isArray(s.type)) return s.type.join('|');
  if (s.type === 'array' && s.items && typeof s.items === 'object') return `list of ${schemaType(s.items as Record<string, unknown>)}`;
  if (s.type) return String(s.type);
  if (s.oneOf || s.anyOf) return ((s.oneOf ?? s.anyOf) as Record<string, unknown>[]).map(schemaType).join('|');
  return 'any';
}

type DocSchema = { properties?: Record<string, DocSchema>; required?: string[]; items?: DocSchema; anyOf?: DocSchema[]; oneOf?: DocSchema[] } & Record<string, unknown>;

/** Sub-arguments of an argument: its own properties, its list items' or an alternative's. */
function subSchema(s: DocSchema): DocSchema | undefined {
  for (const c of [s, s.items, ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) if (c?.properties) return c;
  return undefined;
}

function argumentLines(schema: DocSchema, prefix: string, indent: string): string[] {
  const lines: string[] = [];
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    const req = schema.required?.includes(k) ? ' (required)' : '';
    const def = s.default !== undefined ? ` [default: ${JSON.stringify(s.default)}]` : '';
    lines.push(`${indent}${prefix}${k}${req}: ${schemaType(s)}${def}`);
    if (s.description) lines.push(`${indent}    ${String(s.description)}`);
    const sub = subSchema(s);
    if (sub) lines.push(...argumentLines(sub, `${prefix}${k}.`, indent + '  '));
  }
  return lines;
}

const indented = (text: string): string[] => text.trimEnd().split('\n').map((l) => (l ? `  ${l}` : ''));

/** What `tsplay doc MODULE` prints: the module's doc fields and its schema's descriptions. */
export function moduleDoc(m: TsplayModule): string {
  const lines = [`${m.name}: ${m.description}`];
  if (m.notes) lines.push('', ...indented(m.notes));
  lines.push('', 'ARGUMENTS', ...argumentLines(m.schema as DocSchema, '', '  '));
  if (m.freeForm) lines.push('', `Free form: \`${m.name}: VALUE\` sets ${m.freeForm}.`);
  lines.push('', 'CHECK MODE', ...indented(m.checkMode));
  if (m.returns) lines.push('', 'RESULT', ...indented(m.returns));
  lines.push('', 'EXAMPLE', ...indented(m.example));
  return lines.join('\n') + '\n';
}

async function cmdDoc(argv: string[]): Promise<number> {
  const { ModuleRegistry } = await import('./module-registry');
  const modules = new ModuleRegistry();
  if (argv.includes('-h') || argv.includes('--help') || argv.length === 0) {
    out('Usage: tsplay doc --list | tsplay doc MODULE\n');
    return argv.length === 0 ? EXIT.ERROR : EXIT.OK;
  }
  if (argv[0] === '--list' || argv[0] === '-l') {
    const all = modules.all();
    const w = Math.max(...all.map((m) => m.name.length)) + 2;
    out(all.map((m) => `${m.name.padEnd(w)}${m.description}`).join('\n') + '\n');
    return EXIT.OK;
  }
  const m = modules.get(argv[0]);
  if (!m) {
    const best = closest(argv[0], modules.names());
    throw new UsageError(`unknown module '${argv[0]}'`, undefined, best ? `did you mean '${best.match}'? (tsplay doc --list)` : 'tsplay doc --list shows every module');
  }
  out(moduleDoc(m));
  return EXIT.OK;
}

async function dispatch(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
      err(MAIN_HELP);
      return EXIT.ERROR;
    case '-h':
    case '--help':
    case 'help':
      out(MAIN_HELP);
      return EXIT.OK;
    case '--version':
    case '-V':
    case 'version':
      out(`tsplay ${VERSION}\n`);
      return EXIT.OK;
    case 'run':
    case 'playbook':
      return cmdRun(rest);
    case 'inventory':
      return cmdInventory(rest);
    case 'doc':
      return cmdDoc(rest);
    case 'vault':
      return (await import('./vault/index')).runVaultCommand(rest, {
        stdout: out,
        stderr: err,
        readStdin,
        prompt: (q, o) => (o?.silent === false ? promptSecret(q) : promptSecret(q)),
      }, process.env);
    default: {
      const known = ['run', 'inventory', 'doc', 'vault'];
      const best = closest(cmd, known);
      throw new UsageError(`unknown command '${cmd}'`, undefined, best ? `did you mean 'tsplay ${best.match}'?` : 'see tsplay --help');
    }
  }
}

/** -v/-vv/-vvv/--verbose as counted by parseArgs, for errors raised before (or by) parsing. */
function verbosityOf(argv: string[]): number {
  let v = 0;
  for (const a of argv) {
    if (a === '--') break;
    if (/^-v+$/.test(a)) v += a.length - 1;
    else if (a === '--verbose') v++;
  }
  return v;
}

export async function main(argv: string[]): Promise<void> {
  let code: number;
  try {
    code = await dispatch(argv);
  } catch (e) {
    if (e instanceof InterruptedError) code = EXIT.INTERRUPTED;
    else if (e instanceof TsplayError) {
      err(`ERROR: ${secrets.maskFragments(e.describe())}\n`);
      code = e.exitCode === EXIT.OK ? EXIT.ERROR : e.exitCode;
      if (e.exitCode === EXIT.HOST_FAILED || e.exitCode === EXIT.UNREACHABLE) code = EXIT.ERROR;
    } else {
      // a stack trace helps a developer, not an operator: shown at -vvv only
      const detail = verbosityOf(argv) >= 3 ? (e as Error)?.stack ?? String(e) : `${(e as Error)?.message ?? String(e)} (run with -vvv for the stack trace)`;
      err(`INTERNAL ERROR (a bug in tsplay; please report it): ${secrets.maskFragments(detail)}\n`);
      code = EXIT.ERROR;
    }
  }
  // let stdout drain before exiting (pipes)
  process.stdout.write('', () => process.exit(code));
}
