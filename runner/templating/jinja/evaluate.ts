/**
 * Tree-walking evaluator of parsed expressions (parser.ts, ast.ts). Sandboxed by construction: it
 * only reads own properties of data, calls only the filters, tests and string/list/dict
 * methods listed here, and never builds or runs code.
 */

import { TemplateError } from '../../errors';
import type { Expr, Node } from './ast';
import { callLookup, isKnownLookup, LOOKUP_FUNCTIONS, lookupName, unknownLookup } from './functions';
import { Callable } from './callable';
import { callMethod } from './methods';
import { applyEngineFilter, hasFilter, suggest, unknownFilter } from './engine-filters';
import { FILTERS, FilterEnv, Kwargs } from './filters';
import { containsValue, TESTS } from './predicates';
import {
  compareValues,
  deepEqual,
  getAttr,
  HostObject,
  isPlainObject,
  keyRepr,
  MISSING,
  setKey,
  strOf,
  toText,
  truthy,
  typeName,
  Undefined,
  UNDEFINED_HINT,
  undefinedError,
} from './values';

/** Where names come from while evaluating. */
export interface Scope {
  /** the variable's value, or MISSING */
  lookup(name: string): unknown;
  strict: boolean;
  /** what the template engine needs to run one of its own filters here (see EngineFilters) */
  engine?(): unknown;
  /** the variables object the render was given (lookups read the task's context from it) */
  vars?(): Record<string, unknown> | undefined;
}

/**
 * Variables from a plain object: own properties only (hostvars may be a Proxy: fine).
 * `engine` gives the template engine's context for its filters, built when one is used.
 */
export function objectScope(vars: Record<string, unknown>, strict: boolean, engine?: () => unknown): Scope {
  let made: unknown;
  return {
    strict,
    lookup(name) {
      if (!Object.prototype.hasOwnProperty.call(vars, name)) return MISSING;
      try {
        return vars[name];
      } catch (e) {
        // a variable whose own template names an undefined one is itself undefined (Ansible's
        // lazy reading): `x | default(...)` and `x is defined` work on it, any other use
        // reports the inner name
        if (e instanceof TemplateError && e.hint === UNDEFINED_HINT) return new Undefined(name, e.message);
        throw e;
      }
    },
    engine: engine && (() => (made ??= engine())),
    vars: () => vars,
  };
}

/** Largest list `range()` / `(a..b)` may build: a typo must not exhaust memory. */
const MAX_RANGE = 1_000_000;

/** Mark where in the template an error happened (first mark wins: it is the innermost). */
function at<E extends Error>(err: E, offset: number): E {
  if (err instanceof TemplateError && err.offset === undefined) err.offset = offset;
  return err;
}

class Evaluation implements FilterEnv {
  readonly strict: boolean;
  constructor(
    readonly x: Expr,
    readonly scope: Scope,
  ) {
    this.strict = scope.strict;
  }

  private text(n: Node): string {
    return this.x.src.slice(n.s, n.e).trim();
  }

  fail(n: Node, msg: string, hint?: string): never {
    throw at(new TemplateError(msg, undefined, hint), this.x.base + n.s);
  }

  /** Use of a value: an undefined one is an error (strict) or none (lenient). */
  need(v: unknown, n?: Node): unknown {
    if (v instanceof Undefined) {
      if (!this.strict) return null;
      const err = undefinedError(v);
      throw n ? at(err, this.x.base + n.s) : err;
    }
    return v;
  }

  ev(n: Node): unknown {
    switch (n.t) {
      case 'lit':
        return n.v;
      case 'var': {
        const v = this.scope.lookup(n.name);
        if (v === MISSING || v === undefined || typeof v === 'function') return new Undefined(n.name);
        return v;
      }
      case 'attr':
        return this.member(n, this.ev(n.obj), n.key, n.obj, `.${n.key}`);
      case 'index': {
        const k = this.need(this.ev(n.key), n.key);
        return this.member(n, this.ev(n.obj), k, n.obj, keyRepr(k));
      }
      case 'slice':
        return this.slice(n);
      case 'list':
        return n.items.map((i) => this.need(this.ev(i), i));
      case 'dict': {
        const out: Record<string, unknown> = {};
        for (const [kn, vn] of n.entries) {
          const k = this.need(this.ev(kn), kn);
          if (k !== null && typeof k === 'object') this.fail(kn, `a mapping key must be a string or number, not ${typeName(k)}`);
          setKey(out, toText(k), this.need(this.ev(vn), vn));
        }
        return out;
      }
      case 'range': {
        const a = this.int(n.from);
        const b = this.int(n.to);
        return this.rangeList(n, a, b + 1, 1);
      }
      case 'not':
        return !truthy(this.need(this.ev(n.x), n.x));
      case 'neg':
      case 'pos': {
        const v = this.need(this.ev(n.x), n.x);
        if (typeof v !== 'number' && typeof v !== 'boolean') this.fail(n, `bad operand for unary ${n.t === 'neg' ? '-' : '+'}: ${typeName(v)}`);
        return n.t === 'neg' ? -Number(v) : Number(v);
      }
      case 'and': {
        const l = this.need(this.ev(n.l), n.l);
        return truthy(l) ? this.ev(n.r) : l;
      }
      case 'or': {
        const l = this.need(this.ev(n.l), n.l);
        return truthy(l) ? l : this.ev(n.r);
      }
      case 'bin':
        return this.binary(n);
      case 'cmp': {
        let left = this.need(this.ev(n.first), n.first);
        for (const [op, rn] of n.rest) {
          const right = this.need(this.ev(rn), rn);
          if (!this.compare(n, op, left, right)) return false;
          left = right;
        }
        return true;
      }
      case 'filter':
        return this.filterNode(n);
      case 'test': {
        const def = TESTS[n.name];
        if (!def) this.fail(n, `unknown test '${n.name}'`, suggest(n.name, Object.keys(TESTS)));
        const input = this.ev(n.x);
        const args = n.args.map((a) => this.need(this.ev(a), a));
        const kw = this.kwargs(n.kwargs);
        const r = this.guard(n, () => this.applyTest(n.name, def.acceptsUndefined ? input : this.need(input, n.x), args, kw));
        return n.negate ? !r : r;
      }
      case 'cond':
        if (truthy(this.need(this.ev(n.test), n.test))) return this.ev(n.then);
        // Jinja's `'x' if cond` without else renders as nothing
        return n.else ? this.ev(n.else) : '';
      case 'call':
        return this.call(n);
    }
  }

  private member(n: Node, obj: unknown, key: unknown, objNode: Node, suffix: string): unknown {
    // Ansible's chained undefined: `foo.bar is defined` is false when foo itself is missing
    if (obj instanceof Undefined) return obj;
    if (obj === null || obj === undefined) {
      const base = this.text(objNode);
      return new Undefined(base + suffix, `'${base}' is none, so it has no attribute ${suffix.startsWith('.') ? `'${suffix.slice(1)}'` : suffix}`);
    }
    const v = getAttr(obj, key);
    if (v === MISSING) return new Undefined(this.text(objNode) + suffix);
    return v;
  }

  private int(n: Node): number {
    const v = this.need(this.ev(n), n);
    const num = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof num !== 'number' || !Number.isInteger(num)) this.fail(n, `expected an integer, got ${typeName(v)}`);
    return num;
  }

  private rangeList(n: Node, start: number, stop: number, step: number): number[] {
    if (step === 0) this.fail(n, 'range() step must not be zero');
    const len = Math.max(0, Math.ceil((stop - start) / step));
    if (len > MAX_RANGE) this.fail(n, `range of ${len} items is too large (limit ${MAX_RANGE})`);
    return Array.from({ length: len }, (_, i) => start + i * step);
  }

  private slice(n: Extract<Node, { t: 'slice' }>): unknown {
    const obj = this.need(this.ev(n.obj), n.obj);
    if (typeof obj !== 'string' && !Array.isArray(obj)) this.fail(n, `cannot slice ${typeName(obj)}`);
    const bound = (b: Node | undefined): number | undefined => (b ? this.int(b) : undefined);
    const step = bound(n.step) ?? 1;
    if (step === 0) this.fail(n, 'slice step must not be zero');
    const len = obj.length;
    const norm = (i: number | undefined, dflt: number): number => {
      if (i === undefined) return dflt;
      if (i < 0) i += len;
      return step > 0 ? Math.min(Math.max(i, 0), len) : Math.min(Math.max(i, -1), len - 1);
    };
    const start = norm(bound(n.from), step > 0 ? 0 : len - 1);
    const stop = norm(bound(n.to), step > 0 ? len : -1);
    const items: unknown[] = [];
    for (let i = start; step > 0 ? i < stop : i > stop; i += step) items.push(obj[i]);
    return typeof obj === 'string' ? items.join('') : items;
  }

  private binary(n: Extract<Node, { t: 'bin' }>): unknown {
    const l = this.need(this.ev(n.l), n.l);
    const r = this.need(this.ev(n.r), n.r);
    if (n.op === '~') return strOf(l) + strOf(r);
    const num = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
    const bad = (): never =>
      this.fail(n, `unsupported operand types for ${n.op}: ${typeName(l)} and ${typeName(r)}`, n.op === '+' && (typeof l === 'string' || typeof r === 'string') ? 'join text with ~ (it converts numbers), or convert with | int' : undefined);
    switch (n.op) {
      case '+':
        if (num(l) && num(r)) return Number(l) + Number(r);
        if (typeof l === 'string' && typeof r === 'string') return l + r;
        if (Array.isArray(l) && Array.isArray(r)) return [...l, ...r];
        return bad();
      case '*':
        if (num(l) && num(r)) return Number(l) * Number(r);
        if ((typeof l === 'string' || Array.isArray(l)) && typeof r === 'number' && Number.isInteger(r)) return repeat(l, r);
        if ((typeof r === 'string' || Array.isArray(r)) && typeof l === 'number' && Number.isInteger(l)) return repeat(r, l);
        return bad();
      default: {
        if (!num(l) || !num(r)) return bad();
        const a = Number(l);
        const b = Number(r);
        if ((n.op === '/' || n.op === '//' || n.op === '%') && b === 0) this.fail(n, 'division by zero');
        if (n.op === '-') return a - b;
        if (n.op === '/') return a / b;
        if (n.op === '//') return Math.floor(a / b);
        if (n.op === '%') return ((a % b) + b) % b;
        return a ** b;
      }
    }
  }

  private compare(n: Node, op: string, l: unknown, r: unknown): boolean {
    try {
      switch (op) {
        case '==':
          return deepEqual(l, r);
        case '!=':
          return !deepEqual(l, r);
        case '<':
          return compareValues(l, r) < 0;
        case '<=':
          return compareValues(l, r) <= 0;
        case '>':
          return compareValues(l, r) > 0;
        case '>=':
          return compareValues(l, r) >= 0;
        case 'in':
          return containsValue(r, l);
        case 'not in':
          return !containsValue(r, l);
        case 'contains':
          return containsValue(l, r);
      }
    } catch (e) {
      throw at(e as Error, this.x.base + n.s);
    }
    return this.fail(n, `unknown operator ${op}`);
  }

  private kwargs(list: Array<[string, Node]>): Kwargs {
    const kw: Kwargs = {};
    for (const [k, vn] of list) setKey(kw, k, this.need(this.ev(vn), vn));
    return kw;
  }

  /** Errors from inside a filter/test point at it; plain JS errors become TemplateErrors. */
  private guard<T>(n: Node, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof TemplateError) throw at(e, this.x.base + n.s);
      throw at(new TemplateError(`${this.text(n)}: ${(e as Error).message ?? String(e)}`), this.x.base + n.s);
    }
  }

  private filterNode(n: Extract<Node, { t: 'filter' }>): unknown {
    const name = n.name;
    if (name === 'default' || name === 'd') {
      // lazy: the fallback is only evaluated (and only has to exist) when it is needed
      const input = this.ev(n.x);
      const kw = this.kwargs(n.kwargs.filter(([k]) => k === 'boolean'));
      const useFalsy = truthy(n.args[1] ? this.need(this.ev(n.args[1]), n.args[1]) : kw.boolean);
      if (input instanceof Undefined || (useFalsy && !truthy(input))) {
        const dflt = n.args[0] ?? n.kwargs.find(([k]) => k === 'default_value')?.[1];
        return dflt ? this.ev(dflt) : '';
      }
      return input;
    }
    const def = FILTERS[name];
    if (!def && !hasFilter(name)) throw at(unknownFilter(name), this.x.base + n.s);
    const raw = this.ev(n.x);
    const input = def?.acceptsUndefined ? raw : this.need(raw, n.x);
    const args = n.args.map((a) => this.need(this.ev(a), a));
    const kw = this.kwargs(n.kwargs);
    return this.guard(n, () => this.applyFilter(name, input, args, kw));
  }

  hasFilter(name: string): boolean {
    return hasFilter(name);
  }

  applyFilter(name: string, input: unknown, args: unknown[], kw: Kwargs = {}): unknown {
    const def = FILTERS[name];
    if (def) return def.fn(def.acceptsUndefined ? input : this.need(input), args, kw, this);
    return applyEngineFilter(name, this.need(input), args, kw, this.scope.engine?.());
  }

  applyTest(name: string, input: unknown, args: unknown[], kw: Kwargs = {}): boolean {
    const def = TESTS[name];
    if (!def) throw new TemplateError(`unknown test '${name}'`, undefined, suggest(name, Object.keys(TESTS)));
    return def.fn(def.acceptsUndefined ? input : this.need(input), args, kw);
  }

  private call(n: Extract<Node, { t: 'call' }>): unknown {
    const args = n.args.map((a) => this.need(this.ev(a), a));
    const kw = this.kwargs(n.kwargs);
    if (n.fn.t === 'var') {
      const name = n.fn.name;
      if (name === 'range') {
        const ints = args.map((a, i) => {
          if (typeof a !== 'number' || !Number.isInteger(a)) this.fail(n.args[i], `range() expects integers, got ${typeName(a)}`);
          return a;
        });
        if (ints.length === 1) return this.rangeList(n, 0, ints[0], 1);
        if (ints.length === 2 || ints.length === 3) return this.rangeList(n, ints[0], ints[1], ints[2] ?? 1);
        this.fail(n, 'range() takes 1 to 3 arguments');
      }
      if (LOOKUP_FUNCTIONS.has(name)) return this.guard(n, () => callLookup(name, args, kw, this.scope));
      // a macro of the template, caller(), super()
      const f = this.scope.lookup(name);
      if (f instanceof Callable) return this.guard(n, () => f.call(args, kw));
      this.fail(n, `'${name}' is not a function`, 'functions available in expressions: range(), lookup(), query(), q(); use filters with |');
    }
    if (n.fn.t !== 'attr') return this.fail(n, 'only methods and range() can be called');
    const objNode = n.fn.obj;
    const obj = this.need(this.ev(objNode), objNode);
    const method = n.fn.key;
    // an imported template's macro (`m.name()`), loop.cycle()
    const own = obj instanceof HostObject ? obj.attr(method) : isPlainObject(obj) && Object.prototype.hasOwnProperty.call(obj, method) ? obj[method] : undefined;
    if (own instanceof Callable) return this.guard(n, () => own.call(args, kw));
    return this.guard(n, () => callMethod(obj, method, args, kw, () => this.fail(n, `${typeName(obj)} has no method '${method}'`, 'available: str: startswith endswith split strip lower upper replace join find; dict: get keys values items; list: index count')));
  }
}

function repeat(v: string | unknown[], times: number): string | unknown[] {
  if (times <= 0) return typeof v === 'string' ? '' : [];
  if (v.length * times > MAX_RANGE) throw new TemplateError('repetition result is too large');
  if (typeof v === 'string') return v.repeat(times);
  const out: unknown[] = [];
  for (let i = 0; i < times; i++) out.push(...v);
  return out;
}

/** Evaluate; the result may be an Undefined (the caller decides whether that is an error). */
export function evaluateRaw(x: Expr, scope: Scope): unknown {
  return new Evaluation(x, scope).ev(x.root);
}

/** Evaluate to a usable value: an undefined result is an error (strict) or none (lenient). */
export function evaluateValue(x: Expr, scope: Scope): unknown {
  const e = new Evaluation(x, scope);
  return e.need(e.ev(x.root), x.root);
}

/** Evaluate for truthiness (`when`, `{% if %}`). */
export function evaluateTruth(x: Expr, scope: Scope): boolean {
  return truthy(evaluateValue(x, scope));
}

/** Check that every filter and test an expression names exists (for validation before a run). */
export function unknownNames(x: Expr): TemplateError | undefined {
  let found: TemplateError | undefined;
  const walk = (n: Node | undefined): void => {
    if (!n || found) return;
    if (n.t === 'filter' && !hasFilter(n.name)) found = at(unknownFilter(n.name), x.base + n.s);
    if (n.t === 'test' && !TESTS[n.name]) found = at(new TemplateError(`unknown test '${n.name}'`, undefined, suggest(n.name, Object.keys(TESTS))), x.base + n.s);
    // a lookup named by a literal must exist (a templated name is checked when it runs)
    if (n.t === 'call' && n.fn.t === 'var' && LOOKUP_FUNCTIONS.has(n.fn.name) && n.args[0]?.t === 'lit' && typeof n.args[0].v === 'string') {
      const name = lookupName(n.args[0].v);
      if (!isKnownLookup(name)) found = at(unknownLookup(name), x.base + n.s);
    }
    for (const v of Object.values(n)) {
      if (v && typeof v === 'object') {
        if (Array.isArray(v)) for (const i of v) Array.isArray(i) ? i.forEach((j) => typeof j === 'object' && walk(j as Node)) : walk(i as Node);
        else if ('t' in v) walk(v as Node);
      }
    }
  };
  walk(x.root);
  return found;
}
