/**
 * Template compilation, cached by text. Text whose only template syntax is `{{ }}` (the usual
 * module argument, `"{{ d }}/x"`) is split here into text and expressions, exactly as the
 * Liquid engine would split it, so the Liquid engine is never built for it (~20 ms of startup
 * CPU, see liquid-instance.ts). Anything else (`{% %}` tags, whitespace control `{{- -}}`, an
 * unclosed or unparsable `{{`) goes to engine.ts; so do all errors, which keeps their messages
 * the engine's. test/runner/templating/compile.test.ts checks that both paths agree.
 */

import type { Template } from 'liquidjs';
import { compileLiquid, renderLiquid as renderWithLiquid } from './engine';
import { Expr, parseExpression } from './expression';

/** A parsed template and the shortcuts it allows. */
export interface CompiledTemplate {
  src: string;
  /** one `{{ expr }}` and only blanks around it: renderValue keeps the value's type */
  single?: Expr;
  /** only text and `{{ }}`: rendered directly, without Liquid's render loop */
  parts?: Array<string | Expr>;
  /** Liquid's parsed templates; absent when the text was split without Liquid (it has parts) */
  templates?: Template[];
  /** every expression in the template (for validation and variable listings) */
  exprs: Expr[];
}

const MAX_TEMPLATES = 10000;
const cache = new Map<string, CompiledTemplate>();

/** Parse (cached by text). Throws TemplateError with errorOffsets set where known. */
export function compileTemplate(src: string): CompiledTemplate {
  const hit = cache.get(src);
  if (hit) return hit;
  const out = compileOutputsOnly(src) ?? compileLiquid(src);
  if (cache.size >= MAX_TEMPLATES) cache.delete(cache.keys().next().value as string);
  cache.set(src, out);
  return out;
}

/** Render a template that has no parts (it has tags) through Liquid. */
export function renderLiquid(c: CompiledTemplate, vars: Record<string, unknown>, strict: boolean): string {
  return renderWithLiquid(c, vars, strict);
}

/** liquidjs's blank characters in ASCII; a non-ASCII character next to a blank defers to Liquid. */
function isAsciiBlank(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

/**
 * Where the `{{` at `open` ends (just past its `}}`), the way engine.ts's BalancedTokenizer
 * reads it: string literals skipped, brackets balanced. -1 when that reading finds no end
 * (the engine then falls back to liquidjs's own rule or reports the error).
 */
function outputEnd(src: string, open: number): number {
  let depth = 0;
  let i = open + 2;
  while (i < src.length) {
    const c = src[i];
    if (c === "'" || c === '"') {
      i++;
      while (i < src.length && src[i] !== c) i += src[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (depth === 0 && c === '}' && src[i + 1] === '}') return i + 2;
    if (c === '{' || c === '[' || c === '(') depth++;
    else if ((c === '}' || c === ']' || c === ')') && depth > 0) depth--;
    i++;
  }
  return -1;
}

/**
 * Text and `{{ }}` outputs only: the same parts, expressions and single-expression shortcut
 * the engine makes for it; undefined for anything the engine must handle itself.
 */
export function compileOutputsOnly(src: string): CompiledTemplate | undefined {
  if (src.includes('{%')) return undefined;
  const parts: Array<string | Expr> = [];
  const exprs: Expr[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      parts.push(src.slice(i));
      break;
    }
    if (open > i) parts.push(src.slice(i, open));
    const end = outputEnd(src, open);
    if (end < 0) return undefined;
    // Liquid's content range: inside the delimiters, blanks trimmed; a '-' there is whitespace control
    let b = open + 2;
    let e = end - 2;
    if (src[b] === '-' || src[e - 1] === '-') return undefined;
    while (b < e && isAsciiBlank(src.charCodeAt(b))) b++;
    while (e > b && isAsciiBlank(src.charCodeAt(e - 1))) e--;
    if (b < e && (src.charCodeAt(b) >= 128 || src.charCodeAt(e - 1) >= 128)) return undefined;
    let x: Expr;
    try {
      x = parseExpression(src.slice(b, e), b);
    } catch {
      return undefined;
    }
    parts.push(x);
    exprs.push(x);
    i = end;
  }
  const out: CompiledTemplate = { src, parts, exprs };
  // native value only for exactly one `{{ }}` and no text at all around it (as the engine decides)
  if (exprs.length === 1 && parts.length === 1) out.single = exprs[0];
  return out;
}
