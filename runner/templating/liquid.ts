/**
 * The adapter between liquidjs and the Jinja expression language (./jinja): the only file that
 * imports liquidjs. liquidjs does the template structure (tokenizing, `{% raw %}`,
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

import { Context, Drop, Emitter, Liquid, Parser, Tag, TagToken, Template, Token, TokenKind, Tokenizer, TopLevelToken, toValueSync, TypeGuards } from 'liquidjs';
import { TemplateError } from '../errors';
import type { CompiledTemplate } from './compile';
import { bindLoopVars, evaluateTruth, evaluateValue, Expr, ForHeader, HostObject, loopItems, loopObject, MISSING, outputContent, outputEnd } from './jinja';
import { parseExpression, parseForHeader, Scope, suggest, syntaxError, toText, UNDEFINED_HINT, useEngineFilters } from './jinja';

/** Liquid's parsed form of a template (opaque outside this file). */
export type LiquidTemplates = Template[];

let instance: Liquid | undefined;

/** Whether the engine has been built (for tests of the lazy path). */
export function liquidBuilt(): boolean {
  return instance !== undefined;
}

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

/**
 * A render's context that also lets the language see the scopes tags push (loop variables of
 * `for` and `tablerow`): Context keeps its stack private, so pushes are mirrored here.
 */
class JinjaContext extends Context {
  private readonly frames: Array<Record<string, unknown>> = [];
  /** Variables as the language reads them: pushed scopes, assigned names, then the task's vars. */
  readonly scope: Scope = {
    strict: this.strictVariables,
    lookup: (name) => {
      let v: unknown = MISSING;
      for (let i = this.frames.length - 1; i >= 0 && v === MISSING; i--) v = ownValue(this.frames[i], name);
      if (v === MISSING) v = ownValue(this.bottom(), name);
      if (v === MISSING) v = ownValue(this.environments, name);
      if (v === MISSING) v = ownValue(this.globals, name);
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
}

function ownValue(o: object | undefined, name: string): unknown {
  return o && Object.prototype.hasOwnProperty.call(o, name) ? (o as Record<string, unknown>)[name] : MISSING;
}

function scopeOf(ctx: Context): Scope {
  if (!(ctx instanceof JinjaContext)) throw new Error('internal: a tsplay tag rendered outside a tsplay render');
  return ctx.scope;
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

/** An output whose end is the language's (outputs.ts), not Liquid's first `}}`. */
class ExprToken extends Token {
  readonly contentRange: [number, number];
  readonly trimLeft: boolean;
  readonly trimRight: boolean;
  constructor(input: string, begin: number, end: number, file?: string) {
    super(TokenKind.Output, input, begin, end, file);
    const c = outputContent(input, begin, end);
    this.contentRange = [c.begin, c.end];
    // read by liquidjs's whitespace control, as on its own output tokens
    this.trimLeft = c.trimLeft;
    this.trimRight = c.trimRight;
  }
}

class BalancedTokenizer extends Tokenizer {
  override readOutputToken(options?: Parameters<Tokenizer['readOutputToken']>[0]): ReturnType<Tokenizer['readOutputToken']> {
    const end = outputEnd(this.input, this.p);
    // unbalanced or unclosed: let liquidjs report it its way
    if (end < 0) return super.readOutputToken(options);
    const t = new ExprToken(this.input, this.p, end, this.file);
    this.p = end;
    // typed as liquidjs's own output token; what liquidjs reads of one (kind, trims) ExprToken has
    return t as unknown as ReturnType<Tokenizer['readOutputToken']>;
  }
}

/** Text whose content tsplay decided (trim_blocks dropped its first newline). */
class TextToken extends Token {
  constructor(
    from: Token,
    private readonly content: string,
  ) {
    super(TokenKind.HTML, from.input, from.begin, from.end, from.file);
  }
  getContent(): string {
    return this.content;
  }
}

/**
 * Jinja's trim_blocks, which Ansible turns on: the first newline after a `{% tag %}` is dropped,
 * so a template with tags on their own lines renders without blank lines where the tags were.
 */
function trimBlocks(tokens: TopLevelToken[]): void {
  for (let i = 0; i + 1 < tokens.length; i++) {
    const t = tokens[i];
    const next = tokens[i + 1];
    if (!TypeGuards.isTagToken(t) || t.trimRight || !TypeGuards.isHTMLToken(next)) continue;
    const text = next.getContent();
    const drop = text.startsWith('\n') ? 1 : text.startsWith('\r\n') ? 2 : 0;
    if (drop) tokens[i + 1] = new TextToken(next, text.slice(drop)) as unknown as TopLevelToken;
  }
}

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

function tagExpr(token: TagToken, what: string): Expr {
  const args = token.args;
  if (!args.trim()) throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} needs ${what}`);
  return parseExpression(args, token.contentRange[1] - args.length);
}

/** Parse a block tag's body: `on` names the inner tags it handles; it ends at its `end` tag. */
function parseBody(token: TagToken, remain: TopLevelToken[], parser: Parser, on: Record<string, (t: TagToken) => void>, template: (t: Template) => void): void {
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
    try {
      for (let i = 0; i < items.length; i++) {
        bindLoopVars(this.header, frame, items[i]);
        frame.loop = frame.forloop = loopObject(items, i, parent);
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
  private expr: Expr;
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)/.exec(token.args);
    if (!m) throw syntaxError(token.getText(), 0, token.begin, `expected {% ${token.name} name = expression %}`);
    this.varName = m[1];
    const rest = token.args.slice(m[0].length);
    this.expr = parseExpression(rest, token.contentRange[1] - rest.length);
  }
  *render(ctx: Context): Generator<unknown, void, unknown> {
    ctx.bottom()[this.varName] = evaluateValue(this.expr, scopeOf(ctx));
  }
  exprs(): Expr[] {
    return [this.expr];
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
 * include/render/layout would read files relative to the controller's working directory, and a
 * value that is rendered twice (facts from a host, registered output) could name any file there.
 * Templates are found by the template module (role templates/ lookup); these tags are refused.
 */
class FileTag extends Tag {
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} is not supported: templates cannot read other files`);
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
  const tags = { if: IfTag, unless: IfTag, for: ForTag, assign: AssignTag, set: AssignTag, echo: EchoTag, increment: counterTag(1), decrement: counterTag(-1) };
  for (const [name, tag] of Object.entries(tags)) liquid.registerTag(name, tag);
  for (const name of ['include', 'render', 'layout', 'block']) liquid.registerTag(name, FileTag);
  parser = new JinjaParser(liquid);
  return (instance = liquid);
}

/** Parse with Liquid (compile.ts caches). Throws TemplateError with its offset set where known. */
export function compileLiquid(src: string): CompiledTemplate {
  let templates: Template[];
  try {
    const liquid = engine();
    const tokens = new BalancedTokenizer(src, liquid.options.operators, undefined, undefined, liquid.options.groupedExpressions).readTopLevelTokens(liquid.options);
    trimBlocks(tokens);
    templates = parser!.parseTokens(tokens);
  } catch (e) {
    throw fromLiquidError(e);
  }
  const exprs: Expr[] = [];
  collectExprs(templates, exprs);
  const out: CompiledTemplate = { src, templates, exprs };
  if (templates.every((t) => t instanceof ExprOutput || TypeGuards.isHTMLToken(t.token))) {
    out.parts = templates.map((t) => (t instanceof ExprOutput ? t.expr : (t.token as unknown as { getContent(): string }).getContent()));
    const outputs = templates.filter((t) => t instanceof ExprOutput) as ExprOutput[];
    // native value only for exactly one `{{ }}`: any text around it, even a newline, makes a string (as Ansible)
    if (outputs.length === 1 && out.parts.every((p) => typeof p !== 'string' || p === '')) out.single = outputs[0].expr;
  }
  return out;
}

/** Every expression of a parsed template, in order, through the bodies of any block tag. */
function collectExprs(templates: Template[], out: Expr[]): void {
  for (const t of templates) {
    if (t instanceof ExprOutput) out.push(t.expr);
    if (t instanceof IfTag) {
      for (const b of t.branches) (out.push(b.expr), collectExprs(b.templates, out));
      if (t.elseTemplates) collectExprs(t.elseTemplates, out);
      continue;
    }
    if (t instanceof ForTag || t instanceof AssignTag || t instanceof EchoTag) out.push(...t.exprs());
    // Liquid's own block tags (capture, case, ...) keep their bodies in these fields
    const rec = t as unknown as Record<string, unknown>;
    for (const key of ['templates', 'elseTemplates']) if (Array.isArray(rec[key])) collectExprs(rec[key] as Template[], out);
    if (Array.isArray(rec.branches)) for (const b of rec.branches as Array<{ templates?: Template[] }>) if (Array.isArray(b.templates)) collectExprs(b.templates, out);
  }
}

/** Render a compiled template through Liquid (templates with tags). */
export function renderLiquid(c: CompiledTemplate, vars: Record<string, unknown>, strict: boolean): string {
  if (!c.templates) throw new Error('renderLiquid: a template compiled without Liquid has parts: render those');
  const liquid = engine();
  try {
    const ctx = new JinjaContext(vars, liquid.options, { strictVariables: strict, ownPropertyOnly: true, sync: true }, { liquid });
    return String(liquid.renderSync(c.templates, ctx));
  } catch (e) {
    throw fromLiquidError(e);
  }
}

/** The innermost cause of a liquidjs error, as a TemplateError with its template offset. */
function fromLiquidError(e: unknown): TemplateError {
  let cur = e as (Error & { originalError?: unknown; token?: { begin?: number } }) | undefined;
  let offset: number | undefined;
  while (cur) {
    if (cur instanceof TemplateError) {
      cur.offset ??= offset;
      return cur;
    }
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
