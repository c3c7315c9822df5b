/**
 * Checks and normalisation of keyword values. Each takes the mapping and the key as written, so
 * an error points at the value (file:line:column) and says what was expected; on error it
 * records the problem and returns undefined so loading goes on and finds the next one.
 */

import { BOOLEAN_SPELLINGS, parseBoolean } from '../booleans';
import { posOf, posOfKey, posOfValue, type Pos } from '../yaml';
import type { Condition } from './types';
import type { Session } from './session';

export type Obj = Record<string, unknown>;

export function isMapping(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function hasTemplate(v: unknown): boolean {
  return typeof v === 'string' && (v.includes('{{') || v.includes('{%'));
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
export function isIdentifier(s: string): boolean {
  return IDENT.test(s);
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string '${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  return `${typeof v} ${String(v)}`;
}

/** Where to point for a key's value; falls back to the file when positions are unknown. */
export function valueLoc(obj: unknown, key: string | number, file: string): Pos {
  return posOfValue(obj, key) ?? posOf(obj) ?? { file, line: 1, column: 1 };
}

export function keyLoc(obj: unknown, key: string | number, file: string): Pos {
  return posOfKey(obj, key) ?? posOf(obj) ?? { file, line: 1, column: 1 };
}

export class Values {
  constructor(
    private readonly sess: Session,
    private readonly file: string,
  ) {}

  private bad(obj: Obj, key: string, message: string, hint?: string): undefined {
    this.sess.error(message, valueLoc(obj, key, this.file), hint);
    return undefined;
  }

  string(obj: Obj, key: string, label = key): string | undefined {
    const v = obj[key];
    if (typeof v === 'string') return v;
    if (typeof v === 'number') return String(v);
    return this.bad(obj, key, `'${label}' must be a string, got ${typeName(v)}`);
  }

  /**
   * A boolean, or a template deciding it at run time. YAML 1.2 reads `yes`/`no` as strings, and
   * Ansible users write them everywhere, so they are taken as booleans here.
   */
  bool(obj: Obj, key: string): boolean | string | undefined {
    const v = obj[key];
    const b = parseBoolean(v);
    if (b !== undefined) return b;
    if (typeof v === 'string' && hasTemplate(v)) return v;
    return this.bad(obj, key, `'${key}' must be a boolean (${BOOLEAN_SPELLINGS}) or a template, got ${typeof v === 'string' ? `'${v}'` : typeName(v)}`);
  }


  /** Tags as a list: `tags: a,b`, `tags: [a, b]` and numbers all become strings. */
  tags(obj: Obj, key: string): string[] | undefined {
    const v = obj[key];
    if (v === null || v === undefined) return [];
    if (typeof v === 'string') return splitTags(v);
    if (typeof v === 'number') return [String(v)];
    if (Array.isArray(v)) {
      const out: string[] = [];
      for (let i = 0; i < v.length; i++) {
        const t = v[i];
        if (typeof t === 'string' || typeof t === 'number') out.push(String(t).trim());
        else this.sess.error(`each tag must be a string, got ${typeName(t)}`, valueLoc(v, i, this.file));
      }
      return out.filter((t) => t !== '');
    }
    return this.bad(obj, key, `'${key}' must be a string ("a,b") or a list of strings, got ${typeName(v)}`);
  }

  condition(obj: Obj, key: string): Condition | undefined {
    const v = obj[key];
    const scalar = (x: unknown) => typeof x === 'string' || typeof x === 'boolean' || typeof x === 'number';
    if (scalar(v)) return v as Condition;
    if (Array.isArray(v)) {
      let ok = true;
      v.forEach((x, i) => {
        if (!scalar(x)) {
          ok = false;
          this.sess.error(`each condition in '${key}' must be an expression or a boolean, got ${typeName(x)}`, valueLoc(v, i, this.file));
        }
      });
      return ok ? (v as Array<string | boolean | number>) : undefined;
    }
    return this.bad(obj, key, `'${key}' must be an expression, a boolean or a list of them, got ${typeName(v)}`);
  }

  /** A list of strings; a single string is a list of one (notify, listen). */
  stringList(obj: Obj, key: string): string[] | undefined {
    const v = obj[key];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) {
      const out: string[] = [];
      let ok = true;
      v.forEach((x, i) => {
        if (typeof x === 'string') out.push(x);
        else {
          ok = false;
          this.sess.error(`each entry of '${key}' must be a string, got ${typeName(x)}`, valueLoc(v, i, this.file));
        }
      });
      return ok ? out : undefined;
    }
    return this.bad(obj, key, `'${key}' must be a string or a list of strings, got ${typeName(v)}`);
  }

  /** Variables: a mapping (or a list of mappings, merged in order) with valid variable names. */
  vars(obj: Obj, key: string): Record<string, unknown> | undefined {
    const v = obj[key];
    if (v === null || v === undefined) return {};
    const parts: Obj[] = [];
    if (isMapping(v)) parts.push(v);
    else if (Array.isArray(v) && v.every(isMapping)) parts.push(...(v as Obj[]));
    else return this.bad(obj, key, `'${key}' must be a mapping of variable names to values, got ${typeName(v)}`);
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const part of parts) {
      for (const [name, value] of Object.entries(part)) {
        if (!isIdentifier(name)) {
          ok = false;
          this.sess.error(`'${name}' is not a valid variable name`, keyLoc(part, name, this.file),
            'variable names are letters, digits and underscores, not starting with a digit');
        }
        out[name] = value;
      }
    }
    return ok ? out : undefined;
  }

  environment(obj: Obj, key: string): Record<string, unknown> | string | undefined {
    const v = obj[key];
    if (isMapping(v)) return { ...v };
    if (typeof v === 'string' && hasTemplate(v)) return v;
    return this.bad(obj, key, `'${key}' must be a mapping of variable names to values (or a template), got ${typeName(v)}`);
  }

  /** A whole number >= 0, a numeric string, or a template (retries, delay). */
  count(obj: Obj, key: string): number | string | undefined {
    const v = obj[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    if (typeof v === 'string') {
      if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v);
      if (hasTemplate(v)) return v;
    }
    return this.bad(obj, key, `'${key}' must be a number or a template, got ${typeName(v)}`);
  }

  identifier(obj: Obj, key: string): string | undefined {
    const v = obj[key];
    if (typeof v === 'string' && isIdentifier(v)) return v;
    return this.bad(obj, key, `'${key}' must be a variable name (letters, digits, underscores), got ${typeName(v)}`);
  }
}

export function splitTags(s: string): string[] {
  return s
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

export function uniq(list: string[]): string[] {
  return [...new Set(list)];
}
