/**
 * Jinja's statements that span templates or define callables, for template files (the template
 * module): `{% include %}`, `{% extends %}` / `{% block %}` (+ `super()`), `{% import %}` /
 * `{% from ... import %}`, `{% macro %}` / `{% call %}` (+ `caller()`), and the body statements
 * `{% filter %}` and `{% with %}`. Other templates are found through the render's TemplateLoader
 * (the template search path, Ansible's order); a string in a module argument has none, so there
 * these tags are refused when parsed.
 */

import { Context, Emitter, Liquid, Parser, Tag, TagToken, Template, TopLevelToken } from 'liquidjs';
import { TemplateError } from '../errors';
import type { ParseOptions } from './compile';
import { Callable, evaluateValue, Expr, FnCallable, HostObject, isPlainObject, Kwargs, MISSING, Node, parseExpression, syntaxError, Undefined } from './jinja';
import { inFile, JinjaContext, jinjaContext, LoadedTemplate, parseBody, renderToString, scopeOf, tagExpr } from './liquid-context';

/** The options of the template being parsed (parsing is synchronous; set by compileLiquid). */
export const parsing: { options?: ParseOptions } = {};

function needFile(token: TagToken): void {
  if (!parsing.options?.file) throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} works in template files only (the template module), not in a string`);
}

const sub = (x: Expr, root: Node): Expr => ({ src: x.src, base: x.base, root });

/** `name` of the template expression `x`: a string, or a list of names tried in order. */
function templateNames(token: TagToken, x: Expr, ctx: Context): string[] {
  const v = evaluateValue(x, scopeOf(ctx));
  const names = Array.isArray(v) ? v : [v];
  if (!names.length || names.some((n) => typeof n !== 'string' || !n)) throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} needs a template name (a string or a list of them)`);
  return names as string[];
}

function load(token: TagToken, x: Expr, ctx: Context, optional = false): LoadedTemplate | undefined {
  const c = jinjaContext(ctx);
  const names = templateNames(token, x, ctx);
  for (const n of names) {
    const t = c.loader!.load(n);
    if (t) return t;
  }
  if (optional) return undefined;
  const err = new TemplateError(`template '${names.join("', '")}' not found`, undefined, `searched: ${names.flatMap((n) => c.loader!.searched(n)).join(', ')}`);
  err.offset = token.begin;
  throw err;
}

/**
 * Render a template's parsed form. One that `{% extends %}` another renders the parent with its
 * blocks in place of the parent's (its own text outside blocks is dropped, its `set`s, macros
 * and imports run first).
 */
export function renderTree(liquid: Liquid, templates: Template[], ctx: JinjaContext): string {
  const ext = templates.find((t): t is ExtendsTag => t instanceof ExtendsTag);
  if (!ext) return renderToString(liquid, templates, ctx);
  renderToString(
    liquid,
    templates.filter((t) => t instanceof MacroTag || t instanceof ImportTag || (t as unknown as { token: { name?: string } }).token.name === 'set'),
    ctx,
  );
  const blocks = new Map<string, Template[]>(ctx.blocks ?? []);
  for (const b of blocksIn(templates)) blocks.set(b.blockName, [...(blocks.get(b.blockName) ?? []), b]);
  const parent = load(ext.token, ext.expr, ctx)!;
  const saved = ctx.blocks;
  ctx.blocks = blocks;
  try {
    return inFile(parent, () => renderTree(liquid, parent.templates, ctx));
  } finally {
    ctx.blocks = saved;
  }
}

function blocksIn(templates: Template[], out: BlockTag[] = []): BlockTag[] {
  for (const t of templates) {
    if (t instanceof BlockTag) out.push(t);
    const rec = t as unknown as Record<string, unknown>;
    for (const key of ['templates', 'elseTemplates']) if (Array.isArray(rec[key])) blocksIn(rec[key] as Template[], out);
    if (Array.isArray(rec.branches)) for (const b of rec.branches as Array<{ templates?: Template[] }>) if (b.templates) blocksIn(b.templates, out);
  }
  return out;
}

abstract class FileTag extends Tag {
  abstract readonly expr: Expr;
  /** a literal name the static check can look for before the run */
  optional = false;
  exprs(): Expr[] {
    return [this.expr];
  }
}

/** `{% include 'x' [ignore missing] [with context | without context] %}`: the current variables. */
class IncludeTag extends FileTag {
  readonly expr: Expr;
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    needFile(token);
    const m = /^(.*?)(\s+ignore\s+missing)?(\s+(?:with|without)\s+context)?\s*$/s.exec(token.args)!;
    this.optional = !!m[2];
    this.expr = tagExpr(token, 'a template name', m[1]);
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const t = load(this.token, this.expr, ctx, this.optional);
    if (t) emitter.write(inFile(t, () => renderTree(this.liquid, t.templates, jinjaContext(ctx).child(this.liquid))));
  }
}

class ExtendsTag extends FileTag {
  readonly expr: Expr;
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    needFile(token);
    this.expr = tagExpr(token, 'a template name');
  }
  render(): void {}
}

/** `{% block name %}`: its own body, or the body of the most derived template that overrides it. */
class BlockTag extends Tag {
  readonly blockName: string;
  readonly templates: Template[] = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    needFile(token);
    const m = /^\s*([A-Za-z_]\w*)(\s+scoped)?\s*$/.exec(token.args);
    if (!m) throw syntaxError(token.getText(), 0, token.begin, '{% block %} needs a name');
    this.blockName = m[1];
    parseBody(token, remain, parser, {}, (t) => this.templates.push(t));
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const c = jinjaContext(ctx);
    const chain = [...(c.blocks?.get(this.blockName) ?? [])] as BlockTag[];
    if (!chain.includes(this)) chain.push(this);
    emitter.write(renderBlock(this.liquid, chain, 0, c));
  }
}

function renderBlock(liquid: Liquid, chain: BlockTag[], i: number, ctx: JinjaContext): string {
  const b = chain[i];
  const frame = {
    super: new FnCallable(() => {
      if (i + 1 >= chain.length) throw new TemplateError(`super(): block '${b.blockName}' has no parent block`);
      return renderBlock(liquid, chain, i + 1, ctx);
    }),
  };
  ctx.push(frame);
  try {
    return inFile({ text: b.token.input, file: b.token.file }, () => renderToString(liquid, b.templates, ctx));
  } finally {
    ctx.pop();
  }
}

/** What `{% import 'x' as m %}` binds: the macros and top-level `set`s of x. */
class TemplateModule extends HostObject {
  constructor(
    private readonly name: string,
    private readonly exports: Record<string, unknown>,
  ) {
    super();
  }
  attr(key: string): unknown {
    return Object.prototype.hasOwnProperty.call(this.exports, key) ? this.exports[key] : MISSING;
  }
  value(): unknown {
    return `<template module ${this.name}>`;
  }
}

/** `{% import 'x' as m %}` and `{% from 'x' import a, b as c %}` */
class ImportTag extends FileTag {
  readonly expr: Expr;
  private readonly as?: string;
  private readonly names: Array<[string, string]> = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    needFile(token);
    const args = token.args.replace(/\s+(?:with|without)\s+context\s*$/, '');
    const m = token.name === 'import' ? /^(.*?)\s+as\s+([A-Za-z_]\w*)\s*$/s.exec(args) : /^(.*?)\s+import\s+(.+?)\s*$/s.exec(args);
    if (!m) throw syntaxError(token.getText(), 0, token.begin, token.name === 'import' ? "expected {% import 'file' as name %}" : "expected {% from 'file' import name, other as alias %}");
    this.expr = tagExpr(token, 'a template name', m[1]);
    if (token.name === 'import') this.as = m[2];
    else {
      for (const part of m[2].split(',')) {
        const n = /^\s*([A-Za-z_]\w*)(?:\s+as\s+([A-Za-z_]\w*))?\s*$/.exec(part);
        if (!n) throw syntaxError(token.getText(), 0, token.begin, `cannot import '${part.trim()}'`);
        this.names.push([n[1], n[2] ?? n[1]]);
      }
    }
  }
  *render(ctx: Context): Generator<unknown, void, unknown> {
    const t = load(this.token, this.expr, ctx)!;
    const c = jinjaContext(ctx).child(this.liquid);
    inFile(t, () => renderTree(this.liquid, t.templates, c));
    const exports = { ...c.bottom() } as Record<string, unknown>;
    const into = ctx.bottom() as Record<string, unknown>;
    if (this.as) into[this.as] = new TemplateModule(t.file, exports);
    for (const [name, as] of this.names) {
      if (!Object.prototype.hasOwnProperty.call(exports, name)) throw new TemplateError(`template ${t.file} has no macro or variable '${name}' to import`);
      into[as] = exports[name];
    }
  }
}

/** Parameters as written in `name(a, b='x')`: names and default expressions. */
function parseParams(token: TagToken, src: string, base: number, what: string): { name: string; params: Array<{ name: string; default?: Expr }> } {
  const x = parseExpression(src, base);
  const r = x.root;
  if (r.t !== 'call' || r.fn.t !== 'var' || r.args.some((a) => a.t !== 'var')) throw syntaxError(token.getText(), 0, token.begin, `expected ${what}`);
  const params: Array<{ name: string; default?: Expr }> = r.args.map((a) => ({ name: (a as { name: string }).name }));
  for (const [k, v] of r.kwargs) params.push({ name: k, default: sub(x, v) });
  return { name: r.fn.name, params };
}

/** Bind a call's arguments to parameters, Jinja's way (missing ones are undefined). */
function bindArgs(what: string, params: Array<{ name: string; default?: Expr }>, args: unknown[], kw: Kwargs, scope: JinjaContext): Record<string, unknown> {
  const frame: Record<string, unknown> = Object.create(null);
  const rest = { ...kw };
  params.forEach((p, i) => {
    if (i < args.length) frame[p.name] = args[i];
    else if (Object.prototype.hasOwnProperty.call(rest, p.name)) frame[p.name] = rest[p.name];
    else frame[p.name] = p.default ? evaluateValue(p.default, scope.scope) : new Undefined(p.name);
    delete rest[p.name];
  });
  frame.varargs = args.slice(params.length);
  frame.kwargs = rest;
  if (!isPlainObject(rest)) throw new TemplateError(`${what}: bad keyword arguments`);
  return frame;
}

/** A macro: renders its body with the arguments, in the template that defined it. */
class Macro extends Callable {
  constructor(
    private readonly tag: MacroTag,
    private readonly ctx: JinjaContext,
  ) {
    super();
  }
  call(args: unknown[], kw: Kwargs, caller?: Callable): unknown {
    const t = this.tag;
    const c = this.ctx.child(t.liquid);
    const frame = bindArgs(`macro ${t.macroName}()`, t.params, args, kw, this.ctx);
    if (caller) frame.caller = caller;
    c.push(frame);
    return inFile({ text: t.token.input, file: t.token.file }, () => renderToString(t.liquid, t.templates, c));
  }
}

class MacroTag extends Tag {
  readonly macroName: string;
  readonly params: Array<{ name: string; default?: Expr }>;
  readonly templates: Template[] = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    needFile(token);
    const base = token.contentRange[1] - token.args.length;
    const args = /\)\s*$/.test(token.args) ? token.args : `${token.args.trimEnd()}()`;
    const sig = parseParams(token, args, base, '{% macro name(arg, other=default) %}');
    this.macroName = sig.name;
    this.params = sig.params;
    parseBody(token, remain, parser, {}, (t) => this.templates.push(t));
  }
  *render(ctx: Context): Generator<unknown, void, unknown> {
    (ctx.bottom() as Record<string, unknown>)[this.macroName] = new Macro(this, jinjaContext(ctx));
  }
  exprs(): Expr[] {
    return this.params.flatMap((p) => (p.default ? [p.default] : []));
  }
}

/** `{% call [(params)] macro(args) %}body{% endcall %}`: the macro gets `caller()` rendering body. */
class CallTag extends Tag {
  private readonly call: Expr;
  private readonly params: Array<{ name: string; default?: Expr }> = [];
  readonly templates: Template[] = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    needFile(token);
    let args = token.args;
    let base = token.contentRange[1] - args.length;
    const m = /^\s*\(([^)]*)\)/.exec(args);
    if (m) {
      this.params = parseParams(token, `caller(${m[1]})`, base + m[0].indexOf('(') - 6, '{% call(a, b) macro(...) %}').params;
      base += m[0].length;
      args = args.slice(m[0].length);
    }
    this.call = tagExpr(token, 'a macro call', args);
    if (this.call.root.t !== 'call') throw syntaxError(token.getText(), 0, token.begin, 'expected {% call macro(arguments) %}');
    parseBody(token, remain, parser, {}, (t) => this.templates.push(t));
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const r = this.call.root as Extract<Node, { t: 'call' }>;
    const c = jinjaContext(ctx);
    const fn = evaluateValue(sub(this.call, r.fn), c.scope);
    if (!(fn instanceof Macro)) throw Object.assign(new TemplateError('{% call %} needs a macro'), { offset: this.token.begin });
    const args = r.args.map((a) => evaluateValue(sub(this.call, a), c.scope));
    const kw: Kwargs = {};
    for (const [k, v] of r.kwargs) kw[k] = evaluateValue(sub(this.call, v), c.scope);
    const caller = new FnCallable((a, k) => {
      c.push(bindArgs('caller()', this.params, a, k, c));
      try {
        return renderToString(this.liquid, this.templates, c);
      } finally {
        c.pop();
      }
    });
    emitter.write(String(fn.call(args, kw, caller)));
  }
  exprs(): Expr[] {
    return [this.call];
  }
}

/** `{% filter upper %}` / `{% filter replace('a', 'b') | trim %}`: filters applied to the body. */
class FilterTag extends Tag {
  private readonly expr: Expr;
  readonly templates: Template[] = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    if (!token.args.trim()) throw syntaxError(token.getText(), 0, token.begin, '{% filter %} needs a filter');
    const lead = '__body | ';
    this.expr = parseExpression(lead + token.args, token.contentRange[1] - token.args.length - lead.length);
    parseBody(token, remain, parser, {}, (t) => this.templates.push(t));
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    ctx.push({ __body: renderToString(this.liquid, this.templates, ctx) });
    try {
      emitter.write(String(evaluateValue(this.expr, scopeOf(ctx)) ?? ''));
    } finally {
      ctx.pop();
    }
  }
  exprs(): Expr[] {
    return [this.expr];
  }
}

/** `{% with a = 1, b = x %}...{% endwith %}`: names for the body only. */
class WithTag extends Tag {
  private readonly expr: Expr;
  readonly templates: Template[] = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    const lead = '__with(';
    this.expr = parseExpression(`${lead}${token.args})`, token.contentRange[1] - token.args.length - lead.length);
    const r = this.expr.root;
    if (r.t !== 'call' || r.args.length) throw syntaxError(token.getText(), 0, token.begin, 'expected {% with name = value, other = value %}');
    parseBody(token, remain, parser, {}, (t) => this.templates.push(t));
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const r = this.expr.root as Extract<Node, { t: 'call' }>;
    const frame: Record<string, unknown> = Object.create(null);
    for (const [k, v] of r.kwargs) frame[k] = evaluateValue(sub(this.expr, v), scopeOf(ctx));
    ctx.push(frame);
    try {
      emitter.write(renderToString(this.liquid, this.templates, ctx));
    } finally {
      ctx.pop();
    }
  }
  exprs(): Expr[] {
    const r = this.expr.root as Extract<Node, { t: 'call' }>;
    return r.kwargs.map(([, v]) => sub(this.expr, v));
  }
}

export const FILE_TAGS = { include: IncludeTag, extends: ExtendsTag, block: BlockTag, import: ImportTag, from: ImportTag, macro: MacroTag, call: CallTag, filter: FilterTag, with: WithTag };

/** The template names a parsed template refers to literally, for the check before the run. */
export function fileRefs(t: Template): { names: string[]; offset: number; optional: boolean } | undefined {
  if (!(t instanceof FileTag)) return undefined;
  const r = t.expr.root;
  const lit = (n: Node) => (n.t === 'lit' && typeof n.v === 'string' ? n.v : undefined);
  const names = r.t === 'list' ? r.items.map(lit) : [lit(r)];
  if (!names.length || names.some((n) => n === undefined)) return undefined;
  return { names: names as string[], offset: t.token.begin, optional: t.optional };
}
