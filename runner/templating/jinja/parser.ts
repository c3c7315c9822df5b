/**
 * The expression language of `{{ }}`, `{% if %}`, `{% for %}` and of `when`-style conditions:
 * Jinja's expression syntax (what Ansible users write) plus Liquid's filter syntax
 * (`| name: arg, key: value`) and `contains`, so both kinds of users are at home.
 *
 * This file only parses tokens (lexer.ts) into a tree (ast.ts); evaluation is in evaluate.ts.
 * Nothing here ever turns text into JavaScript.
 */

import type { BinOp, CmpOp, Expr, Node } from './ast';
import { lex, syntaxError, Tok } from './lexer';

const LITERALS: Record<string, unknown> = {
  true: true,
  True: true,
  false: false,
  False: false,
  none: null,
  None: null,
  null: null,
  nil: null,
};

/** names that can never start an operand (so `x is defined and y` does not take `and` as an argument) */
export const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'contains']);

export class Parser {
  private p = 0;
  private toks: Tok[];
  constructor(private src: string, private base: number) {
    this.toks = lex(src, base);
  }

  protected get cur(): Tok {
    return this.toks[this.p];
  }
  protected peek(k = 1): Tok {
    return this.toks[Math.min(this.p + k, this.toks.length - 1)];
  }
  protected isOp(v: string, t: Tok = this.cur): boolean {
    return t.type === 'op' && t.v === v;
  }
  protected isName(v: string, t: Tok = this.cur): boolean {
    return t.type === 'name' && t.v === v;
  }
  protected next(): Tok {
    const t = this.cur;
    if (t.type !== 'eof') this.p++;
    return t;
  }
  protected fail(msg: string, t: Tok = this.cur): never {
    throw syntaxError(this.src, t.s, this.base, msg);
  }
  protected describe(t: Tok): string {
    if (t.type === 'eof') return 'end of expression';
    if (t.type === 'str') return 'string';
    return `'${t.v}'`;
  }
  private expectOp(v: string): Tok {
    if (!this.isOp(v)) this.fail(`expected '${v}' but found ${this.describe(this.cur)}`);
    return this.next();
  }

  atEnd(): boolean {
    return this.cur.type === 'eof';
  }

  parseAll(): Node {
    if (this.atEnd()) this.fail('empty expression');
    const node = this.expression();
    if (!this.atEnd()) this.fail(`unexpected ${this.describe(this.cur)}`);
    return node;
  }

  expression(noTernary = false): Node {
    const node = this.or();
    if (!noTernary && this.isName('if')) {
      this.next();
      const test = this.or();
      let otherwise: Node | undefined;
      if (this.isName('else')) {
        this.next();
        otherwise = this.expression();
      }
      return { t: 'cond', test, then: node, else: otherwise, s: node.s, e: (otherwise ?? test).e };
    }
    return node;
  }

  /** One left-associative level of binary operators: `next (op next)*`. */
  private level(next: () => Node, ops: readonly string[]): Node {
    const words = /^[a-z]/.test(ops[0]);
    let l = next();
    for (;;) {
      const t = this.cur;
      if (t.type !== (words ? 'name' : 'op') || !ops.includes(t.v as string)) return l;
      this.next();
      const r = next();
      l = t.v === 'and' || t.v === 'or' ? { t: t.v, l, r, s: l.s, e: r.e } : { t: 'bin', op: t.v as BinOp, l, r, s: l.s, e: r.e };
    }
  }

  private or(): Node {
    return this.level(() => this.and(), ['or']);
  }

  private and(): Node {
    return this.level(() => this.not(), ['and']);
  }

  private not(): Node {
    if (this.isName('not')) {
      const t = this.next();
      const x = this.not();
      return { t: 'not', x, s: t.s, e: x.e };
    }
    return this.compare();
  }

  private cmpOp(): CmpOp | undefined {
    const t = this.cur;
    if (t.type === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v as string)) {
      this.next();
      return t.v as CmpOp;
    }
    if (this.isName('in')) {
      this.next();
      return 'in';
    }
    if (this.isName('contains')) {
      this.next();
      return 'contains';
    }
    if (this.isName('not') && this.isName('in', this.peek())) {
      this.next();
      this.next();
      return 'not in';
    }
    return undefined;
  }

  private compare(): Node {
    const first = this.math1();
    const rest: Array<[CmpOp, Node]> = [];
    for (;;) {
      const op = this.cmpOp();
      if (!op) break;
      rest.push([op, this.math1()]);
    }
    if (!rest.length) return first;
    return { t: 'cmp', first, rest, s: first.s, e: rest[rest.length - 1][1].e };
  }

  // arithmetic, loosest first: + -, then ~ (joins as text), then * / // %, then **
  private math1(): Node {
    return this.level(() => this.concat(), ['+', '-']);
  }

  private concat(): Node {
    return this.level(() => this.math2(), ['~']);
  }

  private math2(): Node {
    return this.level(() => this.pow(), ['*', '/', '//', '%']);
  }

  private pow(): Node {
    return this.level(() => this.unary(true), ['**']);
  }

  /** Jinja: filters bind tighter than any operator, but a leading minus takes the filter along. */
  protected unary(withFilters: boolean): Node {
    let node: Node;
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      const x = this.unary(false);
      node = { t: t.v === '-' ? 'neg' : 'pos', x, s: t.s, e: x.e };
    } else {
      node = this.postfix(this.primary());
    }
    return withFilters ? this.filters(node) : node;
  }

  private filters(node: Node): Node {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        node = this.filter(node);
      } else if (this.isName('is')) {
        this.next();
        node = this.test(node);
      } else {
        return node;
      }
    }
  }

  /**
   * A filter's or test's name. Ansible users write collection-qualified names
   * (ansible.builtin.to_json): the last part counts. `e` is where the first part ends.
   */
  private pluginName(what: string, after: string): { name: string; e: number } {
    const t = this.cur;
    if (t.type !== 'name') this.fail(`expected a ${what} name after '${after}' but found ${this.describe(t)}`);
    this.next();
    let name = t.v as string;
    while (this.isOp('.') && this.peek().type === 'name') {
      this.next();
      name = this.next().v as string;
    }
    return { name, e: t.e };
  }

  private filter(x: Node): Node {
    const { name, e: nameEnd } = this.pluginName('filter', '|');
    let args: Node[] = [];
    let kwargs: Array<[string, Node]> = [];
    let e = nameEnd;
    if (this.isOp('(')) {
      ({ args, kwargs } = this.callArgs());
      e = this.toks[this.p - 1].e;
    } else if (this.isOp(':')) {
      // Liquid style: `| name: a, b, key: c`. Arguments are single operands, as in Liquid.
      this.next();
      do {
        if (this.cur.type === 'name' && this.isOp(':', this.peek()) && !KEYWORDS.has(this.cur.v as string)) {
          const k = this.next().v as string;
          this.next();
          kwargs.push([k, this.unary(false)]);
        } else {
          args.push(this.unary(false));
        }
      } while (this.isOp(',') && this.next());
      e = this.toks[this.p - 1].e;
    }
    return { t: 'filter', x, name, args, kwargs, s: x.s, e };
  }

  private test(x: Node): Node {
    let negate = false;
    if (this.isName('not')) {
      this.next();
      negate = true;
    }
    // test names may be words that are literals or keywords elsewhere: `is none`, `is true`, `is in`
    const { name } = this.pluginName('test', 'is');
    let args: Node[] = [];
    let kwargs: Array<[string, Node]> = [];
    if (this.isOp('(')) {
      ({ args, kwargs } = this.callArgs());
    } else if (this.startsOperand()) {
      // Jinja allows one argument without parentheses: `x is divisibleby 3`, `x is sameas none`
      args = [this.postfix(this.primary())];
    }
    return { t: 'test', x, name, args, kwargs, negate, s: x.s, e: this.toks[this.p - 1].e };
  }

  private startsOperand(): boolean {
    const t = this.cur;
    if (t.type === 'num' || t.type === 'str') return true;
    if (t.type === 'name') return !KEYWORDS.has(t.v as string);
    return this.isOp('[') || this.isOp('{');
  }

  private callArgs(): { args: Node[]; kwargs: Array<[string, Node]> } {
    this.expectOp('(');
    const args: Node[] = [];
    const kwargs: Array<[string, Node]> = [];
    while (!this.isOp(')')) {
      if (this.cur.type === 'name' && this.isOp('=', this.peek())) {
        const k = this.next().v as string;
        this.next();
        kwargs.push([k, this.expression()]);
      } else {
        if (kwargs.length) this.fail('positional argument after keyword argument');
        args.push(this.expression());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(')');
    return { args, kwargs };
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.cur;
        if (t.type === 'name') {
          this.next();
          node = { t: 'attr', obj: node, key: t.v as string, s: node.s, e: t.e };
        } else if (t.type === 'num' && Number.isInteger(t.v)) {
          this.next();
          node = { t: 'index', obj: node, key: { t: 'lit', v: t.v, s: t.s, e: t.e }, s: node.s, e: t.e };
        } else {
          this.fail(`expected an attribute name after '.' but found ${this.describe(t)}`);
        }
      } else if (this.isOp('[')) {
        this.next();
        let from: Node | undefined;
        if (!this.isOp(':')) from = this.expression();
        if (this.isOp(':')) {
          this.next();
          let to: Node | undefined;
          let step: Node | undefined;
          if (!this.isOp(']') && !this.isOp(':')) to = this.expression();
          if (this.isOp(':')) {
            this.next();
            if (!this.isOp(']')) step = this.expression();
          }
          const end = this.expectOp(']');
          node = { t: 'slice', obj: node, from, to, step, s: node.s, e: end.e };
        } else {
          const end = this.expectOp(']');
          node = { t: 'index', obj: node, key: from!, s: node.s, e: end.e };
        }
      } else if (this.isOp('(') && (node.t === 'attr' || node.t === 'var')) {
        const { args, kwargs } = this.callArgs();
        node = { t: 'call', fn: node, args, kwargs, s: node.s, e: this.toks[this.p - 1].e };
      } else {
        return node;
      }
    }
  }

  private primary(): Node {
    const t = this.cur;
    if (t.type === 'num' || t.type === 'str') {
      this.next();
      return { t: 'lit', v: t.v, s: t.s, e: t.e };
    }
    if (t.type === 'name') {
      const name = t.v as string;
      if (KEYWORDS.has(name)) this.fail(`unexpected '${name}'`);
      this.next();
      if (Object.prototype.hasOwnProperty.call(LITERALS, name)) return { t: 'lit', v: LITERALS[name], s: t.s, e: t.e };
      return { t: 'var', name, s: t.s, e: t.e };
    }
    if (this.isOp('(')) {
      this.next();
      if (this.isOp(')')) {
        const end = this.next();
        return { t: 'list', items: [], s: t.s, e: end.e };
      }
      const first = this.expression();
      if (this.isOp('..')) {
        // Liquid range (1..5)
        this.next();
        const to = this.expression();
        const end = this.expectOp(')');
        return { t: 'range', from: first, to, s: t.s, e: end.e };
      }
      if (this.isOp(',')) {
        // a tuple is a list here
        const items = [first];
        while (this.isOp(',')) {
          this.next();
          if (this.isOp(')')) break;
          items.push(this.expression());
        }
        const end = this.expectOp(')');
        return { t: 'list', items, s: t.s, e: end.e };
      }
      this.expectOp(')');
      return first;
    }
    if (this.isOp('[')) {
      this.next();
      const items: Node[] = [];
      while (!this.isOp(']')) {
        items.push(this.expression());
        if (!this.isOp(',')) break;
        this.next();
      }
      const end = this.expectOp(']');
      return { t: 'list', items, s: t.s, e: end.e };
    }
    if (this.isOp('{')) {
      this.next();
      const entries: Array<[Node, Node]> = [];
      while (!this.isOp('}')) {
        const k = this.expression();
        this.expectOp(':');
        entries.push([k, this.expression()]);
        if (!this.isOp(',')) break;
        this.next();
      }
      const end = this.expectOp('}');
      return { t: 'dict', entries, s: t.s, e: end.e };
    }
    if (t.type === 'eof') this.fail('unexpected end of expression');
    this.fail(`unexpected ${this.describe(t)}`);
  }
}

const MAX_CACHE = 20000;
const exprCache = new Map<string, Expr>();

function remember<V>(cache: Map<string, V>, key: string, v: V): V {
  // FIFO bound: playbooks have a fixed set of expressions, so this only guards against
  // unbounded growth from expressions built out of data (rendered conditions).
  if (cache.size >= MAX_CACHE) cache.delete(cache.keys().next().value as string);
  cache.set(key, v);
  return v;
}

/** Parse one expression (cached by text). `base` is its offset inside a template. */
export function parseExpression(src: string, base = 0): Expr {
  const key = base === 0 ? src : `${base}\u0000${src}`;
  const hit = exprCache.get(key);
  if (hit) return hit;
  const root = new Parser(src, base).parseAll();
  return remember(exprCache, key, { src, base, root });
}
