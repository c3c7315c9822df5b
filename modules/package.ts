/**
 * package: OS packages through apt (Debian family) or dnf/yum (RedHat), one query when nothing
 * is to do. Its documentation is the defineModule fields below (`tsplay doc package`).
 */

import { defineModule, lastLines, ModuleFailure, sh, type Change, type ExecOptions } from '../runner/module-api';

export interface PackageArgs {
  name?: string | string[];
  names?: string | string[];
  state: 'present' | 'absent' | 'latest';
  update_cache: boolean;
}

type Manager = 'apt' | 'dnf' | 'yum';

interface PkgState {
  installed: boolean;
  version?: string;
  candidate?: string;
  /** dnf: an upgrade is available */
  upgradable?: boolean;
}

const APT_ENV: ExecOptions = { env: { DEBIAN_FRONTEND: 'noninteractive' } };
const APT_OPTS = ['-o', 'DPkg::Lock::Timeout=120', '-o', 'Dpkg::Options::=--force-confdef', '-o', 'Dpkg::Options::=--force-confold'];

/** apt's `name=version` pin -> [name, version]. */
function splitPin(spec: string, mgr: Manager): [string, string | undefined] {
  if (mgr !== 'apt') return [spec, undefined];
  const i = spec.indexOf('=');
  return i > 0 ? [spec.slice(0, i), spec.slice(i + 1)] : [spec, undefined];
}

/** ONE query: manager detection (if the facts lack it) and the state of every package. */
export function queryScript(mgr: Manager | undefined, names: string[], latest: boolean): string {
  const lines: string[] = [];
  if (!mgr) {
    lines.push('for m in apt-get dnf yum; do if command -v $m >/dev/null 2>&1; then echo "mgr $m"; break; fi; done');
    lines.push('command -v apt-get >/dev/null 2>&1 && m=apt || { command -v dnf >/dev/null 2>&1 && m=dnf || m=yum; }');
  } else {
    lines.push(`m=${mgr}`);
  }
  if (!names.length) return lines.join('\n');
  // each package on its own line: "pkg NAME<TAB>STATUS<TAB>VERSION<TAB>CANDIDATE" (status "none": not installed)
  lines.push(
    `for p in ${names.map((n) => sh`${n}`).join(' ')}; do`,
    '  if [ "$m" = apt ]; then',
    `    s=$(dpkg-query -W -f '\${Status}\\t\${Version}' -- "$p" 2>/dev/null) || s=''`,
    latest ? `    c=$(LC_ALL=C apt-cache policy -- "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')` : "    c=''",
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
  if (latest) {
    // dnf/yum: which of them have an upgrade in the current metadata ("name.arch version repo")
    lines.push(`if [ "$m" != apt ]; then $m -q -C list --upgrades -- ${names.map((n) => sh`${n}`).join(' ')} 2>/dev/null | awk 'NF == 3 { sub(/\\.[^.]*$/, "", $1); print "upg", $1 }'; fi`);
  }
  return lines.join('\n');
}

function parse(stdout: string): { mgr?: string; pkgs: Map<string, PkgState> } {
  const pkgs = new Map<string, PkgState>();
  const upg = new Set<string>();
  let mgr: string | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('mgr ')) mgr = line.slice(4).trim();
    else if (line.startsWith('upg ')) upg.add(line.slice(4).trim());
    else if (line.startsWith('pkg ')) {
      const [name, status = '', version = '', candidate = ''] = line.slice(4).split('\t');
      // dpkg: "install ok installed" or "hold ok installed"; "deinstall ok config-files" is gone
      const installed = /^\S+ ok installed$/.test(status);
      pkgs.set(name, { installed, version: installed ? version : undefined, candidate: candidate && candidate !== '(none)' ? candidate : undefined });
    }
  }
  for (const [n, s] of pkgs) if (upg.has(n)) s.upgradable = true;
  return { mgr, pkgs };
}

function asList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
}

const NAME = { type: 'string', minLength: 1, pattern: '^[^-\\s]' };
const NAMES = {
  anyOf: [NAME, { type: 'array', items: NAME }],
  description: 'package name or list (apt: name=version pins a version)',
};

export default defineModule<PackageArgs>({
  name: 'package',
  description: 'Install, upgrade or remove packages (apt, dnf, yum), idempotent, one query',
  notes: [
    'The manager comes from the facts (`ansible_facts.pkg_mgr`: apt, dnf, yum), else from what the',
    'host has (`command -v apt-get dnf yum`, in the same query). ONE query reads the installed',
    'state of every package (dpkg-query / rpm -q), plus the candidate version for `latest`',
    '(apt-cache policy / dnf list --upgrades). The cache is refreshed only when something is to be',
    'installed, so a run with nothing to do stays unchanged; `latest` compares against the cache',
    'as it is.',
    'apt runs `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends` (existing',
    'config files kept, waiting up to 120 s for the dpkg lock); dnf/yum run `dnf install -y`,',
    '`dnf upgrade -y`, `dnf remove -y`.',
  ].join('\n'),
  returns: '{ installed: [...], upgraded: [...], removed: [...], manager }',
  example: [
    '- name: HA stack packages',
    '  package:',
    '    name: [patroni, etcd-server, etcd-client, haproxy]',
    '    state: present',
    '    update_cache: true',
  ].join('\n'),
  checkMode: 'Queries the installed packages and lists what would be installed, upgraded or removed; changes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: NAMES,
      names: { ...NAMES, description: 'same as name' },
      state: { type: 'string', enum: ['present', 'absent', 'latest'], default: 'present', description: 'present, absent, or latest (upgrade to the candidate)' },
      update_cache: { type: 'boolean', default: false, description: 'refresh the cache (apt-get update / dnf makecache) before installing or upgrading; with no names it only refreshes the cache (and always reports a change)' },
    },
  },

  async plan(a, ctx) {
    const names = [...asList(a.name), ...asList(a.names)];
    // the schema sees a comma-separated string whole; each name of it is checked here. Every
    // command also puts names after `--`, this only makes the error clear.
    const bad = names.find((n) => n.startsWith('-'));
    if (bad !== undefined) throw new ModuleFailure(`package: ${JSON.stringify(bad)} is not a package name (it starts with "-")`, { invalid_argument: 'name' });
    if (!names.length && !a.update_cache) throw new ModuleFailure('package: give name (a package or a list), or update_cache: true');
    const facts = (ctx.vars.ansible_facts ?? {}) as Record<string, unknown>;
    let mgr = (['apt', 'dnf', 'yum'] as const).find((m) => m === facts.pkg_mgr);
    const queryNames = names.map((n) => splitPin(n, mgr ?? 'apt')[0]);
    const r = await ctx.remote.query(queryScript(mgr, [...new Set(queryNames)], a.state === 'latest'));
    const parsed = parse(r.stdout);
    if (!mgr) {
      mgr = parsed.mgr === 'apt-get' ? 'apt' : parsed.mgr === 'dnf' ? 'dnf' : parsed.mgr === 'yum' ? 'yum' : undefined;
      if (!mgr) throw new ModuleFailure(`package: no apt-get, dnf or yum on ${ctx.host}`, { stderr: r.stderr });
    }
    if (r.rc !== 0) throw new ModuleFailure(`package: query failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}`, { rc: r.rc, stderr: r.stderr });

    const install: string[] = [];
    const upgrade: string[] = [];
    const remove: string[] = [];
    const lines: { before: string[]; after: string[] } = { before: [], after: [] };
    for (const spec of names) {
      const [n, pin] = splitPin(spec, mgr);
      const s = parsed.pkgs.get(n) ?? { installed: false };
      const cur = s.installed ? `${n} ${s.version}` : `${n}: not installed`;
      if (a.state === 'absent') {
        if (s.installed) {
          remove.push(n);
          lines.before.push(cur);
          lines.after.push(`${n}: not installed`);
        }
      } else if (!s.installed || (pin !== undefined && s.version !== pin)) {
        (s.installed ? upgrade : install).push(spec);
        lines.before.push(cur);
        lines.after.push(`${n} ${pin ?? s.candidate ?? '(candidate)'}`);
      } else if (a.state === 'latest' && (s.upgradable || (s.candidate !== undefined && s.candidate !== s.version))) {
        upgrade.push(spec);
        lines.before.push(cur);
        lines.after.push(`${n} ${s.candidate ?? '(newer)'}`);
      }
    }

    const changes: Change[] = [];
    const apt = mgr === 'apt';
    const opts = apt ? APT_ENV : undefined;
    const diff = lines.before.length ? { path: 'packages', before: lines.before.join('\n') + '\n', after: lines.after.join('\n') + '\n' } : undefined;
    if (a.update_cache && (install.length || upgrade.length || !names.length)) {
      changes.push({ kind: 'exec', summary: 'update the package cache', command: apt ? sh`apt-get ${APT_OPTS} update` : sh`${mgr} -q makecache`, opts });
    }
    if (install.length || upgrade.length) {
      const both = [...install, ...upgrade];
      const summary = [install.length ? `install ${install.join(', ')}` : '', upgrade.length ? `upgrade ${upgrade.join(', ')}` : ''].filter(Boolean).join('; ');
      if (apt) {
        changes.push({ kind: 'exec', summary, command: sh`apt-get ${APT_OPTS} install -y --no-install-recommends -- ${both}`, opts, diff });
      } else {
        if (install.length) changes.push({ kind: 'exec', summary: `install ${install.join(', ')}`, command: sh`${mgr} install -y -- ${install}`, diff });
        if (upgrade.length) changes.push({ kind: 'exec', summary: `upgrade ${upgrade.join(', ')}`, command: sh`${mgr} upgrade -y -- ${upgrade}`, diff: install.length ? undefined : diff });
      }
    }
    if (remove.length) {
      changes.push({
        kind: 'exec',
        summary: `remove ${remove.join(', ')}`,
        command: apt ? sh`apt-get ${APT_OPTS} remove -y -- ${remove}` : sh`${mgr} remove -y -- ${remove}`,
        opts,
        diff,
      });
    }
    const result = { installed: install, upgraded: upgrade, removed: remove, manager: mgr };
    const would = [install.length ? `install ${install.join(', ')}` : '', upgrade.length ? `upgrade ${upgrade.join(', ')}` : '', remove.length ? `remove ${remove.join(', ')}` : '']
      .filter(Boolean)
      .join('; ');
    return { changes, result, msg: ctx.check && would ? `would ${would}` : undefined };
  },
});
