/**
 * The keywords shared by plays, blocks, tasks and role entries (CommonKeywords), read into the
 * camelCase fields of types.ts. Only keys that are present are set, so a task written without
 * `become` has no `become` field and inherits its parent's.
 */

import { BOOL_KEYWORDS, COMMON_KEYWORDS, STRING_KEYWORDS } from './keywords';
import type { CommonKeywords } from './types';
import { type Obj, type Values } from './values';

export type CommonOut = Omit<CommonKeywords, 'loc' | 'effectiveTags'>;

function set<K extends keyof CommonOut>(out: CommonOut, key: K, value: CommonOut[K] | undefined): void {
  if (value !== undefined) out[key] = value;
}

/** Read `key` of `raw` into `out` if it is a common keyword; false when it is not one. */
export function readCommon(v: Values, raw: Obj, key: string, out: CommonOut): boolean {
  const bool = BOOL_KEYWORDS.get(key);
  if (bool) {
    set(out, bool, v.bool(raw, key));
    return true;
  }
  const str = STRING_KEYWORDS.get(key);
  if (str) {
    set(out, str, v.string(raw, key));
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
export const INHERITED_FIELDS: Array<keyof CommonOut> = COMMON_KEYWORDS.filter((k) => k.inherit !== 'none' && k.key !== 'tags').map((k) => k.field);
