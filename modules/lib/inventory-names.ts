/** Names add_host and group_by put into the in-memory inventory. */

import { ModuleFailure } from '../../runner/module-api';

/** what an inventory host or group name cannot hold: blanks, and the pattern characters , : [ ] */
export const HOST_OR_GROUP_NAME = /^[^\s,:[\]]+$/;

/** `groups: a,b` or a list; every name checked the way inventory names are. */
export function groupList(v: unknown, what: string): string[] {
  if (v === undefined || v === null || v === '') return [];
  const list = Array.isArray(v) ? v.map(String) : String(v).split(',');
  const out = list.map((g) => g.trim()).filter(Boolean);
  for (const g of out) if (!HOST_OR_GROUP_NAME.test(g)) throw new ModuleFailure(`${what}: '${g}' is not a valid group name`);
  return out;
}
