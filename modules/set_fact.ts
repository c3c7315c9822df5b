/**
 * set_fact: set variables on the host for the rest of the play. Runs on the controller.
 *
 * Arguments: any names, with their (templated) values. `cacheable` is accepted and ignored
 * (tsplay keeps no fact cache).
 *
 * Example:
 *   - set_fact:
 *       patroni_primary: "{{ groups['db_master'][0] }}"
 *       pg_port: 5432
 *
 * Result: ansible_facts: the variables set.
 *
 * Check mode: the same as a normal run (the facts are set, nothing on the host changes).
 */

import { defineModule } from '../runner/module-api';

export type SetFactArgs = Record<string, unknown>;

export default defineModule<SetFactArgs>({
  name: 'set_fact',
  description: 'Set variables on the host for the rest of the play.',
  local: true,
  schema: {
    type: 'object',
    properties: {
      cacheable: { type: 'boolean', description: 'Accepted for Ansible compatibility and ignored.' },
    },
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    additionalProperties: true,
    minProperties: 1,
  },
  example: `- set_fact:
    patroni_primary: "{{ groups['db_master'][0] }}"
    app_port: 8080`,
  checkMode: 'Same as a normal run: the facts are set.',
  async plan(args) {
    const facts: Record<string, unknown> = { ...args };
    delete facts.cacheable;
    return { changes: [], facts, result: { ansible_facts: facts } };
  },
});
