/**
 * What the tags of liquid.ts and liquid-files.ts share (liquid*.ts are the only files that
 * import liquidjs): the render context the expression language reads, the body parser of a
 * block tag, and how an error from another template file gets that file's line.
 */

import { Context, Drop, Emitter, Liquid, Parser, TagToken, Template, TopLevelToken, toValueSync } from 'liquidjs';
import { TemplateError } from '../errors';
import { FnCallable, HostObject, isPlainObject, MISSING, parseExpression, Scope, syntaxError } from './jinja';
import type { Expr } from './jinja';

/** A Liquid engine object (tablerowloop) as the language sees it: methods read as attributes. */
class DropView extends HostObject {
  constructor(
    private readonly drop: Drop,
    private readonly ctx: Context,
  ) {
    super();
  }
  attr(key: string): unknown {
    if (key.startsWith('_') || key === 'constructor') return MISSING;
    const x = (this.drop as unknown as Record<string, unknown>)[key];
    const v = typeof x === 'function' ? (x as () => unknown).call(this.drop) : x === undefined ? this.drop.liquidMethodMissing(key, this.ctx) : x;
    return v instanceof Drop ? new DropView(v, this.ctx) : v;
  }
  value(): unknown {
    return this.drop.valueOf();
  }
}

/** A template file found on the template search path, parsed with the including file's options. */
export interface LoadedTemplate {
  file: string;
  /** the text as parsed (its offsets are those of the tokens) */
  text: string;
  templates: Template[];
}

/** Finds `{% include %}` / `{% extends %}` / `{% import %}` names (only template files have one). */
export interface TemplateLoader {
  /** the parsed template, or undefined when no file of that name exists */
  load(name: string): LoadedTemplate | undefined;
  /** where `name` was looked for (for the error when it is missing) */
  searched(name: string): string[];
}

/**
 * A render's context that also lets the language see the scopes tags push (loop variables of
 * `for` and `tablerow`): Context keeps its stack private, so pushes are mirrored here. A child
 * (an included template, a macro call) has its own assignments and reads through to its parent.
 */
export class JinjaContext extends Context {
  private readonly frames: Array<Record<string, unknown>> = [];
  parent?: JinjaContext;
  loader?: TemplateLoader;
  /** `{% block %}` overrides of the templates that extend the one rendering, most derived first */
  blocks?: Map<string, Template[]>;
  /** Variables as the language reads them: pushed scopes, assigned names, then the task's vars. */
  readonly scope: Scope = {
    strict: this.strictVariables,
    lookup: (name) => {
      let v: unknown = MISSING;
      for (let i = this.frames.length - 1; i >= 0 && v === MISSING; i--) v = ownValue(this.frames[i], name);
      if (v === MISSING) v = ownValue(this.bottom(), name);
      if (v === MISSING && this.parent) return this.parent.scope.lookup(name);
      if (v === MISSING) v = ownValue(this.environments, name);
      if (v === MISSING) v = ownValue(this.globals, name);
      if (v === MISSING && name === 'namespace') return NAMESPACE;
      return v instanceof Drop ? new DropView(v, this) : v;
    },
    engine: () => this,
    vars: () => this.environments as Record<string, unknown>,
  };
  override push(scope: object): number {
    this.frames.push(scope as Record<string, unknown>);
    return super.push(scope);
  }
  override pop(): ReturnType<Context['pop']> {
    this.frames.pop();
    return super.pop();
  }
  /** A context for another template or a macro body: its own `set`s, this one's variables. */
  child(liquid: Liquid): JinjaContext {
    const c = new JinjaContext(this.environments, liquid.options, { strictVariables: this.strictVariables, ownPropertyOnly: true, sync: true }, { liquid });
    c.parent = this;
    c.loader = this.loader;
    return c;
  }
}

const namespaces = new WeakSet<object>();

/** Jinja's namespace(): the one kind of object `{% set ns.attr = v %}` may change. */
const NAMESPACE = new FnCallable((args, kw) => {
  const ns: Record<string, unknown> = Object.create(null);
  for (const a of args) if (isPlainObject(a)) Object.assign(ns, a);
  Object.assign(ns, kw);
  namespaces.add(ns);
  return ns;
});

export function isNamespace(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && namespaces.has(v);
}

function ownValue(o: object | undefined, name: string): unknown {
  return o && Object.prototype.hasOwnProperty.call(o, name) ? (o as Record<string, unknown>)[name] : MISSING;
}

export function jinjaContext(ctx: Context): JinjaContext {
  if (!(ctx instanceof JinjaContext)) throw new Error('internal: a tsplay tag rendered outside a tsplay render');
  return ctx;
}

export function scopeOf(ctx: Context): Scope {
  return jinjaContext(ctx).scope;
}

export function tagExpr(token: TagToken, what: string, args = token.args): Expr {
  if (!args.trim()) throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} needs ${what}`);
  return parseExpression(args, token.contentRange[1] - args.length);
}

/** Parse a block tag's body: `on` names the inner tags it handles; it ends at its `end` tag. */
export function parseBody(token: TagToken, remain: TopLevelToken[], parser: Parser, on: Record<string, (t: TagToken) => void>, template: (t: Template) => void): void {
  const stream = parser.parseStream(remain);
  for (const [name, fn] of Object.entries(on)) stream.on(`tag:${name}`, fn);
  stream
    .on(`tag:end${token.name}`, () => stream.stop())
    .on('template', template)
    .on('end', () => {
      throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} is not closed by {% end${token.name} %}`);
    })
    .start();
}

/** Collects what a body renders, for macros, `{% set %}` blocks and `{% filter %}`. */
class StringEmitter implements Emitter {
  buffer = '';
  write(html: unknown): void {
    this.buffer += typeof html === 'string' ? html : String(html ?? '');
  }
}

/** Render templates to a string, synchronously (called from inside an expression). */
export function renderToString(liquid: Liquid, templates: Template[], ctx: Context): string {
  const out = new StringEmitter();
  toValueSync(liquid.renderer.renderTemplates(templates, ctx, out));
  return out.buffer;
}

/** Line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/**
 * The innermost TemplateError of a liquidjs error chain (liquidjs wraps what tags throw),
 * or undefined when there is none.
 */
export function innerTemplateError(e: unknown): TemplateError | undefined {
  let cur = e as (Error & { originalError?: unknown; token?: { begin?: number } }) | undefined;
  let offset: number | undefined;
  while (cur) {
    if (cur instanceof TemplateError) {
      cur.offset ??= offset;
      return cur;
    }
    if (typeof cur.token?.begin === 'number') offset = cur.token.begin;
    cur = cur.originalError as typeof cur;
  }
  return undefined;
}

/**
 * Run `fn` (rendering something parsed from `src`): an error in it that has no place yet gets
 * its line in that file, so an error in an included template names the included file.
 */
export function inFile<T>(src: { text: string; file?: string }, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const err = innerTemplateError(e);
    if (!err || err.location || !src.file || err.offset === undefined) throw e;
    err.location = { file: src.file, ...lineColumn(src.text, err.offset) };
    throw err;
  }
}
