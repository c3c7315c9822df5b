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
  notified = new Notified();

  constructor(readonly name: string) {}

  /** Still takes part in the play. */
  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }
}

/**
 * The handler names a host was notified for, each with when: a flush consumes the
 * notifications its handlers ran for, except one made again after that handler ran (a later
 * handler notifying an earlier one), which waits for the next flush as in Ansible.
 */
export class Notified {
  private readonly at = new Map<string, number>();
  private seq = 0;

  add(name: string): void {
    this.at.set(name, ++this.seq);
  }

  has(name: string): boolean {
    return this.at.has(name);
  }

  /** the notification's sequence number, to consume exactly that one later */
  stamp(name: string): number | undefined {
    return this.at.get(name);
  }

  /** remove the notification if it is still the one stamped */
  consume(name: string, stamp: number): void {
    if (this.at.get(name) === stamp) this.at.delete(name);
  }

  clear(): void {
    this.at.clear();
  }
}
