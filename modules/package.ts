/**
 * package: OS packages through apt (Debian family) or dnf/yum (RedHat), one query when nothing
 * is to do. Its documentation is the defineModule fields below (`tsplay doc package`).
 */

import { defineModule, ModuleFailure, sh, type Change } from '../runner/module-api';
import { APT_ENV, APT_OPTS, NAMES_SCHEMA, packageNames, planPackages, queryPackages, repoFlags, REPOS_SCHEMA as REPOS, type Manager } from './lib/packages';

// the tests (and older callers) import the query from here
export { queryScript } from './lib/packages';

export interface PackageArgs {
  name?: string | string[];
  names?: string | string[];
  state: 'present' | 'absent' | 'latest';
  update_cache: boolean;
  install_recommends?: boolean;
  default_release?: string;
  enablerepo?: string | string[];
  disablerepo?: string | string[];
  disable_gpg_check?: boolean;
}

/** The pass-through arguments and the managers that take them (Ansible hands them to the backend module). */
const ONLY: Record<string, Manager[]> = {
  install_recommends: ['apt'],
  default_release: ['apt'],
  enablerepo: ['dnf', 'yum'],
  disablerepo: ['dnf', 'yum'],
  disable_gpg_check: ['dnf', 'yum'],
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
      name: NAMES_SCHEMA,
      names: { ...NAMES_SCHEMA, description: 'same as name' },
      state: { type: 'string', enum: ['present', 'absent', 'latest'], default: 'present', description: 'present, absent, or latest (upgrade to the candidate)' },
      update_cache: { type: 'boolean', default: false, description: 'refresh the cache (apt-get update / dnf makecache) before installing or upgrading; with no names it only refreshes the cache (and always reports a change)' },
      install_recommends: { type: 'boolean', description: 'apt only: install the recommended packages too (default here: no, --no-install-recommends)' },
      default_release: { type: 'string', minLength: 1, pattern: '^[^-]', description: 'apt only: the release to install from (-t)' },
      enablerepo: { ...REPOS, description: 'dnf/yum only: repositories to enable for this task (--enablerepo)' },
      disablerepo: { ...REPOS, description: 'dnf/yum only: repositories to disable for this task (--disablerepo)' },
      disable_gpg_check: { type: 'boolean', description: 'dnf/yum only: do not check the packages\' signatures (--nogpgcheck)' },
    },
  },

  async plan(a, ctx) {
    const names = packageNames('package', a.name, a.names);
    if (!names.length && !a.update_cache) throw new ModuleFailure('package: give name (a package or a list), or update_cache: true');
    const facts = (ctx.vars.ansible_facts ?? {}) as Record<string, unknown>;
    const given = Object.keys(ONLY).filter((k) => (a as unknown as Record<string, unknown>)[k] !== undefined);
    const q = await queryPackages('package', ctx.remote, ctx.host, facts, names, {
      latest: a.state === 'latest',
      aptCacheOpts: a.default_release ? ['-o', `APT::Default-Release=${a.default_release}`] : undefined,
      rpmOpts: given.some((k) => ONLY[k].includes('dnf')) ? repoFlags(a) : undefined,
    });
    const mgr = q.manager;
    // an argument of another manager is a mistake to name, not to drop silently
    const foreign = given.filter((k) => !ONLY[k].includes(mgr));
    if (foreign.length) throw new ModuleFailure(`package: ${foreign.join(', ')} ${foreign.length > 1 ? 'are arguments' : 'is an argument'} of ${ONLY[foreign[0]].join('/')}, but ${ctx.host} uses ${mgr}`, { invalid_argument: foreign[0] });
    const apt = mgr === 'apt';
    const p = planPackages({
      mgr,
      names,
      state: a.state,
      pkgs: q.pkgs,
      aptOpts: a.default_release ? [...APT_OPTS, '-t', a.default_release] : APT_OPTS,
      installFlags: apt ? [a.install_recommends ? '--install-recommends' : '--no-install-recommends'] : repoFlags(a),
      removeFlags: apt ? [] : repoFlags(a),
    });
    const changes: Change[] = [];
    if (a.update_cache && (p.install.length || p.upgrade.length || !names.length)) {
      changes.push({ kind: 'exec', summary: 'update the package cache', command: apt ? sh`apt-get ${APT_OPTS} update` : sh`${mgr} ${['-q', 'makecache', ...repoFlags(a)]}`, opts: apt ? APT_ENV : undefined });
    }
    changes.push(...p.changes);
    const result = { installed: p.install, upgraded: p.upgrade, removed: p.remove, manager: mgr };
    return { changes, result, msg: ctx.check && p.would ? `would ${p.would}` : undefined };
  },
});
