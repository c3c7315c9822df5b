/**
 * The `key=value key2='quoted value'` argument form (`copy: src=a dest=/b`), split the way
 * Ansible splits it: whitespace separates tokens except inside quotes and `{{ }}`, `{% %}`,
 * `{# #}` blocks; `key=` tokens become arguments; for free-form modules the rest of the text,
 * exactly as written (quotes, spacing and newlines kept), becomes the free-form argument.
 */

export interface KvToken {
  text: string;
  start: number;
  end: number;
}

export class KvSyntaxError extends Error {}

/** Split into tokens, keeping each token's quotes and its position in the text. */
export function tokenize(text: string): KvToken[] {
  const tokens: KvToken[] = [];
  let start = -1;
  let quote: string | null = null;
  // nesting of {{ }}, {% %} and {# #}: whitespace inside them does not split
  let jinja = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const two = text.slice(i, i + 2);
    if (start < 0) {
      if (/\s/.test(c)) continue;
      start = i;
    }
    if (quote) {
      // a backslash-escaped quote does not close the string
      if (c === '\\' && i + 1 < text.length) {
        i++;
        continue;
      }
      if (c === quote) quote = null;
      continue;
    }
    if (two === '{{' || two === '{%' || two === '{#') {
      jinja++;
      i++;
      continue;
    }
    if (jinja > 0 && (two === '}}' || two === '%}' || two === '#}')) {
      jinja--;
      i++;
      continue;
    }
    if (jinja > 0) continue;
    if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    if (/\s/.test(c)) {
      tokens.push({ text: text.slice(start, i), start, end: i });
      start = -1;
    }
  }
  if (quote) throw new KvSyntaxError(`unbalanced ${quote === '"' ? 'double' : 'single'} quote`);
  if (jinja > 0) throw new KvSyntaxError('unclosed template block ({{, {% or {#)');
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
    const m = KV.exec(t.text);
    if (m && splitKey(m[1])) args[m[1]] = unquote(m[2]);
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
