/**
 * Per-host state for the whole run (it outlives plays, as Ansible's does): gathered facts,
 * set_fact/register results, failure state, recap counters, notified handlers.
 */

import { emptyCounters, type HostCounters } from '../output/events';

export class HostState {
  /** gathered facts: `ansible_facts` plus the injected `ansible_*` names */
  facts: Record<string, unknown> = {};
  /** set_fact / register: above play vars, below extra vars */
  runtime: Record<string, unknown> = {};
  /** include_vars: just below set_fact / register (Ansible's precedence 18 < 19) */
  included: Record<string, unknown> = {};
  failed = false;
  /** bumped by meta: clear_host_errors, so an enclosing `always` knows not to re-fail the host */
  errorsCleared = 0;
  unreachable = false;
  /** meta: end_host */
  ended = false;
  counters: HostCounters = emptyCounters();
  /** a play ran on it: only such hosts are in the recap (hostvars and delegate_to create state too) */
  targeted = false;
  /** handler names notified in the current play */
  notified = new Set<string>();

  constructor(readonly name: string) {}

  /** Still takes part in the play. */
  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }
}
