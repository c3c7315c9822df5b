/**
 * pip: Python packages through Debian's pip (pip3, or a virtualenv's pip). What is installed is
 * read with `pip list --format=json` (`pip freeze` for an old pip), and requirements are judged
 * against it on the controller, so an unchanged task reaches no index. `tsplay doc pip`.
 */

import { defineModule, lastLines, ModuleFailure, sh, type Change, type ModuleContext, type Plan, type Probe, type Remote } from '../runner/module-api';
import { splitWords } from './command';

export interface PipArgs {
  name?: string | string[];
  version?: string;
  requirements?: string;
  virtualenv?: string;
  virtualenv_command: string;
  virtualenv_python?: string;
  virtualenv_site_packages: boolean;
  state: 'present' | 'absent' | 'latest' | 'forcereinstall';
  executable?: string;
  extra_args?: string | string[];
  chdir?: string;
  editable: boolean;
}

/** PEP 503: Foo_Bar, foo-bar and FOO.bar are one project. */
export function canonicalName(n: string): string {
  return n.toLowerCase().replace(/[-_.]+/g, '-');
}

/** `pip list --format=json` -> canonical name -> version. */
export function parsePipList(stdout: string): Map<string, string> {
  const list = JSON.parse(stdout) as Array<{ name: string; version: string }>;
  if (!Array.isArray(list)) throw new Error('not a list');
  return new Map(list.map((p) => [canonicalName(p.name), p.version]));
}

/** `pip freeze` lines `name==version` (editable and URL lines have no version to compare: skipped). */
export function parseFreeze(stdout: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of stdout.split('\n')) {
    const r = /^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$/.exec(l.trim());
    if (r) m.set(canonicalName(r[1]), r[2]);
  }
  return m;
}

function cmpVersion(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const c = !isNaN(nx) && !isNaN(ny) ? nx - ny : x < y ? -1 : x > y ? 1 : 0;
    if (c !== 0) return Math.sign(c);
  }
  return 0;
}

/** Whether `version` satisfies a PEP 440 specifier list (`>=1.2,<2`, `==1.*`, `~=1.4`). */
export function satisfies(version: string, spec: string): boolean {
  if (spec.trim() === '') return true;
  return spec.split(',').every((clause) => {
    const m = /^\s*(===|==|!=|~=|>=|<=|>|<)\s*(\S+)\s*$/.exec(clause);
    if (!m) throw new Error(`unsupported specifier ${clause}`);
    const [, op, want] = m;
    if ((op === '==' || op === '!=') && want.endsWith('.*')) {
      const prefix = want.slice(0, -2);
      const eq = version === prefix || version.startsWith(prefix + '.');
      return op === '==' ? eq : !eq;
    }
    const c = cmpVersion(version, want);
    switch (op) {
      case '===':
        return version === want;
      case '==':
        return c === 0;
      case '!=':
        return c !== 0;
      case '>=':
        return c >= 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '<':
        return c < 0;
      default: {
        // ~=1.4.2 means >=1.4.2 and ==1.4.*
        const parts = want.split('.');
        return c >= 0 && satisfies(version, `==${parts.slice(0, -1).join('.')}.*`);
      }
    }
  });
}

export interface Requirement {
  name: string;
  spec: string;
}

/** A requirement we can judge offline, or undefined (a URL, a path, a VCS link, an option line, markers). */
export function parseRequirement(s: string): Requirement | undefined {
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*((?:(?:===|==|!=|~=|>=|<=|>|<)\s*[A-Za-z0-9.*+!_-]+\s*,?\s*)*)$/.exec(s.trim());
  return m ? { name: canonicalName(m[1]), spec: m[3].replace(/,\s*$/, '') } : undefined;
}

/** Whether a requirement is met by the installed packages; undefined when it cannot be judged offline. */
function met(req: string, installed: Map<string, string>): boolean | undefined {
  const r = parseRequirement(req);
  if (!r) return undefined;
  const v = installed.get(r.name);
  if (v === undefined) return false;
  try {
    return satisfies(v, r.spec);
  } catch {
    return undefined;
  }
}

/** Requirement lines of a requirements file: comments and blanks dropped, continuation lines joined. */
export function requirementLines(text: string): string[] {
  return text
    .replace(/\\\n/g, '')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter((l) => l !== '');
}

async function installed(probe: Probe, pip: string[], cwd?: string): Promise<Map<string, string>> {
  const r = await probe.query(sh`${pip} list --format=json --disable-pip-version-check`, { cwd, env: { PIP_NO_INPUT: '1' } });
  if (r.rc === 127) throw new ModuleFailure(`${pip.join(' ')} not found on the host (Debian: apt install python3-pip)`, { rc: r.rc });
  if (r.rc === 0) {
    try {
      return parsePipList(r.stdout);
    } catch {
      // an old pip without --format=json prints columns: fall back to freeze
    }
  }
  const f = await probe.query(sh`${pip} freeze --all --disable-pip-version-check`, { cwd });
  if (f.rc !== 0) throw new ModuleFailure(`cannot list installed packages: ${lastLines(f.stderr || r.stderr, 3)}`, { rc: f.rc });
  return parseFreeze(f.stdout);
}

const REQ = '^[^-\\s][^\\n]*$';
/** The listing each plan started from, so apply can tell whether pip changed anything (latest, requirements). */
const listed = new WeakMap<Plan, { have: Map<string, string>; fresh: boolean }>();

export default defineModule<PipArgs>({
  name: 'pip',
  description: "Install, upgrade or remove Python packages with the host's pip (pip3) or a virtualenv's.",
  notes:
    'Only the pip of the host (Debian: python3-pip) or of a virtualenv is driven; nothing is installed on the controller. ' +
    'Installed packages are read with `pip list --format=json` (or `pip freeze`); name/version specifiers ' +
    '(==, >=, <, ~=, ==1.*, extras) and simple requirements files are judged offline, so an unchanged task makes no ' +
    'network request. Requirements it cannot judge (URLs, paths, options, markers), state=latest and forcereinstall ' +
    'always run pip; the task is changed only when the installed packages differ afterwards (check mode reports ' +
    'them as changes). extra_args is split into words (or given as a list) and each is one quoted argument.',
  schema: {
    type: 'object',
    properties: {
      name: { type: ['string', 'array'], pattern: REQ, items: { type: 'string', pattern: REQ }, description: 'Package(s), with optional specifiers (requests>=2.28). Never starting with "-".' },
      version: { type: 'string', pattern: '^[A-Za-z0-9.*+!_-]+$', description: 'The version of a single name (name==version).' },
      requirements: { type: 'string', minLength: 1, pattern: '^[^-\\n]', description: 'A requirements file on the host (relative to chdir).' },
      virtualenv: { type: 'string', pattern: '^/', description: 'A virtualenv directory (absolute): created when missing, its pip used.' },
      virtualenv_command: { type: 'string', minLength: 1, default: 'virtualenv', description: "The command creating it ('python3 -m venv', 'virtualenv'), split into words." },
      virtualenv_python: { type: 'string', pattern: '^[^-\\s][^\\s]*$', description: 'Python for virtualenv (-p); not with python -m venv.' },
      virtualenv_site_packages: { type: 'boolean', default: false, description: 'Create it with --system-site-packages.' },
      state: { type: 'string', enum: ['present', 'absent', 'latest', 'forcereinstall'], default: 'present', description: 'What to make true.' },
      executable: { type: 'string', pattern: '^[^-\\s][^\\s]*$', description: 'The pip to run (pip3, /usr/bin/pip3); not with virtualenv.' },
      extra_args: { type: ['string', 'array'], items: { type: 'string' }, description: 'More pip arguments (a string split like a shell would, or a list); e.g. --no-index --find-links=/srv/wheels.' },
      chdir: { type: 'string', pattern: '^/', description: 'Run pip in this directory.' },
      editable: { type: 'boolean', default: false, description: 'Install with -e (names are paths or VCS URLs then).' },
    },
    additionalProperties: false,
    anyOf: [{ required: ['name'] }, { required: ['requirements'] }],
    allOf: [{ not: { required: ['name', 'requirements'] } }, { not: { required: ['executable', 'virtualenv'] } }],
  },
  example: `- pip:
    name: [psycopg2-binary==2.9.9, "patroni[etcd3]>=3.2"]
    virtualenv: /opt/patroni
    virtualenv_command: python3 -m venv
- pip:
    requirements: /srv/app/requirements.txt
    extra_args: --no-index --find-links=/srv/wheels`,
  checkMode: 'Lists installed packages (pip list); reports the venv creation and the pip install/uninstall it would run.',
  returns: 'cmd, name, requirements, version, virtualenv, state.',
  async plan(args, ctx) {
    const names = args.name === undefined ? [] : [args.name].flat();
    if (args.version !== undefined && names.length !== 1) throw new ModuleFailure('version needs exactly one name', { version: args.version });
    const reqs = args.version !== undefined ? [`${names[0]}==${args.version}`] : names;
    const extra = args.extra_args === undefined ? [] : Array.isArray(args.extra_args) ? args.extra_args : splitWords(args.extra_args);
    const venv = args.virtualenv;
    const pip = venv !== undefined ? [`${venv}/bin/pip`] : [args.executable ?? 'pip3'];
    const changes: Change[] = [];
    let have = new Map<string, string>();
    let fresh = false;
    if (venv !== undefined && !(await ctx.remote.stat([`${venv}/bin/pip`], { follow: true }))[0].exists) {
      if (args.state === 'absent') return { changes: [], result: { name: names, virtualenv: venv, state: args.state } };
      const words = splitWords(args.virtualenv_command);
      const isVenvModule = words.includes('venv');
      const create = [...words, ...(args.virtualenv_site_packages ? ['--system-site-packages'] : []), ...(args.virtualenv_python && !isVenvModule ? ['-p', args.virtualenv_python] : []), venv];
      changes.push({ kind: 'exec', summary: `create virtualenv ${venv}`, command: sh`${create}`, opts: { cwd: args.chdir } });
      fresh = true;
    } else {
      have = await installed(ctx.remote, pip, args.chdir);
    }
    // pip's own options, then extra_args, then the targets (after `--` for names: never options)
    const pipCmd = (head: string[], targets: string[]): string => sh`${[...pip, ...head, '--disable-pip-version-check', ...extra, ...targets]}`;
    const opts = { cwd: args.chdir, env: { PIP_NO_INPUT: '1' } };
    const base = { cmd: '', name: names, requirements: args.requirements ?? null, version: args.version ?? null, virtualenv: venv ?? null, state: args.state };

    let lines = reqs;
    const fromFile = args.requirements !== undefined;
    if (args.requirements !== undefined) {
      const file = args.requirements.startsWith('/') || !args.chdir ? args.requirements : `${args.chdir}/${args.requirements}`;
      const data = await ctx.remote.readFile(file);
      if (data === null) throw new ModuleFailure(`requirements file ${file} not found on the host`, { requirements: file });
      lines = requirementLines(data.toString('utf8'));
    }
    const target = fromFile ? ['-r', args.requirements!] : reqs;
    let cmd: string | undefined;
    if (args.state === 'absent') {
      const present = lines.filter((l) => { const r = parseRequirement(l); return r === undefined || have.has(r.name); });
      if (present.length) cmd = pipCmd(['uninstall', '-y'], fromFile ? target : ['--', ...present.map((l) => parseRequirement(l)?.name ?? l)]);
    } else {
      const flags = args.state === 'latest' ? ['-U'] : args.state === 'forcereinstall' ? ['-U', '--force-reinstall'] : [];
      const todo = args.state === 'present' && !fresh ? lines.filter((l) => met(l, have) !== true) : lines;
      const words = fromFile ? target : args.editable ? todo.flatMap((t) => ['-e', t]) : ['--', ...todo];
      if (todo.length) cmd = pipCmd(['install', ...flags], words);
    }
    if (cmd) changes.push({ kind: 'exec', summary: `pip ${args.state === 'absent' ? 'uninstall' : 'install'} ${fromFile ? `-r ${args.requirements}` : lines.join(' ')}`, command: cmd, opts });
    const plan: Plan = { changes, result: { ...base, cmd: cmd ?? '' } };
    listed.set(plan, { have, fresh });
    return plan;
  },
  async apply(args, plan, ctx: ModuleContext<Remote>) {
    const out: Record<string, unknown> = {};
    for (const c of plan.changes) {
      if (c.kind !== 'exec') continue;
      const r = await ctx.remote.exec(c.command, c.opts);
      Object.assign(out, { stdout: r.stdout, stderr: r.stderr });
      if (r.rc !== 0) throw new ModuleFailure(`${c.summary}: failed with rc=${r.rc}: ${lastLines(r.stderr || r.stdout, 5)}`, { rc: r.rc, cmd: c.command, stdout: r.stdout, stderr: r.stderr });
    }
    const seen = listed.get(plan);
    if (seen && !seen.fresh) {
      const before = seen.have;
      // latest, forcereinstall and unjudged requirements run pip anyway: changed only if something moved
      const after = await installed(ctx.remote, args.virtualenv !== undefined ? [`${args.virtualenv}/bin/pip`] : [args.executable ?? 'pip3'], args.chdir);
      const same = after.size === before.size && [...after].every(([k, v]) => before.get(k) === v);
      if (same && args.state !== 'forcereinstall') out.changed = false;
    }
    return out;
  },
});
