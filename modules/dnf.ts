/**
 * dnf: RedHat-family packages with Ansible's dnf arguments, on the package module's query, name
 * rule and commands (modules/lib/packages.ts); yum is the same module for yum hosts.
 * Its documentation is the defineModule fields below (`tsplay doc dnf`).
 */

import { defineModule, ModuleFailure, sh, type Change, type TsplayModule } from '../runner/module-api';
import { NAMES_SCHEMA, packageNames, planPackages, queryPackages, repoFlags, REPOS_SCHEMA } from './lib/packages';

export interface RpmArgs {
  name?: string | string[];
  pkg?: string | string[];
  state: 'present' | 'installed' | 'latest' | 'absent' | 'removed';
  enablerepo?: string | string[];
  disablerepo?: string | string[];
  update_cache: boolean;
  disable_gpg_check: boolean;
}

/** The module for one manager: the same arguments and plan, only the program differs. */
export function rpmModule(mgr: 'dnf' | 'yum'): TsplayModule<RpmArgs> {
  return defineModule<RpmArgs>({
    name: mgr,
    description: `Install, upgrade or remove packages with ${mgr} (Ansible's ${mgr} arguments), one query`,
    notes: [
      `One query reads the installed state (rpm -q) and, for latest, the upgrades (${mgr} -C list --upgrades`,
      'with the task\'s repositories). Commands: `' + mgr + ' install -y FLAGS -- NAMES`, `upgrade`, `remove`, where',
      'FLAGS are --disablerepo=, --enablerepo= and --nogpgcheck. update_cache runs `' + mgr + ' -q makecache` first when',
      'something is to be installed or upgraded (alone, it is the change). Package names never start with "-".',
    ].join('\n'),
    returns: '{ installed: [...], upgraded: [...], removed: [...], manager }',
    example: [
      `- name: PostgreSQL from the PGDG repository`,
      `  ${mgr}:`,
      '    name: [postgresql15-server, patroni]',
      '    enablerepo: pgdg15',
      '    state: present',
    ].join('\n'),
    checkMode: 'Queries the installed packages and lists what would be installed, upgraded or removed; changes nothing.',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        name: NAMES_SCHEMA,
        pkg: { ...NAMES_SCHEMA, description: 'same as name' },
        state: { type: 'string', enum: ['present', 'installed', 'latest', 'absent', 'removed'], default: 'present', description: 'present/installed, latest (upgrade), absent/removed' },
        enablerepo: { ...REPOS_SCHEMA, description: 'repositories to enable for this task (list or comma-separated ids)' },
        disablerepo: { ...REPOS_SCHEMA, description: 'repositories to disable for this task ("*" for all)' },
        update_cache: { type: 'boolean', default: false, description: 'refresh the metadata (makecache) before installing or upgrading' },
        disable_gpg_check: { type: 'boolean', default: false, description: 'do not check the packages\' signatures (--nogpgcheck)' },
      },
    },

    async plan(a, ctx) {
      const names = packageNames(mgr, a.name, a.pkg);
      if (!names.length && !a.update_cache) throw new ModuleFailure(`${mgr}: give name (a package or a list), or update_cache: true`);
      const flags = repoFlags(a);
      const state = a.state === 'installed' ? 'present' : a.state === 'removed' ? 'absent' : a.state;
      const q = await queryPackages(mgr, ctx.remote, ctx.host, {}, names, { mgr, latest: state === 'latest', rpmOpts: flags });
      const p = planPackages({ mgr, names, state, pkgs: q.pkgs, installFlags: flags, removeFlags: flags });
      const changes: Change[] = [];
      if (a.update_cache && (p.install.length || p.upgrade.length || !names.length)) {
        changes.push({ kind: 'exec', summary: `update the ${mgr} metadata`, command: sh`${mgr} ${['-q', 'makecache', ...flags]}` });
      }
      changes.push(...p.changes);
      return { changes, result: { installed: p.install, upgraded: p.upgrade, removed: p.remove, manager: mgr }, msg: ctx.check && p.would ? `would ${p.would}` : undefined };
    },
  });
}

export default rpmModule('dnf');
