/**
 * The syntax tree of the expression language (what parser.ts builds and evaluate.ts walks),
 * and the one question asked of a tree without evaluating it: which variables it reads.
 */

export type Node =
  | { t: 'lit'; v: unknown; s: number; e: number }
  | { t: 'var'; name: string; s: number; e: number }
  | { t: 'attr'; obj: Node; key: string; s: number; e: number }
  | { t: 'index'; obj: Node; key: Node; s: number; e: number }
  | { t: 'slice'; obj: Node; from?: Node; to?: Node; step?: Node; s: number; e: number }
  | { t: 'list'; items: Node[]; s: number; e: number }
  | { t: 'dict'; entries: Array<[Node, Node]>; s: number; e: number }
  | { t: 'range'; from: Node; to: Node; s: number; e: number }
  | { t: 'not'; x: Node; s: number; e: number }
  | { t: 'neg'; x: Node; s: number; e: number }
  | { t: 'pos'; x: Node; s: number; e: number }
  | { t: 'and' | 'or'; l: Node; r: Node; s: number; e: number }
  | { t: 'bin'; op: BinOp; l: Node; r: Node; s: number; e: number }
  | { t: 'cmp'; first: Node; rest: Array<[CmpOp, Node]>; s: number; e: number }
  | { t: 'filter'; x: Node; name: string; args: Node[]; kwargs: Array<[string, Node]>; s: number; e: number }
  | { t: 'test'; x: Node; name: string; args: Node[]; kwargs: Array<[string, Node]>; negate: boolean; s: number; e: number }
  | { t: 'cond'; test: Node; then: Node; else?: Node; s: number; e: number }
  | { t: 'call'; fn: Node; args: Node[]; kwargs: Array<[string, Node]>; s: number; e: number };

export type BinOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '~';
export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in' | 'contains';

/** A parsed expression with the text it came from (for error messages and undefined names). */
export interface Expr {
  src: string;
  /** where `src` starts inside a larger text (a template), for error positions */
  base: number;
  root: Node;
}

/** The header of `{% for a[, b] in coll [if cond] [limit: n] [offset: n] [reversed] %}`. */
export interface ForHeader {
  vars: string[];
  collection: Expr;
  filter?: Expr;
  limit?: Expr;
  offset?: Expr;
  reversed: boolean;
}

/** Top-level variable names an expression reads (not names bound by loops inside it). */
export function referencedNames(node: Node, out: Set<string> = new Set()): Set<string> {
  const walk = (n: Node | undefined): void => {
    if (!n) return;
    switch (n.t) {
      case 'lit':
        return;
      case 'var':
        out.add(n.name);
        return;
      case 'attr':
        return walk(n.obj);
      case 'index':
        walk(n.obj);
        return walk(n.key);
      case 'slice':
        walk(n.obj);
        walk(n.from);
        walk(n.to);
        return walk(n.step);
      case 'list':
        return n.items.forEach(walk);
      case 'dict':
        return n.entries.forEach(([k, v]) => (walk(k), walk(v)));
      case 'range':
        walk(n.from);
        return walk(n.to);
      case 'not':
      case 'neg':
      case 'pos':
        return walk(n.x);
      case 'and':
      case 'or':
      case 'bin':
        walk(n.l);
        return walk(n.r);
      case 'cmp':
        walk(n.first);
        return n.rest.forEach(([, x]) => walk(x));
      case 'filter':
      case 'test':
        walk(n.x);
        n.args.forEach(walk);
        return n.kwargs.forEach(([, x]) => walk(x));
      case 'cond':
        walk(n.test);
        walk(n.then);
        return walk(n.else);
      case 'call':
        // a global function name (range) is not a variable
        if (n.fn.t !== 'var') walk(n.fn);
        n.args.forEach(walk);
        return n.kwargs.forEach(([, x]) => walk(x));
    }
  };
  walk(node);
  return out;
}
