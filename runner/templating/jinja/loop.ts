/**
 * Jinja's `{% for %}`: its header (`a[, b] in coll [if cond] [limit: n] [offset: n] [reversed]`,
 * Liquid's limit/offset/reversed included) and what a loop walks over and binds. The template
 * engine only supplies the scope frames (liquid.ts); the meaning of a loop is decided here.
 */

import { TemplateError } from '../../errors';
import type { Expr, ForHeader, Node } from './ast';
import { evaluateTruth, evaluateValue, Scope } from './evaluate';
import { KEYWORDS, Parser } from './parser';
import { FnCallable } from './callable';
import { deepEqual, isMapping, mappingEntries, mappingKeys, MISSING, typeName } from './values';

class ForHeaderParser extends Parser {
  header(): Omit<ForHeader, 'collection' | 'filter' | 'limit' | 'offset'> & { collection: Node; filter?: Node; limit?: Node; offset?: Node } {
    const vars: string[] = [];
    for (;;) {
      const t = this.cur;
      if (t.type !== 'name' || KEYWORDS.has(t.v as string)) this.fail(`expected a loop variable name but found ${this.describe(t)}`);
      vars.push(this.next().v as string);
      if (!this.isOp(',')) break;
      this.next();
    }
    if (!this.isName('in')) this.fail(`expected 'in' but found ${this.describe(this.cur)}`);
    this.next();
    const collection = this.expression(true);
    const out: ReturnType<ForHeaderParser['header']> = { vars, collection, reversed: false };
    while (!this.atEnd()) {
      if (this.isName('if')) {
        this.next();
        out.filter = this.expression(true);
      } else if (this.isName('reversed')) {
        this.next();
        out.reversed = true;
      } else if ((this.isName('limit') || this.isName('offset')) && this.isOp(':', this.peek())) {
        const k = this.next().v as 'limit' | 'offset';
        this.next();
        out[k] = this.unary(false);
      } else if (this.isOp(',')) {
        this.next();
      } else {
        this.fail(`unexpected ${this.describe(this.cur)} in for loop header`);
      }
    }
    return out;
  }
}

export function parseForHeader(src: string, base = 0): ForHeader {
  const h = new ForHeaderParser(src, base).header();
  const wrap = (n: Node | undefined): Expr | undefined => (n ? { src, base, root: n } : undefined);
  return { vars: h.vars, collection: wrap(h.collection)!, filter: wrap(h.filter), limit: wrap(h.limit), offset: wrap(h.offset), reversed: h.reversed };
}

function errorAt(msg: string, offset: number): TemplateError {
  const err = new TemplateError(msg);
  err.offset = offset;
  return err;
}

/** Bind the loop's names to one item (`for k, v in d` unpacks a pair). */
export function bindLoopVars(h: ForHeader, frame: Record<string, unknown>, item: unknown): void {
  const vars = h.vars;
  if (vars.length === 1) {
    frame[vars[0]] = item;
    return;
  }
  if (!Array.isArray(item) || item.length !== vars.length) {
    throw errorAt(`for ${vars.join(', ')}: cannot unpack ${typeName(item)} into ${vars.length} names`, h.collection.base);
  }
  vars.forEach((v, i) => (frame[v] = item[i]));
}

/**
 * The items the loop walks over: the collection (a mapping gives its keys, or pairs with two
 * names), kept where the `if` holds, then offset, limit and reversed. `inFrame` runs the `if`
 * with the loop's names bound in a frame the engine makes visible to `scope`.
 */
export function loopItems(h: ForHeader, scope: Scope, inFrame: (frame: Record<string, unknown>, fn: () => unknown[]) => unknown[]): unknown[] {
  const coll = evaluateValue(h.collection, scope);
  let items: unknown[];
  if (coll === null || coll === undefined) items = [];
  else if (Array.isArray(coll)) items = coll;
  else if (isMapping(coll)) items = h.vars.length > 1 ? mappingEntries(coll) : mappingKeys(coll);
  else if (typeof coll === 'string') items = [...coll];
  else throw errorAt(`cannot loop over ${typeName(coll)}`, h.collection.base + h.collection.root.s);
  if (h.filter) {
    const f = h.filter;
    const all = items;
    const frame: Record<string, unknown> = Object.create(null);
    items = inFrame(frame, () =>
      all.filter((item) => {
        bindLoopVars(h, frame, item);
        return evaluateTruth(f, scope);
      }),
    );
  }
  const num = (x: Expr) => {
    const v = evaluateValue(x, scope);
    const n = typeof v === 'string' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw errorAt(`for: limit and offset must be integers, got ${typeName(v)}`, x.base + x.root.s);
    return n;
  };
  if (h.offset) items = items.slice(num(h.offset));
  if (h.limit) items = items.slice(0, Math.max(0, num(h.limit)));
  if (h.reversed) items = [...items].reverse();
  return items;
}

/** What `loop.changed()` compares with: the arguments of its previous call in this loop. */
export interface LoopState {
  changed?: unknown[];
}

/** Jinja's `loop` (also bound as Liquid's `forloop`) for item `i`, with both vocabularies. */
export function loopObject(items: unknown[], i: number, parent: unknown, state: LoopState = {}): Record<string, unknown> {
  const n = items.length;
  // Jinja's depth counts recursive loop() calls, not nesting: a plain loop is at depth 1
  const depth = 1;
  const loop: Record<string, unknown> = {
    index: i + 1,
    index0: i,
    rindex: n - i,
    rindex0: n - i - 1,
    revindex: n - i,
    revindex0: n - i - 1,
    first: i === 0,
    last: i === n - 1,
    length: n,
    depth,
    depth0: depth - 1,
    cycle: new FnCallable((args) => {
      if (!args.length) throw new TemplateError('loop.cycle() needs at least one value');
      return args[i % args.length];
    }),
    changed: new FnCallable((args) => {
      const was = state.changed;
      state.changed = args;
      return was === undefined || !deepEqual(was, args);
    }),
  };
  if (i > 0) loop.previtem = items[i - 1];
  if (i < n - 1) loop.nextitem = items[i + 1];
  if (parent !== MISSING) loop.parentloop = parent;
  return loop;
}
