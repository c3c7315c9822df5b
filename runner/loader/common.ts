/**
 * The keywords shared by plays, blocks, tasks and role entries (CommonKeywords), read into the
 * camelCase fields of types.ts. Only keys that are present are set, so a task written without
 * `become` has no `become` field and inherits its parent's.
 */

import type { CommonKeywords } from './types';
import { type Obj, type Values } from './values';

export type CommonOut = Omit<CommonKeywords, 'loc' | 'effectiveTags'>;

function set<K extends keyof CommonOut>(out: CommonOut, key: K, value: CommonOut[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

const BOOL_FIELDS: Record<string, keyof CommonOut> = {
  become: 'become',
  check_mode: 'checkMode',
  diff: 'diff',
  no_log: 'noLog',
  ignore_errors: 'ignoreErrors',
  ignore_unreachable: 'ignoreUnreachable',
  any_errors_fatal: 'anyErrorsFatal',
  run_once: 'runOnce',
};

const STRING_FIELDS: Record<string, keyof CommonOut> = {
  name: 'name',
  become_user: 'becomeUser',
  become_method: 'becomeMethod',
  become_flags: 'becomeFlags',
  delegate_to: 'delegateTo',
};

/** Read `key` of `raw` into `out` if it is a common keyword; false when it is not one. */
export function readCommon(v: Values, raw: Obj, key: string, out: CommonOut): boolean {
  if (key in BOOL_FIELDS) {
    set(out, BOOL_FIELDS[key], v.bool(raw, key) as never);
    return true;
  }
  if (key in STRING_FIELDS) {
    set(out, STRING_FIELDS[key], v.string(raw, key) as never);
    return true;
  }
  switch (key) {
    case 'when':
      set(out, 'when', v.condition(raw, key));
      return true;
    case 'tags':
      out.tags = v.tags(raw, key) ?? [];
      return true;
    case 'vars':
      set(out, 'vars', v.vars(raw, key));
      return true;
    case 'environment':
      set(out, 'environment', v.environment(raw, key));
      return true;
    default:
      return false;
  }
}

/** Keywords whose effect must reach every task of an import (so the import becomes a block). */
export const INHERITED_FIELDS: Array<keyof CommonOut> = [
  'when',
  'vars',
  'environment',
  'become',
  'becomeUser',
  'becomeMethod',
  'becomeFlags',
  'checkMode',
  'diff',
  'noLog',
  'ignoreErrors',
  'ignoreUnreachable',
  'anyErrorsFatal',
  'runOnce',
  'delegateTo',
];
