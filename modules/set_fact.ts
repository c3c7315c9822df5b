/**
 * set_fact: variables for the rest of the play, set on the controller. Its documentation is the defineModule fields below (`tsplay doc set_fact`).
 */

import { defineModule, ModuleFailure } from '../runner/module-api';

export type SetFactArgs = Record<string, unknown>;

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The strings Ansible's set_fact turns into booleans (its own list, narrower than keywords'). */
const SET_FACT_BOOLEANS = new Set(['true', 'false', 'yes', 'no']);

export default defineModule<SetFactArgs>({
  name: 'set_fact',
  description: 'Set variables on the host for the rest of the play.',
  notes: [
    'Any names, with their (templated) values. As in Ansible, a value that is (or renders to) one of',
    'the strings true/false/yes/no, in any case, is set as that boolean: `set_fact: ok=false` must',
    'make `when: ok` false. Other strings (on, 1, \'y\') stay strings.',
  ].join('\n'),
  returns: 'ansible_facts: the variables set',
  local: true,
  templatedKeys: true,
  schema: {
    type: 'object',
    properties: {
      cacheable: { type: 'boolean', description: 'Accepted for Ansible compatibility and ignored.' },
    },
    // a name with `{{ }}` is rendered per host (Ansible templates set_fact's keys); plan checks it
    propertyNames: { pattern: '^([A-Za-z_][A-Za-z0-9_]*|[\\s\\S]*\\{\\{[\\s\\S]*\\}\\}[\\s\\S]*)$' },
    additionalProperties: true,
    minProperties: 1,
  },
  example: `- set_fact:
    patroni_primary: "{{ groups['db_master'][0] }}"
    app_port: 8080`,
  checkMode: 'Same as a normal run: the facts are set.',
  async plan(args) {
    const facts: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) {
      if (k === 'cacheable') continue;
      if (!VAR_NAME.test(k)) throw new ModuleFailure(`the variable name '${k}' is not valid: it must be letters, digits and underscores, not starting with a digit`);
      facts[k] = typeof v === 'string' && SET_FACT_BOOLEANS.has(v.toLowerCase()) ? ['true', 'yes'].includes(v.toLowerCase()) : v;
    }
    return { changes: [], facts, result: { ansible_facts: facts } };
  },
});
