/**
 * The module registry: the only way the runner sees modules. Each module lives in its own file
 * named as the module (Ansible's names, underscores included, so playbooks read the same).
 */

import type { TsplayModule } from '../runner/module-api';

// Engine modules
import command from './command';
import shell from './shell';
import copy from './copy';
import file from './file';
import template from './template';
import lineinfile from './lineinfile';
import stat from './stat';
import debug from './debug';
import assert from './assert';
import fail from './fail';
import set_fact from './set_fact';
import include_vars from './include_vars';
import pause from './pause';
import wait_for from './wait_for';
import ping from './ping';
import setup from './setup';
import add_host from './add_host';
import group_by from './group_by';

// File transfer modules (issue 13)
import blockinfile from './blockinfile';
import fetch from './fetch';
import get_url from './get_url';
import replace from './replace';
import slurp from './slurp';

// HA modules (issue 4)
import apt from './apt';
import archive from './archive';
import dnf from './dnf';
import fileOwner from './file-owner';
import group from './group';
import ntpCheck from './ntp-check';
import packageModule from './package';
import packageFacts from './package_facts';
import portCheck from './port-check';
import postgresBackup from './postgres_backup';
import service from './service';
import serviceFacts from './service_facts';
import systemd from './systemd';
import systemdService from './systemd_service';
import systemdUnit from './systemd_unit';
import uri from './uri';
import user from './user';
import yum from './yum';

// System configuration modules (issue 13)
import aptKey from './apt_key';
import aptRepository from './apt_repository';
import authorizedKey from './authorized_key';
import cron from './cron';
import git from './git';
import localeGen from './locale_gen';
import mount from './mount';
import pip from './pip';
import sysctl from './sysctl';
import timezone from './timezone';

export const MODULES: TsplayModule[] = [
  // Engine modules
  command,
  shell,
  copy,
  file,
  template,
  lineinfile,
  stat,
  debug,
  assert,
  fail,
  set_fact,
  include_vars,
  pause,
  wait_for,
  ping,
  setup,
  add_host,
  group_by,

  // File transfer modules (issue 13)
  blockinfile,
  fetch,
  get_url,
  replace,
  slurp,

  // HA modules (issue 4)
  apt,
  archive,
  dnf,
  fileOwner,
  group,
  ntpCheck,
  packageModule,
  packageFacts,
  portCheck,
  postgresBackup,
  service,
  serviceFacts,
  systemd,
  systemdService,
  systemdUnit,
  uri,
  user,
  yum,

  // System configuration modules (issue 13)
  aptKey,
  aptRepository,
  authorizedKey,
  cron,
  git,
  localeGen,
  mount,
  pip,
  sysctl,
  timezone,
];

/** Collection prefixes an Ansible playbook may use in front of a module name. */
const PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];

/** Modules that live in other collections in Ansible, under their fully qualified names there. */
const COLLECTION_NAMES: Record<string, string> = {
  'ansible.posix.authorized_key': 'authorized_key',
  'ansible.posix.mount': 'mount',
  'ansible.posix.sysctl': 'sysctl',
  'community.general.locale_gen': 'locale_gen',
  'community.general.timezone': 'timezone',
};

/** The module registered under `name` (with or without an `ansible.builtin.`/`ansible.legacy.` prefix, or its collection's FQCN). */
export function getModule(name: string): TsplayModule | undefined {
  let n = COLLECTION_NAMES[name] ?? name;
  for (const p of PREFIXES) if (n.startsWith(p)) n = n.slice(p.length);
  return MODULES.find((m) => m.name === n);
}
