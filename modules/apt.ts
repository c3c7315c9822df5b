/**
 * apt: Debian packages with Ansible's apt arguments, for the roles operators already have. It
 * shares the package module's query, name rule and commands (modules/lib/packages.ts).
 * Its documentation is the defineModule fields below (`tsplay doc apt`).
 */

import { applyChanges, defineModule, ModuleFailure, pathArg, sh, type Change, type ModuleContext, type Plan, type Probe, type Remote } from '../runner/module-api';
import { APT_ENV, APT_LOCK, DEFAULT_DPKG_OPTIONS, dpkgOptions, dpkgState, NAMES_SCHEMA, packageNames, planPackages, queryPackages, type PackagePlan } from './lib/packages';

export interface AptArgs {
  name?: string | string[];
  pkg?: string | string[];
  package?: string | string[];
  state: 'present' | 'absent' | 'latest' | 'build-dep' | 'fixed';
  update_cache: boolean;
  cache_valid_time: number;
  install_recommends?: boolean;
  deb?: string;
  autoremove: boolean;
  autoclean: boolean;
  purge: boolean;
  default_release?: string;
  dpkg_options: string;
  force: boolean;
  allow_downgrade: boolean;
  only_upgrade: boolean;
  upgrade: boolean | 'no' | 'yes' | 'safe' | 'full' | 'dist';
}

/** What apply does with a change: the cache refresh comes first and the rest is planned again after it. */
type AptChange = Extract<Change, { kind: 'exec' }> & { op: 'update-cache' | 'work' };

const STAMP = '/var/lib/apt/periodic/update-success-stamp';
const LISTS = '/var/lib/apt/lists';
/** apt >= 1.1's spelling of the old --force-yes (which apt now warns about) */
const FORCE = ['--allow-unauthenticated', '--allow-downgrades', '--allow-remove-essential', '--allow-change-held-packages'];
/** one dpkg option: a word that `--` is put in front of (force-confnew, force-overwrite) */
const DPKG_OPTION = /^[A-Za-z0-9][A-Za-z0-9=._/-]*$/;

/** A simulation (`apt-get -s`) as one line of the query: what it would install, remove or delete, tagged. */
function simulate(tag: string, argv: string[]): string {
  return [
    sh`out=$(LC_ALL=C apt-get ${argv} 2>&1)`,
    `if [ $? = 0 ]; then printf '%s\\n' "$out" | awk '/^(Inst|Remv|Purg|Del) / { print "sim ${tag}", $0 }'`,
    `else printf 'simfail ${tag} %s\\n' "$(printf '%s\\n' "$out" | grep '^E:' | head -n 1)"; fi`,
  ].join('; ');
}

/** The deb's name and version and the installed state of that name, in the same query. */
function debQuery(deb: string): string {
  const d = pathArg(deb);
  return [
    sh`if d=$(dpkg-deb -f -- ${d} Package Version 2>&1); then n=$(printf '%s\\n' "$d" | sed -n 's/^Package: //p'); v=$(printf '%s\\n' "$d" | sed -n 's/^Version: //p')`,
    `s=$(dpkg-query -W -f '\${Status}\\t\${Version}' -- "$n" 2>/dev/null) || s=''; printf 'deb %s\\t%s\\t%s\\n' "$n" "$v" "$s"`,
    `else printf 'debfail %s\\n' "$(printf '%s\\n' "$d" | head -n 1)"; fi`,
  ].join('; ');
}

function upgradeMode(u: AptArgs['upgrade']): 'safe' | 'dist' | undefined {
  if (u === true || u === 'yes' || u === 'safe') return 'safe';
  if (u === 'full' || u === 'dist') return 'dist';
  return undefined;
}

interface AptPlan extends Plan {
  changes: AptChange[];
}

/** The plan; `refreshed`: the cache was just updated by this task (apply plans the rest again). */
async function planApt(a: AptArgs, ctx: ModuleContext<Probe>, refreshed: boolean): Promise<AptPlan> {
  let names = packageNames('apt', a.name, a.pkg, a.package);
  let upgrade = upgradeMode(a.upgrade);
  // `name: '*'` with latest is Ansible's "upgrade everything installed"
  if (names.includes('*') && a.state === 'latest') {
    if (names.length > 1) throw new ModuleFailure('apt: cannot install other packages while upgrading every installed one (name: "*")', { invalid_argument: 'name' });
    names = [];
    upgrade ??= 'safe';
  }
  if (a.deb !== undefined && a.state !== 'present') throw new ModuleFailure('apt: deb only supports state: present', { invalid_argument: 'deb' });
  const dpkg = a.dpkg_options.split(',').map((s) => s.trim()).filter(Boolean);
  const badOpt = dpkg.find((o) => !DPKG_OPTION.test(o));
  if (badOpt !== undefined) throw new ModuleFailure(`apt: dpkg_options: ${JSON.stringify(badOpt)} is not a dpkg option (such as force-confold)`, { invalid_argument: 'dpkg_options' });
  const cacheAsked = a.update_cache || a.cache_valid_time > 0;
  const work = names.length > 0 || a.deb !== undefined || upgrade !== undefined || a.autoremove || a.autoclean;
  if (!work && !cacheAsked) throw new ModuleFailure('apt: give name, deb, upgrade, autoremove, autoclean or update_cache');

  const release = a.default_release ? ['-t', a.default_release] : [];
  const aptOpts = [...APT_LOCK, ...dpkgOptions(dpkg.join(',')), ...release];
  const common = [...(a.force ? FORCE : a.allow_downgrade ? ['--allow-downgrades'] : [])];
  const recommends = a.install_recommends === undefined ? [] : [a.install_recommends ? '--install-recommends' : '--no-install-recommends'];
  const auto = a.autoremove ? ['--auto-remove'] : [];
  const installFlags = [...recommends, ...common, ...auto, ...(a.state === 'fixed' ? ['--fix-broken'] : []), ...(a.only_upgrade ? ['--only-upgrade'] : [])];
  const purge = a.purge ? ['--purge'] : [];

  const extra: string[] = [];
  if (cacheAsked) {
    // the stamp apt's periodic job and apt-get update leave, else the lists directory (as Ansible reads it), and the host's clock
    extra.push(sh`{ stat -c 'cache %Y' -- ${STAMP} || stat -c 'cache %Y' -- ${LISTS} || echo 'cache 0'; } 2>/dev/null; echo "now $(date +%s)"`);
  }
  if (a.deb !== undefined) extra.push(debQuery(a.deb));
  if (upgrade) extra.push(simulate('upgrade', [...aptOpts, '-s', ...recommends, ...common, ...auto, ...(upgrade === 'dist' ? ['dist-upgrade'] : ['upgrade', '--with-new-pkgs'])]));
  if (a.state === 'build-dep' && names.length) extra.push(simulate('build-dep', [...aptOpts, '-s', ...common, 'build-dep', '--', ...names]));
  if (!names.length && a.autoremove) extra.push(simulate('autoremove', [...aptOpts, '-s', ...purge, 'autoremove']));
  if (!names.length && a.autoclean) extra.push(simulate('autoclean', [...aptOpts, '-s', 'autoclean']));

  const facts = (ctx.vars.ansible_facts ?? {}) as Record<string, unknown>;
  const pkgNames = a.state === 'build-dep' ? [] : names;
  const q = await queryPackages('apt', ctx.remote, ctx.host, facts, pkgNames, {
    mgr: 'apt',
    latest: a.state === 'latest',
    aptCacheOpts: a.default_release ? ['-o', `APT::Default-Release=${a.default_release}`] : undefined,
    extra,
  });

  const sims = new Map<string, string[]>();
  let cacheTime: number | undefined;
  let now: number | undefined;
  let deb: { name: string; version: string; status: string; installed: string } | undefined;
  for (const line of q.other) {
    const [k, ...rest] = line.split(' ');
    const v = rest.join(' ');
    if (k === 'sim') sims.set(rest[0], [...(sims.get(rest[0]) ?? []), rest.slice(1).join(' ')]);
    else if (k === 'simfail') throw new ModuleFailure(`apt: ${rest[0]} would fail on ${ctx.host}: ${rest.slice(1).join(' ') || 'apt-get -s failed'}`);
    else if (k === 'cache') cacheTime = Number(v);
    else if (k === 'now') now = Number(v);
    else if (k === 'debfail') throw new ModuleFailure(`apt: deb ${a.deb}: cannot read it on ${ctx.host}: ${v}`, { invalid_argument: 'deb' });
    else if (k === 'deb') {
      const [name = '', version = '', status = '', installed = ''] = v.split('\t');
      deb = { name, version, status, installed };
    }
  }

  const changes: AptChange[] = [];
  const add = (summary: string, argv: string[], diff?: AptChange['diff']): void => {
    changes.push({ kind: 'exec', op: 'work', summary, command: sh`apt-get ${argv}`, opts: APT_ENV, diff });
  };
  const lines = (tag: string): string[] => sims.get(tag) ?? [];
  const simDiff = (tag: string): AptChange['diff'] => ({ path: `apt ${tag}`, before: '', after: lines(tag).join('\n') + '\n' });

  if (upgrade && lines('upgrade').length) add(`${upgrade === 'dist' ? 'dist-upgrade' : 'upgrade'} (${lines('upgrade').length} packages)`, [...aptOpts, '-y', ...recommends, ...common, ...auto, ...(upgrade === 'dist' ? ['dist-upgrade'] : ['upgrade', '--with-new-pkgs'])], simDiff('upgrade'));
  if (deb) {
    if (!deb.name) throw new ModuleFailure(`apt: deb ${a.deb} names no package (no Package field)`, { invalid_argument: 'deb' });
    const cur = dpkgState(deb.status, deb.installed);
    if (!cur.installed || cur.version !== deb.version) {
      add(`install ${deb.name} ${deb.version} from ${a.deb}`, [...aptOpts, 'install', '-y', ...installFlags, '--', pathArg(a.deb!)], {
        path: 'packages',
        before: cur.installed ? `${deb.name} ${cur.version}\n` : `${deb.name}: not installed\n`,
        after: `${deb.name} ${deb.version}\n`,
      });
    }
  }
  let done: PackagePlan = { changes: [], install: [], upgrade: [], remove: [], would: '' };
  if (a.state === 'build-dep') {
    if (lines('build-dep').length) add(`install the build dependencies of ${names.join(', ')}`, [...aptOpts, '-y', ...common, 'build-dep', '--', ...names], simDiff('build-dep'));
  } else if (names.length) {
    const state = a.state === 'absent' ? 'absent' : a.state === 'latest' ? 'latest' : 'present';
    const names2 = a.only_upgrade ? names.filter((n) => q.pkgs.get(n.split('=')[0])?.installed) : names;
    done = planPackages({ mgr: 'apt', names: names2, state, pkgs: q.pkgs, purge: a.purge, aptOpts, installFlags, removeFlags: [...purge, ...common, ...auto] });
    for (const c of done.changes) changes.push({ ...c, op: 'work' });
  } else {
    if (a.autoclean && lines('autoclean').length) add('autoclean the package cache', [...aptOpts, '-y', 'autoclean'], simDiff('autoclean'));
    if (a.autoremove && lines('autoremove').length) add(`autoremove ${lines('autoremove').length} packages`, [...aptOpts, '-y', ...purge, 'autoremove'], simDiff('autoremove'));
  }

  // Ansible's rule: refresh when the cache is older than cache_valid_time (0: always)
  const stale = cacheAsked && !refreshed && !(cacheTime !== undefined && now !== undefined && cacheTime > 0 && cacheTime + a.cache_valid_time >= now);
  // a dry run compares against the cache as it is (Ansible's check mode does not refresh it
  // either), so the refresh shows only in front of other changes; a real run refreshes and
  // plans again (apply), and the refresh alone is not a change when there is other work
  if (stale && (!ctx.check || !work || changes.length)) {
    changes.unshift({ kind: 'exec', op: 'update-cache', summary: 'update the apt cache', command: sh`apt-get ${[...APT_LOCK, 'update']}`, opts: APT_ENV });
  }
  const result: Record<string, unknown> = { installed: done.install, upgraded: done.upgrade, removed: done.remove, cache_updated: false, cache_update_time: cacheTime };
  if (deb) result.deb = { name: deb.name, version: deb.version };
  const would = [...changes.filter((c) => c.op === 'work').map((c) => c.summary)].join('; ');
  return { changes, result, msg: ctx.check && would ? `would ${would}` : undefined };
}

export default defineModule<AptArgs>({
  name: 'apt',
  description: 'Manage Debian packages with Ansible\'s apt arguments (cache, deb files, purge, autoremove, upgrade)',
  notes: [
    'One query reads everything: the installed state of every package (dpkg-query), the candidates',
    'for latest (apt-cache policy), the cache age (stat of /var/lib/apt/periodic/update-success-stamp,',
    'else /var/lib/apt/lists, against the host\'s clock), the deb file\'s name and version (dpkg-deb -f),',
    'and for build-dep, upgrade, autoremove and autoclean what apt-get -s would do; the task changes',
    'only when that is something.',
    'update_cache refreshes when the cache is older than cache_valid_time (0: every run), as Ansible',
    'does; with packages, the refresh alone is not a change, and the packages are compared again after it.',
    'Commands: `DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--OPT',
    '... install -y FLAGS -- NAMES`. force is apt\'s --allow-unauthenticated --allow-downgrades',
    '--allow-remove-essential --allow-change-held-packages (what --force-yes meant). A deb is installed',
    'with apt-get (so its dependencies come too). Package names never start with "-".',
  ].join('\n'),
  returns: '{ installed: [...], upgraded: [...], removed: [...], cache_updated, cache_update_time, deb: {name, version}, stdout, stderr }',
  example: [
    '- name: nginx, with a fresh cache',
    '  apt:',
    '    name: [nginx, ssl-cert]',
    '    update_cache: true',
    '    cache_valid_time: 3600',
    '    install_recommends: false',
    '- name: no more telnet, config files too',
    '  apt: { name: telnet, state: absent, purge: true, autoremove: true }',
  ].join('\n'),
  checkMode: 'Queries the packages, the cache age and apt-get -s; lists what would be installed, upgraded, removed or refreshed; changes nothing (the cache is not refreshed, as in Ansible).',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      name: NAMES_SCHEMA,
      pkg: { ...NAMES_SCHEMA, description: 'same as name' },
      package: { ...NAMES_SCHEMA, description: 'same as name' },
      state: { type: 'string', enum: ['present', 'absent', 'latest', 'build-dep', 'fixed'], default: 'present', description: 'present, absent, latest (upgrade to the candidate), build-dep (the build dependencies), fixed (install with --fix-broken)' },
      update_cache: { type: 'boolean', default: false, description: 'apt-get update first (when the cache is older than cache_valid_time)' },
      cache_valid_time: { type: 'integer', minimum: 0, default: 0, description: 'seconds the cache stays fresh; set, it implies update_cache' },
      install_recommends: { type: 'boolean', description: 'install recommended packages too (true) or not (false); unset: the host\'s apt default' },
      deb: { type: 'string', minLength: 1, description: 'path of a .deb file on the host to install (state present)' },
      autoremove: { type: 'boolean', default: false, description: 'remove the packages nothing needs any more (alone, or with the task\'s install/remove)' },
      autoclean: { type: 'boolean', default: false, description: 'delete the downloaded package files that can no longer be downloaded' },
      purge: { type: 'boolean', default: false, description: 'with absent (and autoremove): remove the configuration files too; a package with only its config files left counts as there' },
      default_release: { type: 'string', minLength: 1, pattern: '^[^-]', description: 'the release to install from (apt-get -t), also for latest\'s candidates' },
      dpkg_options: { type: 'string', default: DEFAULT_DPKG_OPTIONS, description: 'comma-separated dpkg options, each passed as -o Dpkg::Options::=--OPTION' },
      force: { type: 'boolean', default: false, description: 'allow unauthenticated packages, downgrades, removing essential and changing held packages' },
      allow_downgrade: { type: 'boolean', default: false, description: 'allow a pinned version (name=version) older than the installed one (--allow-downgrades)' },
      only_upgrade: { type: 'boolean', default: false, description: 'only upgrade packages that are installed; install none' },
      upgrade: {
        anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['no', 'yes', 'safe', 'full', 'dist'] }],
        default: 'no',
        description: 'upgrade the installed packages: yes/safe (apt-get upgrade --with-new-pkgs), dist/full (apt-get dist-upgrade), no',
      },
    },
  },

  plan(a, ctx) {
    return planApt(a, ctx, false);
  },

  async apply(a, plan, ctx: ModuleContext<Remote>) {
    let changes = plan.changes as AptChange[];
    if (changes.some((c) => typeof c.op !== 'string')) throw new Error('apt: a planned change carries no op; apply takes only plans made by apt.plan');
    let result: Record<string, unknown> = {};
    const refresh = changes[0]?.op === 'update-cache';
    if (refresh) {
      await applyChanges({ changes: [changes[0]] }, ctx);
      const again = await planApt(a, ctx, true);
      changes = again.changes;
      result = { ...again.result, cache_updated: true };
    }
    const applied = changes.length ? await applyChanges({ changes }, ctx) : {};
    const onlyCache = !(a.name || a.pkg || a.package || a.deb || upgradeMode(a.upgrade) || a.autoremove || a.autoclean);
    return { ...result, ...applied, changed: changes.length > 0 || (refresh && onlyCache), msg: undefined };
  },
});
