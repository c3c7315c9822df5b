/**
 * The event stream: the executor emits these, reporters turn them into text. With
 * `--format json` each event is printed as one JSON line, so this file IS the documented,
 * stable json format (field names never change meaning; new fields may be added).
 *
 * Every event has `type` and `time` (ISO 8601). Secrets are masked before an event leaves
 * the executor, and `no_log` results are replaced by a censored marker.
 */

import type { DiffText } from '../module-api';

export type HostStatus = 'ok' | 'changed' | 'skipped' | 'failed' | 'unreachable';

export interface HostCounters {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type RunEvent =
  | { type: 'run_start'; time: string; playbook: string; check: boolean; diff: boolean; version: string }
  | { type: 'play_start'; time: string; name: string; pattern: string; hosts: string[]; file?: string; line?: number }
  | {
      type: 'task_start';
      time: string;
      /** "role : name" for role tasks */
      name: string;
      role?: string;
      handler: boolean;
      file?: string;
      line?: number;
      hosts: number;
    }
  | {
      type: 'host_result';
      time: string;
      host: string;
      task: string;
      status: HostStatus;
      /** a failed task whose failure was ignored (ignore_errors) */
      ignored?: boolean;
      /** loop item label, for per-item results */
      item?: string;
      /** the host the task actually ran on (delegate_to) */
      delegated_to?: string;
      msg?: string;
      /** print msg even at verbosity 0 (debug) */
      show?: boolean;
      /** diffs when --diff is on */
      diff?: DiffText[];
      /** the registered result (masked; `{censored: ...}` under no_log) */
      result?: Record<string, unknown>;
      duration_ms: number;
    }
  | { type: 'retry'; time: string; host: string; task: string; attempt: number; retries: number; msg?: string }
  | { type: 'warning'; time: string; message: string; host?: string }
  | { type: 'verbose'; time: string; level: 1 | 2 | 3; host?: string; message: string }
  | { type: 'include'; time: string; host: string; file: string }
  | { type: 'play_end'; time: string; name: string }
  | {
      type: 'recap';
      time: string;
      hosts: Record<string, HostCounters>;
      duration_ms: number;
      /** the process exit code the run will end with */
      exit_code: number;
      interrupted: boolean;
    };

export type EventSink = (e: RunEvent) => void;

/** Distributive Omit, so that each event variant keeps its own fields. */
type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
export type EventInput = DistributiveOmit<RunEvent, 'time'>;

export function now(): string {
  return new Date().toISOString();
}

export function emptyCounters(): HostCounters {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}
