/**
 * Templating and conditions: one liquidjs engine for the whole run, with an expression
 * language Ansible users already know.
 *
 * ## What is supported
 *
 * Templates are Liquid: `{% if %}` / `{% elsif %}` (or `{% elif %}`) / `{% else %}`, `{% unless %}`,
 * `{% for %}` (+ `{% else %}`, `{% break %}`, `{% continue %}`), `{% assign x = ... %}` (or
 * `{% set x = ... %}`), `{% capture %}`, `{% case %}`, `{% raw %}`, `{% comment %}`, `{% # ... %}`,
 * `{%- -%}` / `{{- -}}` whitespace control. As Ansible does (Jinja's trim_blocks), the first
 * newline after a `{% tag %}` is dropped. In strings `{# #}` is NOT a comment (it is common in
 * shell scripts); template files (renderFile, template-file.ts) have comments, the `#jinja2:`
 * header, include/extends/block/import/macro/call (liquid-files.ts) and Ansible's options.
 *
 * Inside `{{ }}`, `{% if %}`, `{% for %}`, `{% set %}` and in `when` / `changed_when` /
 * `failed_when` / `until` / assert `that`, expressions are Jinja's:
 *   literals      'a' "b" (Python escapes: \n \t \\ \' ; unknown ones like \d stay), 1, 2.5,
 *                 true/True, false/False, none/None/null/nil, [1, 2], {'k': v}, (1, 2), (1..5)
 *   access        a.b  a['b']  a[0]  a[-1]  a[1:3]  hostvars[inventory_hostname]['x']
 *                 (own data only; lists/strings also have Liquid's .size .first .last)
 *   operators     (lowest first) `x if c else y`; or; and; not; == != <> < <= > >= in, not in,
 *                 contains (Liquid); + -; ~ (joins as text); * / // %; **; unary -;
 *                 then filters `| f` and tests `is t` (tightest). Comparisons chain (1 < x < 5).
 *                 and/or return an operand, as in Python.
 *   filters       Jinja call syntax `x | default('a')` or Liquid's `x | default: 'a'`,
 *                 keyword arguments `combine(b, recursive=true)` / `join: sep: ','`
 *   tests         `x is defined`, `x is not none`, `x is version('1.2', '>=')`, `x is divisibleby 3`
 *   methods       str: startswith endswith split strip lstrip rstrip lower upper title capitalize
 *                 replace join find count splitlines isdigit; dict: get keys values items;
 *                 list: index count.  Function: range(n) / range(a, b[, step]).
 *
 * Filters: default (d) mandatory type_debug bool int float string list lower upper capitalize
 * title trim replace split regex_replace regex_search regex_findall regex_escape b64encode
 * b64decode hash checksum quote basename dirname indent to_json to_nice_json to_yaml
 * to_nice_yaml from_json from_yaml length count first last reverse join unique sort min max sum
 * flatten union intersect difference symmetric_difference zip dict2items items2dict combine
 * keys values items extract map select reject selectattr rejectattr abs round ternary
 * version_compare; plus Liquid's own (size append prepend upcase downcase strip slice
 * truncate date escape url_encode plus minus times divided_by modulo ...).
 * Regexes are Python's: (?P<name>...), \1 / \g<name> in replacements, leading (?i).
 *
 * Tests: defined undefined none string number integer float boolean mapping sequence iterable
 * list sameas eq/equalto/== ne/!= lt/< le/<= gt/> ge/>= in contains truthy falsy true false
 * match search regex version version_compare succeeded/success failed/failure changed skipped
 * reachable unreachable finished odd even divisibleby lower upper subset superset all any.
 *
 * Semantics worth knowing:
 * - Strict variables: using an undefined variable, or a missing key of a defined mapping, is
 *   an error naming it ("undefined variable 'foo.bar'") and where. `default`, `is defined` /
 *   `is undefined` and `mandatory` see undefined values without error; `foo.bar.baz is defined`
 *   is false when foo is missing (Ansible's chained undefined).
 * - `default(v)` replaces undefined only; `default(v, true)` also replaces '', 0, [], {},
 *   false and none (Jinja semantics, also for Liquid spelling).
 * - Truthiness is Python's: '' [] {} 0 none false are false. `'false' | bool` is false.
 * - A string that is exactly one `{{ expr }}` (blanks around allowed) keeps the value's type
 *   in module args and vars (`"{{ ports }}"` stays a list); text around it makes a string.
 * - In text, values print as Python's str() (runner/templating/jinja/pytext.ts): True/False, lists
 *   and dicts in repr (`['a', 'b']`, `{'k': 1}`); a bare none prints as nothing (Ansible's finalize).
 * - A `when` string without {{ }} is an expression; with {{ }} it is rendered first; a rendered
 *   boolean word (runner/booleans.ts) counts as that boolean, '' and none as false.
 * - Iterating a mapping gives its keys (`for k in d`), or pairs with two names (`for k, v in d`).
 *   Inside loops both `loop.index` (Jinja) and `forloop.index` (Liquid) work.
 * - `join` without a separator uses '' (Jinja), `map('x')` applies filter x if there is one,
 *   else reads attribute x (Liquid's `map: 'x'`).
 * - Expressions never run JavaScript, and only own properties of data are reachable.
 */

import { parseBoolean } from '../booleans';
import { SourceLocation, TemplateError } from '../errors';
import { copyPos, posOfValue } from '../yaml';
import { compileTemplate, type CompiledTemplate } from './compile';
import { evaluateRaw, evaluateValue, Expr, FILTERS, isPlainObject, objectScope, parseExpression, referencedNames, Scope, toText, truthy, Undefined, undefinedError, unknownNames } from './jinja';
import { filterContext, renderLiquid } from './liquid';
import { useTemplateRenderer } from './lookups';
import { checkTemplateFile, compileIn, FileLoader, keepTrailingNewlines, placeIn, prepareFile, type TemplateFileOptions } from './template-file';

export type { TemplateFileOptions };

export type Vars = Record<string, unknown>;

export { Undefined };

export interface TemplarOptions {
  /** undefined variables are errors (default true); when false they are none / empty */
  strict?: boolean;
}

/** Rendered condition text that is empty or none: false (the boolean words are parseBoolean's). */
const EMPTY_WORDS = new Set(['', 'none', 'null']);

export class Templar {
  readonly strict: boolean;

  constructor(opts: TemplarOptions = {}) {
    this.strict = opts.strict ?? true;
  }

  /** contains {{ or {% */
  static isTemplate(s: unknown): boolean {
    return typeof s === 'string' && (s.includes('{{') || s.includes('{%'));
  }

  /** Render to a string. Undefined variables are a TemplateError naming the variable and `source`. */
  async renderString(template: string, vars: Vars, source?: SourceLocation): Promise<string> {
    return this.renderStringSync(template, vars, source);
  }

  /**
   * Deep-render any value. A string that is exactly one `{{ expr }}` keeps the expression's
   * type; other strings render to strings; other scalars are returned unchanged. Containers
   * are always copied (the caller may change the result, e.g. ajv applying defaults) and keep
   * their YAML positions; the input is never changed.
   */
  async renderValue(value: unknown, vars: Vars, source?: SourceLocation): Promise<unknown> {
    return this.renderValueSync(value, vars, source);
  }

  /**
   * A condition as written in `when`/`changed_when`/`failed_when`/`until`/assert `that`:
   * a string expression (with or without {{ }}), a bool, a number, or a list (all must hold).
   * A missing condition (null) holds.
   */
  async evaluate(condition: unknown, vars: Vars, source?: SourceLocation): Promise<boolean> {
    return this.evaluateSync(condition, vars, source);
  }

  /** One expression to its value (debug `var:`, loop expressions); `{{ }}` around it is allowed. */
  async evaluateExpression(expr: string, vars: Vars, source?: SourceLocation): Promise<unknown> {
    return this.evaluateExpressionSync(expr, vars, source);
  }

  // -- synchronous forms (everything is synchronous inside; the async API is the contract)

  renderStringSync(template: string, vars: Vars, source?: SourceLocation): string {
    if (!Templar.isTemplate(template)) return template;
    const c = this.compile(template, source);
    return this.located(template, source, () => this.renderCompiled(c, vars));
  }

  /**
   * Render a template file as the template module does (template-file.ts): `{# #}` comments, the
   * `#jinja2:` header, trim_blocks / lstrip_blocks / newline_sequence, include / extends /
   * import found in `opts.searchPath`. Errors name the file (or the included one) and the line.
   */
  async renderFile(text: string, vars: Vars, file: string, opts: TemplateFileOptions = {}): Promise<string> {
    return this.renderFileSync(text, vars, file, opts);
  }

  renderFileSync(text: string, vars: Vars, file: string, opts: TemplateFileOptions = {}): string {
    const p = prepareFile(text, file, opts);
    const c = compileIn(p.body, p.parse, p.headerLines);
    try {
      return keepTrailingNewlines(renderLiquid(c, vars, this.strict, new FileLoader(opts.searchPath ?? [], p.parse)), p);
    } catch (e) {
      throw placeIn(e, p.body, file, p.headerLines);
    }
  }

  /**
   * Check a template file before the run: its syntax, its filters and tests, and that each
   * template it names literally exists (and is itself correct). Returns every problem found.
   */
  checkFile(text: string, file: string, opts: TemplateFileOptions = {}): TemplateError[] {
    return checkTemplateFile(text, file, opts);
  }

  renderValueSync(value: unknown, vars: Vars, source?: SourceLocation): unknown {
    return this.walk(value, vars, source, 0);
  }

  evaluateSync(condition: unknown, vars: Vars, source?: SourceLocation): boolean {
    if (condition === null || condition === undefined) return true;
    if (typeof condition === 'boolean') return condition;
    if (typeof condition === 'number') return condition !== 0;
    if (Array.isArray(condition)) {
      for (let i = 0; i < condition.length; i++) {
        const loc = (posOfValue(condition, i) as SourceLocation | undefined) ?? source;
        if (!this.evaluateSync(condition[i], vars, loc)) return false;
      }
      return true;
    }
    if (typeof condition !== 'string') {
      throw new TemplateError('a condition must be a string expression, a boolean or a list of them', source);
    }
    if (!condition.trim()) throw new TemplateError('empty condition', source, 'write an expression such as `x is defined`, or remove the keyword');
    if (!Templar.isTemplate(condition)) {
      const x = this.parse(condition, source);
      return this.located(condition, source, () => truthy(evaluateValue(x, this.scope(vars))));
    }
    const c = this.compile(condition, source);
    return this.located(condition, source, () => {
      if (c.single) {
        const v = evaluateValue(c.single, this.scope(vars));
        return typeof v === 'string' ? this.textCondition(v, vars) : truthy(v);
      }
      return this.textCondition(this.renderCompiled(c, vars), vars);
    });
  }

  evaluateExpressionSync(expr: string, vars: Vars, source?: SourceLocation): unknown {
    if (Templar.isTemplate(expr)) return this.renderValueSync(expr, vars, source);
    const x = this.parse(expr, source);
    return this.located(expr, source, () => {
      const r = evaluateValue(x, this.scope(vars));
      const inner = findUndefined(r, 0);
      if (inner && this.strict) throw undefinedError(inner);
      return r;
    });
  }

  /**
   * Validate without rendering: syntax of every template/expression in `value` and that every
   * filter and test named exists. Throws the first problem as a TemplateError.
   * `asCondition`: bare strings are expressions (when/changed_when/...), not text.
   */
  check(value: unknown, source?: SourceLocation, asCondition = false): void {
    const visit = (v: unknown, loc: SourceLocation | undefined): void => {
      if (typeof v === 'string') {
        let exprs: Expr[];
        if (Templar.isTemplate(v)) exprs = this.compile(v, loc).exprs;
        else if (asCondition && v.trim()) exprs = [this.parse(v, loc)];
        else return;
        for (const x of exprs) {
          const err = unknownNames(x);
          if (err) throw this.locate(err, v, loc);
        }
      } else if (Array.isArray(v)) {
        v.forEach((x, i) => visit(x, (posOfValue(v, i) as SourceLocation | undefined) ?? loc));
      } else if (isPlainObject(v)) {
        for (const k of Object.keys(v)) visit(v[k], (posOfValue(v, k) as SourceLocation | undefined) ?? loc);
      }
    };
    visit(value, source);
  }

  /**
   * Top-level variable names a template or expression reads that `vars` does not define
   * (loop variables and `set` names inside the template are not counted).
   */
  undefinedVariables(text: string, vars: Vars, asCondition = !Templar.isTemplate(text)): string[] {
    const names = new Set<string>();
    let exprs: Expr[];
    const bound = new Set<string>(['loop', 'forloop']);
    if (Templar.isTemplate(text)) {
      const c = this.compile(text);
      exprs = c.exprs;
      for (const m of text.matchAll(/\{%-?\s*(?:for\s+([\w\s,]+?)\s+in\b|(?:set|assign)\s+(\w+)|capture\s+(\w+))/g)) {
        for (const n of (m[1] ?? m[2] ?? m[3]).split(',')) bound.add(n.trim());
      }
    } else if (asCondition) exprs = [this.parse(text)];
    else return [];
    for (const x of exprs) referencedNames(x.root, names);
    return [...names].filter((n) => !bound.has(n) && !Object.prototype.hasOwnProperty.call(vars, n)).sort();
  }

  // -- internals

  private scope(vars: Vars): Scope {
    return objectScope(vars, this.strict, () => filterContext(vars, this.strict));
  }

  private parse(expr: string, source?: SourceLocation): Expr {
    try {
      return parseExpression(expr);
    } catch (e) {
      throw this.locate(e, expr, source);
    }
  }

  private compile(template: string, source?: SourceLocation): CompiledTemplate {
    try {
      return compileTemplate(template);
    } catch (e) {
      throw this.locate(e, template, source);
    }
  }

  private renderCompiled(c: CompiledTemplate, vars: Vars): string {
    if (c.parts) {
      const scope = this.scope(vars);
      let out = '';
      for (const p of c.parts) out += typeof p === 'string' ? p : toText(evaluateValue(p, scope));
      return out;
    }
    return renderLiquid(c, vars, this.strict);
  }

  /** A rendered condition: boolean words, else the text is an expression (Ansible's reading). */
  private textCondition(text: string, vars: Vars): boolean {
    const t = text.trim().toLowerCase();
    const b = parseBoolean(t);
    if (b !== undefined) return b;
    if (EMPTY_WORDS.has(t)) return false;
    return truthy(evaluateValue(parseExpression(text.trim()), this.scope(vars)));
  }

  private walk(v: unknown, vars: Vars, loc: SourceLocation | undefined, depth: number): unknown {
    if (typeof v === 'string') {
      if (!Templar.isTemplate(v)) return v;
      const c = this.compile(v, loc);
      if (c.single) {
        const x = c.single;
        return this.located(v, loc, () => {
          const r = evaluateRaw(x, this.scope(vars));
          if (r instanceof Undefined) {
            if (this.strict) throw undefinedError(r);
            return null;
          }
          // a lazy undefined inside a list/dict (e.g. from map(attribute=...)) fails once it is kept
          const inner = findUndefined(r, 0);
          if (inner) {
            if (this.strict) throw undefinedError(inner);
            return null;
          }
          return r;
        });
      }
      return this.located(v, loc, () => this.renderCompiled(c, vars));
    }
    if (depth > 200) throw new TemplateError('value is nested too deeply (or refers to itself)', loc);
    if (Array.isArray(v)) {
      const out = v.map((x, i) => this.walk(x, vars, (posOfValue(v, i) as SourceLocation | undefined) ?? loc, depth + 1));
      copyPos(v, out);
      return out;
    }
    if (isPlainObject(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v)) {
        const kloc = (posOfValue(v, k) as SourceLocation | undefined) ?? loc;
        const key = Templar.isTemplate(k) ? toText(this.walk(k, vars, kloc, depth + 1)) : k;
        const val = this.walk(v[k], vars, kloc, depth + 1);
        if (key === '__proto__') Object.defineProperty(out, key, { value: val, enumerable: true, writable: true, configurable: true });
        else out[key] = val;
      }
      copyPos(v, out);
      return out;
    }
    return v;
  }

  private located<T>(text: string, source: SourceLocation | undefined, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw this.locate(e, text, source);
    }
  }

  /**
   * Give an error its place: for a template file (a source without a line) the line and
   * column inside the file; for a string from YAML, the string's own position, plus the text
   * when it is short enough to quote.
   */
  private locate(e: unknown, text: string, source: SourceLocation | undefined): Error {
    if (!(e instanceof TemplateError)) {
      if (e instanceof Error && /Maximum call stack/.test(e.message)) return new TemplateError('expression is nested too deeply', source);
      return e as Error;
    }
    if (e.location) return e;
    const offset = e.offset;
    if (source && source.line === undefined && offset !== undefined) {
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      e.location = { file: source.file, line, column };
    } else {
      e.location = source;
      if (!e.message.startsWith('template syntax error')) {
        const oneLine = !text.includes('\n');
        if (oneLine && text.length <= 120) e.message += ` in "${text}"`;
        else if (offset !== undefined) e.message += ` (line ${text.slice(0, offset).split('\n').length} of the template)`;
      }
    }
    return e;
  }
}

// the template lookup renders with the same engine and the same strictness as its caller
useTemplateRenderer((text, vars, source, strict) => new Templar({ strict }).renderStringSync(text, vars, source));

/**
 * Add a filter for every template and condition of the process (an extension hook). The
 * function gets the input, then the positional arguments, then (when any were given) an
 * object of keyword arguments.
 */
export function registerFilter(name: string, fn: (...args: unknown[]) => unknown): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TemplateError(`invalid filter name '${name}'`);
  FILTERS[name] = {
    fn: (input, args, kw) => (Object.keys(kw).length ? fn(input, ...args, kw) : fn(input, ...args)),
  };
}

function findUndefined(v: unknown, depth: number): Undefined | undefined {
  if (v instanceof Undefined) return v;
  if (depth > 50) return undefined;
  if (Array.isArray(v)) {
    for (const x of v) {
      const u = findUndefined(x, depth + 1);
      if (u) return u;
    }
  } else if (isPlainObject(v)) {
    for (const x of Object.values(v)) {
      const u = findUndefined(x, depth + 1);
      if (u) return u;
    }
  }
  return undefined;
}
