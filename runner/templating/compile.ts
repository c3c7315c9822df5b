/**
 * Template compilation, cached by text. Text whose only template syntax is `{{ }}` (the usual
 * module argument, `"{{ d }}/x"`) is split here into text and expressions, exactly as the
 * Liquid engine would split it (both use jinja/outputs.ts), so the Liquid engine is never built
 * for it (~20 ms of startup CPU, see liquid.ts). Anything else (`{% %}` tags, whitespace
 * control `{{- -}}`, an unclosed or unparsable `{{`) goes to liquid.ts; so do all errors, which
 * keeps their messages the engine's. test/runner/templating/compile.test.ts checks that both
 * paths agree.
 */

import type { Expr } from './jinja';
import { outputContent, outputEnd, parseExpression } from './jinja';
import { compileLiquid, type LiquidTemplates } from './liquid';

/** How a text is read (Jinja's environment options; a template file's come from the template module). */
export interface ParseOptions {
  /** the template file the text is (tokens name it; errors in it get its lines); strings have none */
  file?: string;
  /** drop the first newline after a block tag or comment (Ansible: on) */
  trimBlocks: boolean;
  /** drop blanks before a block tag or comment at the start of a line */
  lstripBlocks: boolean;
  /** the text's newlines become this (the text has only \n: the caller normalized it) */
  newline?: string;
  /** comment delimiters; strings have none: `{#` is common in shell and stays text */
  comments?: { start: string; end: string };
}

/** How a string in a playbook (module argument, `when`, vars) is read. */
export const INLINE: ParseOptions = { trimBlocks: true, lstripBlocks: false };

/** A literal template name a template includes, extends or imports. */
export interface TemplateRef {
  names: string[];
  /** where the tag is in the text */
  offset: number;
  /** `ignore missing` */
  optional: boolean;
}

/** A parsed template and the shortcuts it allows. */
export interface CompiledTemplate {
  src: string;
  /** one `{{ expr }}` and only blanks around it: renderValue keeps the value's type */
  single?: Expr;
  /** only text and `{{ }}`: rendered directly, without Liquid's render loop */
  parts?: Array<string | Expr>;
  /** the engine's parsed template; absent when the text was split without it (it has parts) */
  templates?: LiquidTemplates;
  /** every expression in the template (for validation and variable listings) */
  exprs: Expr[];
  /** other templates it names literally (include, extends, import) */
  refs?: TemplateRef[];
}

const MAX_TEMPLATES = 10000;
const cache = new Map<string, CompiledTemplate>();

/** Parse (cached by text and options). Throws TemplateError with its offset set where known. */
export function compileTemplate(src: string, opts?: ParseOptions): CompiledTemplate {
  const key = opts ? `${JSON.stringify(opts)}\u0000${src}` : src;
  const hit = cache.get(key);
  if (hit) return hit;
  const out = (opts ? undefined : compileOutputsOnly(src)) ?? compileLiquid(src, opts);
  if (cache.size >= MAX_TEMPLATES) cache.delete(cache.keys().next().value as string);
  cache.set(key, out);
  return out;
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
    const c = outputContent(src, open, end);
    // whitespace control changes the text around the output: the engine does that
    if (c.trimLeft || c.trimRight) return undefined;
    // non-ASCII blanks around the expression are rare: the fast path leaves them to the engine
    if (/[^\x00-\x7f]/.test(src.slice(open + 2, c.begin) + src.slice(c.end, end - 2))) return undefined;
    let x: Expr;
    try {
      x = parseExpression(src.slice(c.begin, c.end), c.begin);
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
