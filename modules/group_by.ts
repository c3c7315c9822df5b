/**
 * group_by: the host joins a group named from its variables, for the rest of the run. Its
 * documentation is the defineModule fields below (`tsplay doc group_by`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';
import { groupList, HOST_OR_GROUP_NAME } from './lib/inventory-names';

export interface GroupByArgs {
  key: string;
  parents?: string | string[];
}

export default defineModule<GroupByArgs>({
  name: 'group_by',
  description: 'Add the host to a group named by a template (os_{{ ansible_distribution }}), for the rest of the run.',
  notes: 'Spaces in the key become underscores; `parents` (default all) become parents of the group. Always reports changed, as Ansible does.',
  returns: 'add_group, parent_groups',
  local: true,
  schema: {
    type: 'object',
    properties: {
      key: { type: 'string', description: 'The group name (templated per host).' },
      parents: { description: 'Parent groups of the new group (a list or comma-separated; default all).' },
    },
    required: ['key'],
    additionalProperties: false,
  },
  example: `- group_by:
    key: "os_{{ ansible_distribution | lower }}"`,
  checkMode: 'Same as a normal run: the in-memory inventory changes (nothing on any host).',
  async plan(args) {
    const key = args.key.trim().replace(/\s+/g, '_');
    if (!key) throw new ModuleFailure('key is empty');
    if (!HOST_OR_GROUP_NAME.test(key)) throw new ModuleFailure(`key: '${key}' is not a valid group name`);
    const group = key;
    const parents = groupList(args.parents ?? 'all', 'parents');
    return { changes: [], changed: true, result: { add_group: group, parent_groups: parents } };
  },
});
