/**
 * What the package managers' modules share (package, apt, dnf, yum, package_facts): the one
 * read-only query of the installed state, the one package-name rule, and the one way from
 * "installed now" and "wanted" to install/upgrade/remove commands.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import { lastLines, ModuleFailure, sh, type Change, type ExecOptions, type Probe } from '../../runner/module-api';

export type Manager = 'apt' | 'dnf' | 'yum';

export interface PkgState {
  installed: boolean;
  version?: string;
  candidate?: string;
  /** dnf: an upgrade is available */
  upgradable?: boolean;
  /** dpkg: removed but its configuration files are kept ("deinstall ok config-files") */
  configFiles?: boolean;
}

export const APT_ENV: ExecOptions = { env: { DEBIAN_FRONTEND: 'noninteractive' } };
/** wait for the dpkg lock (another apt run, unattended-upgrades) instead of failing at once */
export const APT_LOCK = ['-o', 'DPkg::Lock::Timeout=120'];
/** Ansible's default dpkg_options: keep the existing config files, take the default answer */
export const DEFAULT_DPKG_OPTIONS = 'force-confdef,force-confold';

/** dpkg options ("force-confdef,force-confold") as apt-get words. */
export function dpkgOptions(list: string): string[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .flatMap((o) => ['-o', `Dpkg::Options::=--${o}`]);
}

/** apt-get's options before the subcommand, as the package module has always run it. */
export const APT_OPTS = [...APT_LOCK, ...dpkgOptions(DEFAULT_DPKG_OPTIONS)];

/** apt's `name=version` pin -> [name, version]. */
export function splitPin(spec: string, mgr: Manager): [string, string | undefined] {
  if (mgr !== 'apt') return [spec, undefined];
  const i = spec.indexOf('=');
  return i > 0 ? [spec.slice(0, i), spec.slice(i + 1)] : [spec, undefined];
}

export interface QueryOptions {
  /** read the candidate versions (apt-cache policy) / the available upgrades (dnf, yum) */
  latest?: boolean;
  /** words for apt-cache (`-o`, `APT::Default-Release=...`), quoted here */
  aptCacheOpts?: string[];
  /** words for dnf/yum (`--enablerepo=...`), quoted here */
  rpmOpts?: string[];
  /** more read-only lines for the same round trip (a module's own facts), built with sh */
  extra?: string[];
}

/** ONE query: manager detection (if the facts lack it) and the state of every package. */
export function queryScript(mgr: Manager | undefined, names: string[], latest: boolean | QueryOptions = false): string {
  const o: QueryOptions = typeof latest === 'boolean' ? { latest } : latest;
  const lines: string[] = [];
  if (!mgr) {
    lines.push('for m in apt-get dnf yum; do if command -v $m >/dev/null 2>&1; then echo "mgr $m"; break; fi; done');
    lines.push('command -v apt-get >/dev/null 2>&1 && m=apt || { command -v dnf >/dev/null 2>&1 && m=dnf || m=yum; }');
  } else {
    lines.push(`m=${mgr}`);
  }
  lines.push(...(o.extra ?? []));
  if (!names.length) return lines.join('\n');
  const words = names.map((n) => sh`${n}`).join(' ');
  const cacheOpts = o.aptCacheOpts?.length ? ` ${sh`${o.aptCacheOpts}`}` : '';
  const rpmOpts = o.rpmOpts?.length ? ` ${sh`${o.rpmOpts}`}` : '';
  // each package on its own line: "pkg NAME<TAB>STATUS<TAB>VERSION<TAB>CANDIDATE" (status "none": not installed)
  lines.push(
    `for p in ${words}; do`,
    '  if [ "$m" = apt ]; then',
    `    s=$(dpkg-query -W -f '\${Status}\\t\${Version}' -- "$p" 2>/dev/null) || s=''`,
    o.latest ? `    c=$(LC_ALL=C apt-cache${cacheOpts} policy -- "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')` : "    c=''",
    '  else',
    // rpm prints "package X is not installed" on stdout with rc 1; several lines when multi-installed
    `    s=$(rpm -q --qf 'install ok installed\\t%{VERSION}-%{RELEASE}\\n' -- "$p" 2>/dev/null) && s=$(printf '%s\\n' "$s" | head -n 1) || s=''`,
    "    c=''",
    '  fi',
    // keep four fields when there is no status: name, status, version, candidate
    `  [ -n "$s" ] || s="none$(printf '\\t')"`,
    `  printf 'pkg %s\\t%s\\t%s\\n' "$p" "$s" "$c"`,
    'done',
  );
  if (o.latest) {
    // dnf/yum: which of them have an upgrade in the current metadata ("name.arch version repo")
    lines.push(`if [ "$m" != apt ]; then $m -q -C${rpmOpts} list --upgrades -- ${words} 2>/dev/null | awk 'NF == 3 { sub(/\\.[^.]*$/, "", $1); print "upg", $1 }'; fi`);
  }
  return lines.join('\n');
}

export interface Parsed {
  mgr?: string;
  pkgs: Map<string, PkgState>;
  /** lines of the query that are not the packages' (a module's `extra`), in order */
  other: string[];
}

/** dpkg's status word triple -> installed / config files only. */
function dpkgStatus(status: string): { installed: boolean; configFiles: boolean } {
  // "install ok installed" or "hold ok installed"; "deinstall ok config-files" is removed
  return { installed: /^\S+ ok installed$/.test(status), configFiles: /^\S+ ok config-files$/.test(status) };
}

export function parseQuery(stdout: string): Parsed {
  const pkgs = new Map<string, PkgState>();
  const upg = new Set<string>();
  const other: string[] = [];
  let mgr: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('mgr ')) mgr = line.slice(4).trim();
    else if (line.startsWith('upg ')) upg.add(line.slice(4).trim());
    else if (line.startsWith('pkg ')) {
      const [name, status = '', version = '', candidate = ''] = line.slice(4).split('\t');
      const { installed, configFiles } = dpkgStatus(status);
      pkgs.set(name, { installed, configFiles, version: installed ? version : undefined, candidate: candidate && candidate !== '(none)' ? candidate : undefined });
    } else if (line) other.push(line);
  }
  for (const [n, s] of pkgs) if (upg.has(n)) s.upgradable = true;
  return { mgr, pkgs, other };
}

/** The state of one dpkg package from a `Status<TAB>Version` pair (apt's deb check). */
export function dpkgState(status: string, version: string): PkgState {
  const { installed, configFiles } = dpkgStatus(status);
  return { installed, configFiles, version: installed ? version : undefined };
}

/** JSON Schema of one package name: never an option (`-o...`), never blank-led. */
export const NAME_SCHEMA = { type: 'string', minLength: 1, pattern: '^[^-\\s]' };
export const NAMES_SCHEMA = {
  anyOf: [NAME_SCHEMA, { type: 'array', items: NAME_SCHEMA }],
  description: 'package name or list (apt: name=version pins a version)',
};

/**
 * The package names of the arguments, each checked. The schema sees a comma-separated string
 * whole; each name of it is checked here. Every command also puts names after `--`: this makes
 * the error clear and keeps it before the first command.
 */
export function packageNames(module: string, ...values: Array<string | string[] | undefined>): string[] {
  const names = values.flatMap((v) => (v === undefined ? [] : (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean)));
  const bad = names.find((n) => n.startsWith('-'));
  if (bad !== undefined) throw new ModuleFailure(`${module}: ${JSON.stringify(bad)} is not a package name (it starts with "-")`, { invalid_argument: 'name' });
  return names;
}

/** Run the query; the manager from the facts, else what the query found on the host. */
export async function queryPackages(module: string, probe: Probe, host: string, facts: Record<string, unknown>, names: string[], o: QueryOptions & { mgr?: Manager } = {}): Promise<Parsed & { manager: Manager }> {
  let mgr = o.mgr ?? (['apt', 'dnf', 'yum'] as const).find((m) => m === facts.pkg_mgr);
  const queryNames = [...new Set(names.map((n) => splitPin(n, mgr ?? 'apt')[0]))];
  const r = await probe.query(queryScript(mgr, queryNames, o));
  const parsed = parseQuery(r.stdout);
  if (!mgr) {
    mgr = parsed.mgr === 'apt-get' ? 'apt' : parsed.mgr === 'dnf' ? 'dnf' : parsed.mgr === 'yum' ? 'yum' : undefined;
    if (!mgr) throw new ModuleFailure(`${module}: no apt-get, dnf or yum on ${host}`, { stderr: r.stderr });
  }
  if (r.rc !== 0) throw new ModuleFailure(`${module}: query failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}`, { rc: r.rc, stderr: r.stderr });
  return { ...parsed, manager: mgr };
}

export interface Wanted {
  mgr: Manager;
  /** package specs as given (apt: name=version) */
  names: string[];
  state: 'present' | 'absent' | 'latest';
  pkgs: Map<string, PkgState>;
  /** absent: packages whose config files remain count as there (apt purge) */
  purge?: boolean;
  /** apt-get's words before the subcommand (lock, dpkg options, -t release); quoted here, like every word below */
  aptOpts?: string[];
  /** words after `install -y` / `remove -y` (apt) or after `install -y` etc. (dnf/yum) */
  installFlags?: string[];
  removeFlags?: string[];
}

export interface PackagePlan {
  changes: Array<Extract<Change, { kind: 'exec' }>>;
  install: string[];
  upgrade: string[];
  remove: string[];
  /** "install x; remove y" for check mode's message */
  would: string;
}

/** The commands that take the packages from what is installed to what is wanted. */
export function planPackages(w: Wanted): PackagePlan {
  const install: string[] = [];
  const upgrade: string[] = [];
  const remove: string[] = [];
  const before: string[] = [];
  const after: string[] = [];
  for (const spec of w.names) {
    const [n, pin] = splitPin(spec, w.mgr);
    const s = w.pkgs.get(n) ?? { installed: false };
    const cur = s.installed ? `${n} ${s.version}` : s.configFiles && w.purge ? `${n}: config files only` : `${n}: not installed`;
    if (w.state === 'absent') {
      if (s.installed || (w.purge && s.configFiles)) {
        remove.push(n);
        before.push(cur);
        after.push(`${n}: not installed`);
      }
    } else if (!s.installed || (pin !== undefined && s.version !== pin)) {
      (s.installed ? upgrade : install).push(spec);
      before.push(cur);
      after.push(`${n} ${pin ?? s.candidate ?? '(candidate)'}`);
    } else if (w.state === 'latest' && (s.upgradable || (s.candidate !== undefined && s.candidate !== s.version))) {
      upgrade.push(spec);
      before.push(cur);
      after.push(`${n} ${s.candidate ?? '(newer)'}`);
    }
  }

  const changes: PackagePlan['changes'] = [];
  const apt = w.mgr === 'apt';
  const opts = apt ? APT_ENV : undefined;
  const aptOpts = w.aptOpts ?? APT_OPTS;
  const inst = w.installFlags ?? [];
  const rm = w.removeFlags ?? [];
  const diff = before.length ? { path: 'packages', before: before.join('\n') + '\n', after: after.join('\n') + '\n' } : undefined;
  if (install.length || upgrade.length) {
    if (apt) {
      const summary = [install.length ? `install ${install.join(', ')}` : '', upgrade.length ? `upgrade ${upgrade.join(', ')}` : ''].filter(Boolean).join('; ');
      changes.push({ kind: 'exec', summary, command: sh`apt-get ${[...aptOpts, 'install', '-y', ...inst, '--', ...install, ...upgrade]}`, opts, diff });
    } else {
      if (install.length) changes.push({ kind: 'exec', summary: `install ${install.join(', ')}`, command: sh`${w.mgr} ${['install', '-y', ...inst, '--', ...install]}`, diff });
      if (upgrade.length) changes.push({ kind: 'exec', summary: `upgrade ${upgrade.join(', ')}`, command: sh`${w.mgr} ${['upgrade', '-y', ...inst, '--', ...upgrade]}`, diff: install.length ? undefined : diff });
    }
  }
  if (remove.length) {
    const command = apt ? sh`apt-get ${[...aptOpts, 'remove', '-y', ...rm, '--', ...remove]}` : sh`${w.mgr} ${['remove', '-y', ...rm, '--', ...remove]}`;
    changes.push({ kind: 'exec', summary: `remove ${remove.join(', ')}`, command, opts, diff });
  }
  const would = [install.length ? `install ${install.join(', ')}` : '', upgrade.length ? `upgrade ${upgrade.join(', ')}` : '', remove.length ? `remove ${remove.join(', ')}` : '']
    .filter(Boolean)
    .join('; ');
  return { changes, install, upgrade, remove, would };
}

/** dnf/yum's repository words: `--enablerepo=a,b` as one word each. */
export function repoFlags(a: { enablerepo?: string | string[]; disablerepo?: string | string[]; disable_gpg_check?: boolean }): string[] {
  const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : v.split(',')).map((x) => x.trim()).filter(Boolean));
  const out: string[] = [];
  // a repo id is a word of the command: one starting with "-" would be an option
  for (const [k, v] of [['disablerepo', list(a.disablerepo)], ['enablerepo', list(a.enablerepo)]] as const) {
    const bad = v.find((r) => !/^[A-Za-z0-9_.:*?[\]-]+$/.test(r) || r.startsWith('-'));
    if (bad !== undefined) throw new ModuleFailure(`${k}: ${JSON.stringify(bad)} is not a repository id`, { invalid_argument: k });
    if (v.length) out.push(`--${k}=${v.join(',')}`);
  }
  if (a.disable_gpg_check) out.push('--nogpgcheck');
  return out;
}

export const REPOS_SCHEMA = { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }] };
