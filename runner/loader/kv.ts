/**
 * The `key=value key2='quoted value'` argument form (`copy: src=a dest=/b`), split the way
 * Ansible splits it: whitespace separates tokens except inside quotes and template blocks;
 * `key=` tokens become arguments; for free-form modules the rest of the text, exactly as
 * written (quotes, spacing and newlines kept), becomes the free-form argument.
 *
 * Template text is opaque to the splitter, even inside a quoted value: a `{{ }}` output, a
 * `{% %}` tag, a `{# #}` comment, a `{% raw %}...{% endraw %}` section and everything between a
 * block tag and its end tag (`{% if %}...{% endif %}`) is never split, and the quotes in it do
 * not open or close k=v quoting (`msg="{{ "a b" | upper }}"` is one value). Where a block ends
 * follows the template engine (runner/templating/jinja/outputs.ts), so the splitter and the renderer
 * agree on what one block is:
 *   {{ }}  ends at the first `}}` outside its string literals and brackets (`{{ {'a': {'b': 1}} }}`);
 *          if brackets never balance, at the first `}}` outside strings, as liquidjs does
 *   {% %}  ends at the first `%}` (liquidjs does not look at quotes in tags)
 *   {# #}  ends at the first `#}`; an unclosed `{#` is plain text, since the engine does not treat
 *          `{#` as a comment and shell code is full of it (`${#array[@]}`)
 */

import { outputEnd } from '../templating/jinja/outputs';

export interface KvToken {
  text: string;
  start: number;
  end: number;
}

/** A k=v text that cannot be split; `offset` is where in the text the problem starts. */
export class KvSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** k=v quoting or template text */
    readonly kind: 'quote' | 'template' = 'template',
  ) {
    super(message);
    this.name = 'KvSyntaxError';
  }
}

/** Liquid's block tags: their body, up to the matching end tag, is one piece of template. */
const BLOCK_TAGS = new Set(['if', 'unless', 'for', 'case', 'capture', 'comment', 'tablerow']);

const TAG_NAME = /^-?\s*([A-Za-z_][A-Za-z0-9_]*|#)?/;
const END_RAW = /\{%-?\s*endraw\s*-?%\}/g;

interface Piece {
  /** index just past the block */
  end: number;
  /** the tag's name for `{% name ... %}` */
  tag?: string;
}

/** Index just past the string literal opening at `i` (backslash escapes), or -1 if it never closes. */
function skipString(text: string, i: number): number {
  const q = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === '\\') j++;
    else if (text[j] === q) return j + 1;
  }
  return -1;
}

/** `{{ ... }}` starting at `i`: see the header for where it ends. */
function readOutput(text: string, i: number): number {
  // the template engine's own reading first, so the splitter and the renderer agree
  const balanced = outputEnd(text, i);
  if (balanced >= 0) return balanced;
  // unbalanced brackets: the first `}}` outside strings ends it (liquidjs's own rule)
  for (let j = i + 2; j < text.length; ) {
    const c = text[j];
    if (c === '"' || c === "'") {
      const e = skipString(text, j);
      if (e < 0) {
        throw new KvSyntaxError(`unclosed template block '{{': the ${c === '"' ? 'double' : 'single'}-quoted string in it never ends`, j);
      }
      j = e;
      continue;
    }
    if (c === '}' && text[j + 1] === '}') return j + 2;
    j++;
  }
  throw new KvSyntaxError("unclosed template block '{{' (no '}}' after it)", i);
}

/** The template piece starting at `i` (`{{`, `{%` or `{#`), or undefined when it is plain text. */
function readPiece(text: string, i: number): Piece | undefined {
  const two = text.slice(i, i + 2);
  if (two === '{{') return { end: readOutput(text, i) };
  if (two === '{#') {
    const e = text.indexOf('#}', i + 2);
    return e < 0 ? undefined : { end: e + 2 };
  }
  if (two !== '{%') return undefined;
  const close = text.indexOf('%}', i + 2);
  if (close < 0) throw new KvSyntaxError("unclosed template tag '{%' (no '%}' after it)", i);
  const tag = TAG_NAME.exec(text.slice(i + 2, close))?.[1] ?? '';
  if (tag !== 'raw') return { end: close + 2, tag };
  END_RAW.lastIndex = close + 2;
  const m = END_RAW.exec(text);
  if (!m) throw new KvSyntaxError("'{% raw %}' is never closed with '{% endraw %}'", i);
  return { end: m.index + m[0].length };
}

/** Split into tokens, keeping each token's quotes and its position in the text. */
export function tokenize(text: string): KvToken[] {
  const tokens: KvToken[] = [];
  let start = -1;
  let quote: string | null = null;
  let quoteAt = 0;
  // open block tags ({% if %} ... {% endif %}): nothing between them splits
  const open: Array<{ tag: string; at: number }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (start < 0) {
      if (/\s/.test(c)) continue;
      start = i;
    }
    // a backslash-escaped quote does not close the string
    if (quote && open.length === 0 && c === '\\' && i + 1 < text.length) {
      i++;
      continue;
    }
    if (c === '{') {
      const p = readPiece(text, i);
      if (p) {
        if (p.tag && BLOCK_TAGS.has(p.tag)) open.push({ tag: p.tag, at: i });
        else if (p.tag?.startsWith('end') && BLOCK_TAGS.has(p.tag.slice(3))) {
          const want = p.tag.slice(3);
          const top = open.pop();
          if (!top) throw new KvSyntaxError(`'{% ${p.tag} %}' without an open '{% ${want} %}'`, i);
          if (top.tag !== want) throw new KvSyntaxError(`'{% ${p.tag} %}' where '{% end${top.tag} %}' was expected (to close the '{% ${top.tag} %}' at character ${top.at + 1})`, i);
        }
        i = p.end - 1;
        continue;
      }
    }
    // text inside a block body is template text: its quotes and blanks do not count
    if (open.length > 0) continue;
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      quoteAt = i;
      continue;
    }
    if (/\s/.test(c)) {
      tokens.push({ text: text.slice(start, i), start, end: i });
      start = -1;
    }
  }
  if (open.length > 0) {
    const top = open[open.length - 1];
    throw new KvSyntaxError(`'{% ${top.tag} %}' is never closed with '{% end${top.tag} %}'`, top.at);
  }
  if (quote) throw new KvSyntaxError(`unbalanced ${quote === '"' ? 'double' : 'single'} quote`, quoteAt, 'quote');
  if (start >= 0) tokens.push({ text: text.slice(start), start, end: text.length });
  return tokens;
}

/** Strip one pair of matching surrounding quotes and undo backslash-escaped quotes of that kind. */
export function unquote(v: string): string {
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) {
    const q = v[0];
    return v.slice(1, -1).split(`\\${q}`).join(q);
  }
  return v;
}

const KV = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/;
/** a key made of name characters and `{{ }}` outputs (set_fact's `{{ item }}_x=1`) */
const TEMPLATED_KEY = /^[A-Za-z0-9_]*(\{\{[\s\S]*\}\}[A-Za-z0-9_]*)+$/;

/**
 * Split one token into key and value. A key may hold `{{ }}` outputs (rendered per host by the
 * modules that allow it, set_fact): the `=` that ends it is the first one outside them.
 */
function splitToken(text: string): [string, string] | undefined {
  const m = KV.exec(text);
  if (m) return [m[1], m[2]];
  if (!text.startsWith('{{') && !/^[A-Za-z0-9_]+\{\{/.test(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    if (text.startsWith('{{', i)) {
      const end = outputEnd(text, i);
      if (end < 0) return undefined;
      i = end - 1;
    } else if (text[i] === '=') {
      const key = text.slice(0, i);
      return TEMPLATED_KEY.test(key) ? [key, text.slice(i + 1)] : undefined;
    }
  }
  return undefined;
}

/** Python's unicode-escape sequences, as Ansible's parse_kv decodes them in `k=v` tokens. */
const ESCAPES = /\\(U[0-9a-fA-F]{8}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|[\\'"abfnrtv])/g;
const SINGLE: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** `content=hello\n` is "hello" and a newline under Ansible: decode the escapes of a k=v token. */
export function decodeEscapes(s: string): string {
  return s.replace(ESCAPES, (_m, e: string) => {
    if (e.length === 1 && e in SINGLE) return SINGLE[e];
    if (/^[0-7]/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    return String.fromCodePoint(parseInt(e.slice(1), 16));
  });
}

/** Keys Ansible splits out of the command-like free-form modules; any other `a=b` is part of the command. */
export const COMMAND_KV_KEYS = new Set(['chdir', 'creates', 'removes', 'executable', 'stdin', 'stdin_add_newline', 'strip_empty_ends']);
/** Ansible's own list of modules whose free-form text is a command line. */
export const COMMAND_MODULES = new Set(['command', 'shell', 'script', 'raw']);

export interface ParsedKv {
  args: Record<string, string>;
  /** the text that is not `key=value`, as written (undefined when there is none) */
  raw?: string;
}

/**
 * Parse the `k=v` form. `splitKey(k)` says whether a `k=...` token is an argument (false keeps
 * it in the free-form text, as Ansible does for `shell: echo a=b`).
 */
export function parseKv(text: string, splitKey: (key: string) => boolean = () => true): ParsedKv {
  const tokens = tokenize(text);
  const args: Record<string, string> = {};
  const rawTokens: KvToken[] = [];
  for (const t of tokens) {
    const m = splitToken(t.text);
    // as Ansible: escapes are decoded in the arguments it splits out, not in the free-form text
    if (m && splitKey(m[0])) args[m[0]] = unquote(decodeEscapes(m[1]));
    else rawTokens.push(t);
  }
  if (rawTokens.length === 0) return { args };
  // rebuild the free-form text from the original, dropping the split-out tokens only, so
  // quoting and newlines of a multi-line shell script survive untouched
  let raw = '';
  let last = -1;
  const rawSet = new Set(rawTokens);
  for (let i = 0; i < tokens.length; i++) {
    if (!rawSet.has(tokens[i])) continue;
    if (last >= 0) {
      const prev = tokens[last];
      // keep the separator written after the previous kept token (a newline stays a newline)
      raw += text.slice(prev.end, tokens[last + 1].start);
    }
    raw += tokens[i].text;
    last = i;
  }
  return { args, raw };
}
