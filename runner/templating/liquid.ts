/**
 * Liquid templates with the tsplay expression language inside. liquidjs does the template
 * structure (tokenizing, `{% raw %}`, `{% comment %}`, `{% capture %}`, `{% case %}`,
 * whitespace control, break/continue); every `{{ }}` and the `if`/`elsif`/`elif`/`unless`,
 * `for`, `assign`/`set` and `echo` tags evaluate with expression.ts, so a template, a module
 * argument and a `when` condition all accept the same expressions (Jinja and Liquid spelling).
 */

import { Context, Emitter, Liquid, Parser, Tag, TagToken, Template, TopLevelToken, Tokenizer, TypeGuards } from 'liquidjs';
import type { OutputToken } from 'liquidjs/dist/tokens/output-token';
import { TemplateError } from '../errors';
import { evaluateTruth, evaluateValue, Scope, suggest } from './evaluate';
import { errorOffsets, Expr, ForHeader, parseExpression, parseForHeader, syntaxError } from './expression';
import type { CompiledTemplate } from './compile';
import { getLiquid } from './liquid-instance';
import { isMapping, mappingEntries, mappingKeys, MISSING, toText, typeName, UNDEFINED_HINT } from './values';

type LiquidOptions = ReturnType<typeof getLiquid>['options'];

interface OutputTokenLike {
  input: string;
  begin: number;
  end: number;
  contentRange: [number, number];
  getText(): string;
}

/** Variables as seen from inside a Liquid render: loop/assign scopes, then the task's vars. */
const scopeCache = new WeakMap<Context, Scope>();
export function contextScope(ctx: Context): Scope {
  let s = scopeCache.get(ctx);
  if (!s) {
    const scopes = (ctx as unknown as { scopes: Array<Record<string, unknown>> }).scopes;
    const own = Object.prototype.hasOwnProperty;
    s = {
      strict: ctx.strictVariables,
      lookup(name: string): unknown {
        for (let i = scopes.length - 1; i >= 0; i--) if (own.call(scopes[i], name)) return scopes[i][name];
        const env = ctx.environments as Record<string, unknown>;
        if (own.call(env, name)) return env[name];
        const g = ctx.globals as Record<string, unknown> | undefined;
        if (g && own.call(g, name)) return g[name];
        return MISSING;
      },
      liquidContext: () => ctx,
    };
    scopeCache.set(ctx, s);
  }
  return s;
}

/** `{{ expr }}`: compiled once at parse time, printed with toText. */
export class ExprOutput implements Template {
  readonly expr: Expr;
  constructor(readonly token: OutputTokenLike & TopLevelToken) {
    const [b, e] = token.contentRange;
    this.expr = parseExpression(token.input.slice(b, e), b);
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    emitter.write(toText(evaluateValue(this.expr, contextScope(ctx))));
  }
}

function tagExpr(token: TagToken, what: string): Expr {
  const args = token.args;
  const offset = token.contentRange[1] - args.length;
  if (!args.trim()) throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} needs ${what}`);
  return parseExpression(args, offset);
}

function renderer(tag: Tag) {
  return tag.liquid.renderer;
}

/** if / unless with elsif (Liquid) or elif (Jinja) and else. */
class IfTag extends Tag {
  private branches: Array<{ expr: Expr; negate: boolean; templates: Template[] }> = [];
  private elseTemplates?: Template[];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    let p: Template[] = [];
    this.branches.push({ expr: tagExpr(token, 'a condition'), negate: token.name === 'unless', templates: p });
    const branch = (t: TagToken) => {
      if (this.elseTemplates) throw syntaxError(t.getText(), 0, t.begin, `{% ${t.name} %} after {% else %}`);
      p = [];
      this.branches.push({ expr: tagExpr(t, 'a condition'), negate: false, templates: p });
    };
    const stream: ReturnType<Parser['parseStream']> = parser
      .parseStream(remain)
      .on('tag:elsif', branch)
      .on('tag:elif', branch)
      .on('tag:else', (t: TagToken) => {
        if (this.elseTemplates) throw syntaxError(t.getText(), 0, t.begin, 'a second {% else %}');
        p = this.elseTemplates = [];
      })
      .on(`tag:end${token.name}`, () => {
        stream.stop();
      })
      .on('template', (tpl: Template) => {
        p.push(tpl);
      })
      .on('end', () => {
        throw syntaxError(token.getText(), 0, token.begin, `{% ${token.name} %} is not closed by {% end${token.name} %}`);
      });
    stream.start();
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const scope = contextScope(ctx);
    for (const b of this.branches) {
      if (evaluateTruth(b.expr, scope) !== b.negate) {
        yield renderer(this).renderTemplates(b.templates, ctx, emitter);
        return;
      }
    }
    if (this.elseTemplates) yield renderer(this).renderTemplates(this.elseTemplates, ctx, emitter);
  }
}

/** for x in list / for k, v in dict (Jinja) with Liquid's limit/offset/reversed and Jinja's `if`. */
class ForTag extends Tag {
  private header: ForHeader;
  private templates: Template[] = [];
  private elseTemplates: Template[] = [];
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid, parser: Parser) {
    super(token, remain, liq);
    const args = token.args;
    this.header = parseForHeader(args, token.contentRange[1] - args.length);
    let p = this.templates;
    const stream: ReturnType<Parser['parseStream']> = parser
      .parseStream(remain)
      .on('tag:else', () => {
        p = this.elseTemplates;
      })
      .on('tag:endfor', () => {
        stream.stop();
      })
      .on('template', (tpl: Template) => {
        p.push(tpl);
      })
      .on('end', () => {
        throw syntaxError(token.getText(), 0, token.begin, '{% for %} is not closed by {% endfor %}');
      });
    stream.start();
  }

  private items(ctx: Context): unknown[] {
    const h = this.header;
    const scope = contextScope(ctx);
    const coll = evaluateValue(h.collection, scope);
    let items: unknown[];
    if (coll === null || coll === undefined) items = [];
    else if (Array.isArray(coll)) items = coll;
    else if (isMapping(coll)) items = h.vars.length > 1 ? mappingEntries(coll) : mappingKeys(coll);
    else if (typeof coll === 'string') items = [...coll];
    else {
      const err = new TemplateError(`cannot loop over ${typeName(coll)}`);
      errorOffsets.set(err, h.collection.base + h.collection.root.s);
      throw err;
    }
    if (h.filter) {
      const f = h.filter;
      const tmp: Record<string, unknown> = Object.create(null);
      ctx.push(tmp);
      try {
        items = items.filter((item) => {
          this.bind(tmp, item);
          return evaluateTruth(f, scope);
        });
      } finally {
        ctx.pop();
      }
    }
    const num = (x: Expr) => {
      const v = evaluateValue(x, scope);
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) {
        const err = new TemplateError(`for: limit and offset must be integers, got ${typeName(v)}`);
        errorOffsets.set(err, x.base + x.root.s);
        throw err;
      }
      return n;
    };
    if (h.offset) items = items.slice(num(h.offset));
    if (h.limit) items = items.slice(0, Math.max(0, num(h.limit)));
    if (h.reversed) items = [...items].reverse();
    return items;
  }

  private bind(scope: Record<string, unknown>, item: unknown): void {
    const vars = this.header.vars;
    if (vars.length === 1) {
      scope[vars[0]] = item;
      return;
    }
    if (!Array.isArray(item) || item.length !== vars.length) {
      const err = new TemplateError(`for ${vars.join(', ')}: cannot unpack ${typeName(item)} into ${vars.length} names`);
      errorOffsets.set(err, this.header.collection.base);
      throw err;
    }
    vars.forEach((v, i) => (scope[v] = item[i]));
  }

  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    const items = this.items(ctx);
    const r = renderer(this);
    if (!items.length) {
      yield r.renderTemplates(this.elseTemplates, ctx, emitter);
      return;
    }
    const parent = contextScope(ctx).lookup('loop');
    const scope: Record<string, unknown> = Object.create(null);
    ctx.push(scope);
    try {
      const n = items.length;
      for (let i = 0; i < n; i++) {
        this.bind(scope, items[i]);
        // Jinja's `loop` and Liquid's `forloop`, with both vocabularies
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
          depth: parent !== MISSING && isMapping(parent) ? Number((parent as Record<string, unknown>).depth) + 1 : 1,
        };
        if (i > 0) loop.previtem = items[i - 1];
        if (i < n - 1) loop.nextitem = items[i + 1];
        if (parent !== MISSING) loop.parentloop = parent;
        scope.loop = loop;
        scope.forloop = loop;
        ctx.continueCalled = ctx.breakCalled = false;
        yield r.renderTemplates(this.templates, ctx, emitter);
        if (ctx.breakCalled) break;
      }
    } finally {
      ctx.continueCalled = ctx.breakCalled = false;
      ctx.pop();
    }
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
    ctx.bottom()[this.varName] = evaluateValue(this.expr, contextScope(ctx));
  }
}

class EchoTag extends Tag {
  private expr: Expr;
  constructor(token: TagToken, remain: TopLevelToken[], liq: Liquid) {
    super(token, remain, liq);
    this.expr = tagExpr(token, 'an expression');
  }
  *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    emitter.write(toText(evaluateValue(this.expr, contextScope(ctx))));
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

type OutputTokenCtor = new (input: string, begin: number, end: number, options: LiquidOptions, file?: string) => OutputToken;
let OutputTokenClass: OutputTokenCtor;
let ready: Liquid | undefined;

/**
 * The Liquid engine with tsplay's tags, set up by the first template that needs it (most
 * templates are only `{{ }}` and never do: compile.ts).
 */
function engine(): Liquid {
  if (ready) return ready;
  const liquid = getLiquid();
  liquid.registerTag('if', IfTag);
  liquid.registerTag('unless', IfTag);
  liquid.registerTag('for', ForTag);
  liquid.registerTag('assign', AssignTag);
  liquid.registerTag('set', AssignTag);
  liquid.registerTag('echo', EchoTag);
  for (const name of ['include', 'render', 'layout', 'block']) liquid.registerTag(name, FileTag);
  liquid.registerTag('increment', counterTag(1));
  liquid.registerTag('decrement', counterTag(-1));

  // Every `{{ }}` goes to ExprOutput. liquid.parser is also the parser include/render use.
  const parser = liquid.parser;
  const parseToken = parser.parseToken.bind(parser);
  parser.parseToken = ((token: TopLevelToken, remain: TopLevelToken[]) => {
    if (TypeGuards.isOutputToken(token)) return new ExprOutput(token as unknown as OutputTokenLike & TopLevelToken);
    return parseToken(token, remain);
  }) as Parser['parseToken'];

  // liquidjs does not export OutputToken; take its constructor from a token it made
  OutputTokenClass = new Tokenizer('{{x}}').readTopLevelTokens(liquid.options)[0].constructor as OutputTokenCtor;
  return (ready = liquid);
}

/**
 * Liquid ends an output at the first `}}` outside quotes; Jinja (and so Ansible users) may
 * write dict literals there: `{{ {'a': {'b': 1}} }}`. Brackets are balanced before `}}` ends it.
 */
class BalancedTokenizer extends Tokenizer {
  override readOutputToken(options = engine().options): OutputToken {
    const begin = this.p;
    let depth = 0;
    let i = begin + 2;
    while (i < this.N) {
      const c = this.input[i];
      if (c === "'" || c === '"') {
        i++;
        while (i < this.N && this.input[i] !== c) i += this.input[i] === '\\' ? 2 : 1;
        i++;
        continue;
      }
      if (depth === 0 && c === '}' && this.input[i + 1] === '}') {
        this.p = i + 2;
        return new OutputTokenClass(this.input, begin, this.p, options, this.file);
      }
      if (c === '{' || c === '[' || c === '(') depth++;
      else if ((c === '}' || c === ']' || c === ')') && depth > 0) depth--;
      i++;
    }
    // unbalanced or unclosed: let liquidjs report it its way
    return super.readOutputToken(options);
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
    const h = next as unknown as { input: string; begin: number; end: number; trimLeft: number; trimRight: number };
    const at = h.begin + h.trimLeft;
    if (h.input[at] === '\n' && at < h.end - h.trimRight) h.trimLeft += 1;
    else if (h.input[at] === '\r' && h.input[at + 1] === '\n' && at + 1 < h.end - h.trimRight) h.trimLeft += 2;
  }
}

/** Parse with Liquid (compile.ts caches). Throws TemplateError with errorOffsets set where known. */
export function compileLiquid(src: string): CompiledTemplate {
  let templates: Template[];
  try {
    const liquid = engine();
    const tokens = new BalancedTokenizer(src, liquid.options.operators, undefined, undefined, liquid.options.groupedExpressions).readTopLevelTokens(liquid.options);
    trimBlocks(tokens);
    templates = liquid.parser.parseTokens(tokens);
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

function collectExprs(templates: Template[], out: Expr[]): void {
  for (const t of templates) {
    if (t instanceof ExprOutput) out.push(t.expr);
    const rec = t as unknown as Record<string, unknown>;
    if (t instanceof IfTag) for (const b of rec.branches as Array<{ expr: Expr; templates: Template[] }>) (out.push(b.expr), collectExprs(b.templates, out));
    if (t instanceof ForTag) {
      const h = rec.header as ForHeader;
      for (const x of [h.collection, h.filter, h.limit, h.offset]) if (x) out.push(x);
    }
    if (t instanceof AssignTag || t instanceof EchoTag) out.push(rec.expr as Expr);
    // descend into any block's child templates (for bodies, capture, case branches, ...)
    for (const key of ['templates', 'elseTemplates']) {
      const v = rec[key];
      if (Array.isArray(v) && !(t instanceof IfTag && key === 'templates')) collectExprs(v as Template[], out);
    }
    if (Array.isArray(rec.branches) && !(t instanceof IfTag)) {
      for (const b of rec.branches as Array<{ templates?: Template[] }>) if (Array.isArray(b.templates)) collectExprs(b.templates, out);
    }
  }
}

/** Render a compiled template through Liquid (templates with tags). */
export function renderLiquid(c: CompiledTemplate, vars: Record<string, unknown>, strict: boolean): string {
  if (!c.templates) throw new Error('renderLiquid: a template compiled without Liquid has parts: render those');
  try {
    return String(engine().renderSync(c.templates, vars, { strictVariables: strict, ownPropertyOnly: true }));
  } catch (e) {
    throw fromLiquidError(e);
  }
}

/** The innermost cause of a liquidjs error, as a TemplateError with its template offset. */
export function fromLiquidError(e: unknown): TemplateError {
  let cur = e as (Error & { originalError?: unknown; token?: { begin?: number }; variableName?: string }) | undefined;
  let offset: number | undefined;
  while (cur) {
    if (cur instanceof TemplateError) {
      if (offset !== undefined && !errorOffsets.has(cur)) errorOffsets.set(cur, offset);
      return cur;
    }
    if (typeof cur.token?.begin === 'number') offset = cur.token.begin;
    if (!cur.originalError) break;
    cur = cur.originalError as typeof cur;
  }
  const msg = String(cur?.message ?? e).replace(/, (file:[^,]*, )?line:\d+, col:\d+$/, '');
  const undef = /^undefined variable: (.+)$/.exec(msg);
  let err: TemplateError;
  if (undef) err = new TemplateError(`undefined variable '${undef[1]}'`, undefined, UNDEFINED_HINT);
  else {
    const tag = /^tag "(\w+)" not found$/.exec(msg);
    err = new TemplateError(
      `template error: ${msg}`,
      undefined,
      tag ? suggest(tag[1], Object.keys(engine().tags)) ?? `known tags: ${Object.keys(engine().tags).sort().join(' ')}` : undefined,
    );
  }
  if (offset !== undefined) errorOffsets.set(err, offset);
  return err;
}
