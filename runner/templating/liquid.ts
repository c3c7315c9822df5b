/**
 * The adapter between liquidjs and the Jinja expression language (./jinja): with
 * liquid-context.ts and liquid-files.ts, the only files that import liquidjs. liquidjs does the template structure (tokenizing, `{% raw %}`,
 * `{% comment %}`, `{% capture %}`, `{% case %}`, whitespace control, break/continue); every
 * `{{ }}` and the `if`/`elsif`/`elif`/`unless`, `for`, `assign`/`set` and `echo` tags evaluate
 * with the expression language, so a template, a module argument and a `when` condition all
 * accept the same expressions (Jinja and Liquid spelling).
 *
 * Only public liquidjs API is used: Tokenizer, Parser and Context are subclassed through public
 * methods, tokens are built on the exported Token class. Building the engine costs ~20 ms of CPU
 * and most runs never need it (compile.ts splits text with only `{{ }}` itself): it is built by
 * the first template with `{% %}` tags (or whitespace control), or the first Liquid filter.
 */

import { Context, Emitter, Liquid, Parser, Tag, TagToken, Template, Token, TokenKind, Tokenizer, TopLevelToken, toValueSync, TypeGuards } from 'liquidjs';
import { TemplateError } from '../errors';
import { INLINE, type CompiledTemplate, type ParseOptions, type TemplateRef } from './compile';
import { bindLoopVars, evaluateTruth, evaluateValue, Expr, ForHeader, loopItems, loopObject, outputContent, outputEnd } from './jinja';
import { parseExpression, parseForHeader, suggest, syntaxError, toText, UNDEFINED_HINT, useEngineFilters } from './jinja';
import { innerTemplateError, isNamespace, JinjaContext, parseBody, renderToString, scopeOf, tagExpr, TemplateLoader } from './liquid-context';
import { FILE_TAGS, fileRefs, parsing, renderTree } from './liquid-files';
import { tokenize } from './liquid-tokens';

/** Liquid's parsed form of a template (opaque outside this file). */
export type LiquidTemplates = Template[];

let instance: Liquid | undefined;

/** Whether the engine has been built (for tests of the lazy path). */
export function liquidBuilt(): boolean {
  return instance !== undefined;
}

/** A Liquid context over `vars`, for Liquid's own filters called outside a Liquid render. */
export function filterContext(vars: Record<string, unknown>, strict: boolean): Context {
  const liquid = engine();
  return new Context(vars, liquid.options, { strictVariables: strict }, { liquid });
}

// Liquid's own filters are the language's fallback (size, append, ...)
useEngineFilters({
  has: (name) => !!engine().filters[name],
  names: () => Object.keys(engine().filters),
  apply(name, input, args, kw, ctx) {
    const liquid = engine();
    const impl = liquid.filters[name];
    const handler = typeof impl === 'function' ? impl : impl.handler;
    const self = { context: ctx ?? new Context({}, liquid.options, {}, { liquid }), liquid, token: { getText: () => name } };
    return toValueSync(handler.apply(self as never, [input, ...args, ...Object.entries(kw)]));
  },
});

/** `{{ expr }}`: compiled once at parse time, printed with toText. */
class ExprOutput implements Template {
  readonly expr: Expr;
  constructor(readonly token: Token & { contentRange: [number, number] }) {
    const [b, e] = token.contentRange;
    this.expr = parseExpression(token.input.slice(b, e), b);
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    emitter.write(toText(evaluateValue(this.expr, scopeOf(ctx))));
  }
}

/** Every `{{ }}` is the language's; tags and text are parsed by liquidjs (tags get this parser). */
class JinjaParser extends Parser {
  override parseToken(token: TopLevelToken, remain: TopLevelToken[]): ReturnType<Parser['parseToken']> {
    // liquidjs declares only the kinds it builds itself; its renderer takes any Template
    if (TypeGuards.isOutputToken(token)) return new ExprOutput(token) as unknown as ReturnType<Parser['parseToken']>;
    return super.parseToken(token, remain);
  }
}

/** if / unless with elsif (Liquid) or elif (Jinja) and else. */
class IfTag extends Tag {
  readonly branches: Array<{ expr: Expr; negate: boolean; templates: Template[] }> = [];
  elseTemplates?: Template[];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    let p: Template[] = [];
    this.branches.push({ expr: tagExpr(token, 'a condition'), negate: token.name === 'unless', templates: p });
    const branch = (t: TagToken) => {
      if (this.elseTemplates) throw syntaxError(t.getText(), 0, t.begin, `{% ${t.name} %} after {% else %}`);
      p = [];
      this.branches.push({ expr: tagExpr(t, 'a condition'), negate: false, templates: p });
    };
    const otherwise = (t: TagToken) => {
      if (this.elseTemplates) throw syntaxError(t.getText(), 0, t.begin, 'a second {% else %}');
      p = this.elseTemplates = [];
    };
    parseBody(token, remain, parser, { elsif: branch, elif: branch, else: otherwise }, (tpl) => p.push(tpl));
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const scope = scopeOf(ctx);
    for (const b of this.branches) {
      if (evaluateTruth(b.expr, scope) !== b.negate) {
        yield this.liquid.renderer.renderTemplates(b.templates, ctx, emitter);
        return;
      }
    }
    if (this.elseTemplates) yield this.liquid.renderer.renderTemplates(this.elseTemplates, ctx, emitter);
  }
}

/** for x in list / for k, v in dict (Jinja) with Liquid's limit/offset/reversed and Jinja's `if`. */
class ForTag extends Tag {
  readonly header: ForHeader;
  readonly templates: Template[] = [];
  readonly elseTemplates: Template[] = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    this.header = parseForHeader(token.args, token.contentRange[1] - token.args.length);
    let p = this.templates;
    parseBody(token, remain, parser, { else: () => (p = this.elseTemplates) }, (tpl) => p.push(tpl));
  }

  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const scope = scopeOf(ctx);
    const items = loopItems(this.header, scope, (frame, fn) => {
      ctx.push(frame);
      try {
        return fn();
      } finally {
        ctx.pop();
      }
    });
    const r = this.liquid.renderer;
    if (!items.length) {
      yield r.renderTemplates(this.elseTemplates, ctx, emitter);
      return;
    }
    const parent = scope.lookup('loop');
    const frame: Record<string, unknown> = Object.create(null);
    ctx.push(frame);
    const state = {};
    try {
      for (let i = 0; i < items.length; i++) {
        bindLoopVars(this.header, frame, items[i]);
        frame.loop = frame.forloop = loopObject(items, i, parent, state);
        ctx.continueCalled = ctx.breakCalled = false;
        yield r.renderTemplates(this.templates, ctx, emitter);
        if (ctx.breakCalled) break;
      }
    } finally {
      ctx.continueCalled = ctx.breakCalled = false;
      ctx.pop();
    }
  }
  exprs(): Expr[] {
    const h = this.header;
    return [h.collection, h.filter, h.limit, h.offset].filter((x): x is Expr => !!x);
  }
}

/** assign (Liquid) / set (Jinja): `{% set name = expr %}` */
class AssignTag extends Tag {
  private varName: string;
  /** `{% set ns.attr = v %}`: the attribute of a namespace() */
  private attr?: string;
  private expr?: Expr;
  /** `{% set name %}body{% endset %}`: the rendered body */
  readonly templates?: Template[];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*(=(?!=)|$)/.exec(token.args);
    if (!m || (!m[3] && (token.name !== 'set' || m[2]))) throw syntaxError(token.getText(), 0, token.begin, `expected {% ${token.name} name = expression %}`);
    this.varName = m[1];
    this.attr = m[2];
    if (!m[3]) {
      const body: Template[] = (this.templates = []);
      parseBody(token, remain, parser, {}, (t) => body.push(t));
      return;
    }
    const rest = token.args.slice(m[0].length);
    this.expr = parseExpression(rest, token.contentRange[1] - rest.length);
  }
  *render(ctx: Context): Generator<unknown, void, unknown> {
    const value = this.expr ? evaluateValue(this.expr, scopeOf(ctx)) : renderToString(this.liquid, this.templates!, ctx);
    if (!this.attr) {
      ctx.bottom()[this.varName] = value;
      return;
    }
    const ns = scopeOf(ctx).lookup(this.varName);
    if (!isNamespace(ns)) throw Object.assign(new TemplateError(`{% set ${this.varName}.${this.attr} %}: ${this.varName} is not a namespace()`), { offset: this.token.begin });
    ns[this.attr] = value;
  }
  exprs(): Expr[] {
    return this.expr ? [this.expr] : [];
  }
}

class EchoTag extends Tag {
  private expr: Expr;
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    this.expr = tagExpr(token, 'an expression');
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    emitter.write(toText(evaluateValue(this.expr, scopeOf(ctx))));
  }
  exprs(): Expr[] {
    return [this.expr];
  }
}

/**
 * Liquid's increment/decrement write into the render's input variables; ours count in the
 * template's own scope so rendering never changes the caller's vars.
 */
function counterTag(step: 1 | -1) {
  return class extends Tag {
    private varName: string;
    constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
      super(token, remain, liq);
      this.varName = token.args.trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(this.varName)) throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} needs a variable name`);
    }
    *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
      const key = `\u0000counter:${this.varName}`;
      const bottom = ctx.bottom() as Record<string, unknown>;
      let v = typeof bottom[key] === 'number' ? (bottom[key] as number) : 0;
      if (step < 0) v -= 1;
      emitter.write(String(v));
      if (step > 0) v += 1;
      bottom[key] = v;
    }
  };
}

/**
 * Liquid's render/layout would read files relative to the controller's working directory, and
 * a value that is rendered twice (facts from a host, registered output) could name any file
 * there. Jinja's include/extends/import (liquid-files.ts) read through the template search path.
 */
class LiquidFileTag extends Tag {
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} is not supported: use Jinja's {% include %} / {% extends %}`);
  }
  render(): void {}
}

let parser: JinjaParser | undefined;

/** The one Liquid engine of the process, with tsplay's tags, built on first use. */
function engine(): Liquid {
  if (instance) return instance;
  const liquid = new Liquid({
    // our own tags and outputs handle undefined values; these make Liquid's remaining tags
    // (case, cycle, tablerow, ...) just as strict, and unknown filters an error, not a no-op
    strictVariables: true,
    strictFilters: true,
    // templates read own properties of data only: no `constructor`, no `__proto__`
    ownPropertyOnly: true,
    jsTruthy: false,
    // an Ansible `{%- if -%}` trims every blank around it, as in Jinja
    greedy: true,
  });
  const tags = { if: IfTag, unless: IfTag, for: ForTag, assign: AssignTag, set: AssignTag, echo: EchoTag, increment: counterTag(1), decrement: counterTag(-1), ...FILE_TAGS };
  for (const [name, tag] of Object.entries(tags)) liquid.registerTag(name, tag);
  for (const name of ['render', 'layout']) liquid.registerTag(name, LiquidFileTag);
  parser = new JinjaParser(liquid);
  return (instance = liquid);
}

/** Parse with Liquid (compile.ts caches). Throws TemplateError with its offset set where known. */
export function compileLiquid(src: string, opts: ParseOptions = INLINE): CompiledTemplate {
  let templates: Template[];
  try {
    const liquid = engine();
    parsing.options = opts;
    templates = parser!.parseTokens(tokenize(src, opts, liquid.options));
  } catch (e) {
    throw fromLiquidError(e);
  } finally {
    parsing.options = undefined;
  }
  const exprs: Expr[] = [];
  const refs: TemplateRef[] = [];
  collectExprs(templates, exprs, refs);
  const out: CompiledTemplate = { src, templates, exprs };
  if (refs.length) out.refs = refs;
  if (templates.every((t) => t instanceof ExprOutput || TypeGuards.isHTMLToken(t.token))) {
    out.parts = templates.map((t) => (t instanceof ExprOutput ? t.expr : (t.token as unknown as { getContent(): string }).getContent()));
    const outputs = templates.filter((t) => t instanceof ExprOutput) as ExprOutput[];
    // native value only for exactly one `{{ }}`: any text around it, even a newline, makes a string (as Ansible)
    if (outputs.length === 1 && out.parts.every((p) => typeof p !== 'string' || p === '')) out.single = outputs[0].expr;
  }
  return out;
}

/** Every expression of a parsed template, in order, through the bodies of any block tag. */
function collectExprs(templates: Template[], out: Expr[], refs: TemplateRef[]): void {
  for (const t of templates) {
    if (t instanceof ExprOutput) out.push(t.expr);
    const ref = fileRefs(t);
    if (ref) refs.push(ref);
    if (t instanceof IfTag) {
      for (const b of t.branches) (out.push(b.expr), collectExprs(b.templates, out, refs));
      if (t.elseTemplates) collectExprs(t.elseTemplates, out, refs);
      continue;
    }
    const rec = t as unknown as Record<string, unknown>;
    // tsplay's tags list their expressions
    if (typeof rec.exprs === 'function') out.push(...(rec.exprs as () => Expr[]).call(t));
    // block tags (ours and Liquid's capture, case, ...) keep their bodies in these fields
    for (const key of ['templates', 'elseTemplates']) if (Array.isArray(rec[key])) collectExprs(rec[key] as Template[], out, refs);
    if (Array.isArray(rec.branches)) for (const b of rec.branches as Array<{ templates?: Template[] }>) if (Array.isArray(b.templates)) collectExprs(b.templates, out, refs);
  }
}

/** Render a compiled template through Liquid (templates with tags); `loader` for template files. */
export function renderLiquid(c: CompiledTemplate, vars: Record<string, unknown>, strict: boolean, loader?: TemplateLoader): string {
  if (!c.templates) throw new Error('renderLiquid: a template compiled without Liquid has parts: render those');
  const liquid = engine();
  try {
    const ctx = new JinjaContext(vars, liquid.options, { strictVariables: strict, ownPropertyOnly: true, sync: true }, { liquid });
    ctx.loader = loader;
    return renderTree(liquid, c.templates, ctx);
  } catch (e) {
    throw fromLiquidError(e);
  }
}

/** The innermost cause of a liquidjs error, as a TemplateError with its template offset. */
function fromLiquidError(e: unknown): TemplateError {
  const inner = innerTemplateError(e);
  if (inner) return inner;
  let cur = e as (Error & { originalError?: unknown; token?: { begin?: number } }) | undefined;
  let offset: number | undefined;
  while (cur) {
    if (typeof cur.token?.begin === 'number') offset = cur.token.begin;
    if (!cur.originalError) break;
    cur = cur.originalError as typeof cur;
  }
  const msg = String(cur?.message ?? e).replace(/, (file:[^,]*, )?line:\d+, col:\d+$/, '');
  const undef = /^undefined variable: (.+)$/.exec(msg);
  const tag = /^tag "(\w+)" not found$/.exec(msg);
  const tags = Object.keys(engine().tags);
  const err = undef
    ? new TemplateError(`undefined variable '${undef[1]}'`, undefined, UNDEFINED_HINT)
    : new TemplateError(`template error: ${msg}`, undefined, tag ? (suggest(tag[1], tags) ?? `known tags: ${tags.sort().join(' ')}`) : undefined);
  err.offset = offset;
  return err;
}
