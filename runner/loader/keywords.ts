/**
 * The playbook language's keywords: which are valid where, and the Ansible keywords tsplay
 * knows but does not support (so the message says "not supported" instead of "unknown").
 */

/**
 * The one table of the keywords every play, block, task and role entry accepts, after
 * Ansible's FieldAttribute declarations. Everything else is derived from it: the loader's key
 * sets and readers (common.ts), the CommonKeywords fields (types.ts), and how the executor
 * passes them from play -> role -> block -> task (executor/scope.ts).
 *   type      how the loader reads it: bool (true/false/yes/no... or a template rendered per
 *             host, runner/booleans.ts), string, condition, tags, vars, environment
 *   inherit   override: the innermost setting wins; stack: each level adds to its parents'
 *             (when: all must hold; vars/environment: inner keys win; tags: unioned at load);
 *             none: not inherited (name)
 *   play      also valid on a play
 * Every bool and string keyword may be templated (rendered per host with the task's vars).
 */
export const COMMON_KEYWORDS = [
  { key: 'name', field: 'name', type: 'string', inherit: 'none', play: true },
  { key: 'when', field: 'when', type: 'condition', inherit: 'stack', play: false },
  { key: 'tags', field: 'tags', type: 'tags', inherit: 'stack', play: true },
  { key: 'vars', field: 'vars', type: 'vars', inherit: 'stack', play: true },
  { key: 'environment', field: 'environment', type: 'environment', inherit: 'stack', play: true },
  { key: 'become', field: 'become', type: 'bool', inherit: 'override', play: true },
  { key: 'become_user', field: 'becomeUser', type: 'string', inherit: 'override', play: true },
  { key: 'become_method', field: 'becomeMethod', type: 'string', inherit: 'override', play: true },
  { key: 'become_flags', field: 'becomeFlags', type: 'string', inherit: 'override', play: true },
  { key: 'check_mode', field: 'checkMode', type: 'bool', inherit: 'override', play: true },
  { key: 'diff', field: 'diff', type: 'bool', inherit: 'override', play: true },
  { key: 'no_log', field: 'noLog', type: 'bool', inherit: 'override', play: true },
  { key: 'ignore_errors', field: 'ignoreErrors', type: 'bool', inherit: 'override', play: true },
  { key: 'ignore_unreachable', field: 'ignoreUnreachable', type: 'bool', inherit: 'override', play: true },
  { key: 'any_errors_fatal', field: 'anyErrorsFatal', type: 'bool', inherit: 'override', play: true },
  { key: 'run_once', field: 'runOnce', type: 'bool', inherit: 'override', play: false },
  { key: 'delegate_to', field: 'delegateTo', type: 'string', inherit: 'override', play: false },
  { key: 'delegate_facts', field: 'delegateFacts', type: 'bool', inherit: 'override', play: false },
  // connection settings: an inventory variable (ansible_connection, ansible_user) still wins, as in Ansible
  { key: 'connection', field: 'connection', type: 'string', inherit: 'override', play: true },
  { key: 'remote_user', field: 'remoteUser', type: 'string', inherit: 'override', play: true },
] as const;

type KeywordSpec = (typeof COMMON_KEYWORDS)[number];
/** camelCase fields of the bool keywords (`checkMode`), and of the string ones (`becomeUser`) */
export type BoolKeywordField = Extract<KeywordSpec, { type: 'bool' }>['field'];
export type StringKeywordField = Extract<KeywordSpec, { type: 'string' }>['field'];
/** the fields whose innermost setting wins (the executor's Scope carries them) */
export type OverrideField = Extract<KeywordSpec, { inherit: 'override' }>['field'];

export const COMMON_KEYS: readonly string[] = COMMON_KEYWORDS.map((k) => k.key);
export const OVERRIDE_FIELDS = COMMON_KEYWORDS.filter((k) => k.inherit === 'override').map((k) => k.field) as OverrideField[];
/** YAML key -> field, per type, for the loader's readers */
export const BOOL_KEYWORDS: ReadonlyMap<string, BoolKeywordField> = new Map(
  COMMON_KEYWORDS.filter((k) => k.type === 'bool').map((k) => [k.key, k.field as BoolKeywordField]),
);
export const STRING_KEYWORDS: ReadonlyMap<string, StringKeywordField> = new Map(
  COMMON_KEYWORDS.filter((k) => k.type === 'string').map((k) => [k.key, k.field as StringKeywordField]),
);

export const PLAY_KEYS = new Set<string>([
  ...COMMON_KEYWORDS.filter((k) => k.play).map((k) => k.key),
  'hosts',
  'vars_files',
  'roles',
  'pre_tasks',
  'tasks',
  'post_tasks',
  'handlers',
  'gather_facts',
  'serial',
  'strategy',
  'max_fail_percentage',
  'order',
  'force_handlers',
  'collections',
]);

/** play `order`: how the play's hosts are ordered (Ansible's values) */
export const HOST_ORDERS = ['inventory', 'reverse_inventory', 'sorted', 'reverse_sorted', 'shuffle'] as const;

/**
 * `with_<lookup>` loops: the terms are rendered per host, then the lookup of that name
 * (runner/templating/lookups, the one lookup() and query() run) makes the items.
 */
export const WITH_LOOKUPS = [
  'items', 'together', 'nested', 'cartesian', 'indexed_items', 'flattened', 'sequence', 'subelements', 'dict',
  'fileglob', 'file', 'first_found', 'template', 'env', 'pipe', 'vars', 'varnames', 'password',
] as const;
export const LOOP_KEYS = ['loop', 'with_list', ...WITH_LOOKUPS.map((k) => `with_${k}`), 'loop_control'] as const;

/** Keywords of a task that runs a module. */
export const TASK_KEYS = new Set<string>([
  ...COMMON_KEYS,
  ...LOOP_KEYS,
  'register',
  'notify',
  'changed_when',
  'failed_when',
  'until',
  'retries',
  'delay',
  'args',
  'action',
  'local_action',
  'listen',
]);

export const BLOCK_KEYS = new Set<string>([...COMMON_KEYS, 'block', 'rescue', 'always', 'notify']);

/** Keywords on include_tasks / include_role (they loop; they do not register or notify). */
export const INCLUDE_KEYS = new Set<string>([...COMMON_KEYS, ...LOOP_KEYS]);
/** Keywords on import_tasks / import_role / meta: applied statically, so no loop. */
export const IMPORT_KEYS = new Set<string>([...COMMON_KEYS]);

export const IMPORT_PLAYBOOK_KEYS = new Set<string>(['import_playbook', 'name', 'when', 'tags', 'vars']);

/** Task keys that say what the task does (exactly one per task). */
export const ACTION_KEYWORDS = new Set<string>(['include_tasks', 'import_tasks', 'include_role', 'import_role', 'meta']);

export const INCLUDE_ROLE_ARGS = new Set<string>(['name', 'tasks_from']);

export const LOOP_CONTROL_KEYS = new Set<string>(['loop_var', 'index_var', 'label', 'pause', 'extended', 'extended_allitems']);

export const META_ACTIONS = ['flush_handlers', 'noop', 'end_play', 'end_host', 'end_batch', 'clear_host_errors', 'refresh_inventory', 'reset_connection', 'clear_facts'] as const;
export type MetaAction = (typeof META_ACTIONS)[number];

export const STRATEGIES = ['linear', 'free'] as const;

/** Ansible play keywords tsplay does not implement, with what to do instead. */
export const UNSUPPORTED_PLAY_KEYS: Record<string, string> = {
  vars_prompt: 'tsplay runs unattended: pass the values with -e/--extra-vars, group_vars or a vault file',
  module_defaults: 'set the arguments on each task (a YAML anchor avoids repeating them)',
  port: 'set ansible_port in the inventory',
  gather_subset: 'tsplay gathers one fixed set of facts',
  gather_timeout: 'tsplay gathers one fixed set of facts',
  fact_path: 'local facts are not supported',
  debugger: 'not supported',
  throttle: 'use --forks or serial',
  timeout: 'not supported',
  when: "plays have no 'when' (as in Ansible): put it on the tasks, a block, or on import_playbook",
};

export const UNSUPPORTED_TASK_KEYS: Record<string, string> = {
  async: 'long-running commands run in the foreground; use the module timeout or wait_for',
  poll: 'long-running commands run in the foreground',
  throttle: 'use --forks or serial on the play',
  timeout: 'not supported',
  module_defaults: 'set the arguments on each task',
  collections: "put 'collections:' on the play, or name roles in full (namespace.collection.role)",
  debugger: 'not supported',
  port: 'set ansible_port in the inventory',
  include: "'include' was removed from Ansible: use include_tasks (dynamic) or import_tasks (static)",
  import_playbook: 'import_playbook is only valid at the top level of a playbook, not in a task list',
  vars_prompt: 'tsplay runs unattended: pass the values with -e/--extra-vars',
};

/** FQCN prefixes that name Ansible's own modules and keywords. */
const FQCN = /^ansible\.(builtin|legacy)\./;

export function stripFqcn(name: string): string {
  return name.replace(FQCN, '');
}
