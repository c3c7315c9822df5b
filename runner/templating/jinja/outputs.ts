/**
 * Where a `{{ }}` ends and what is inside it. Used by both ways a template is split: the
 * outputs-only fast path (../compile.ts) and the tokenizer given to liquidjs (../liquid.ts),
 * so the two cannot disagree.
 */

/**
 * Where the `{{` at `open` ends (just past its `}}`). Liquid ends an output at the first `}}`
 * outside quotes; Jinja (and so Ansible users) may write dict literals there:
 * `{{ {'a': {'b': 1}} }}`, so string literals are skipped and brackets balanced first.
 * -1 when there is no such end (unbalanced or unclosed: the engine then reports it its way).
 */
export function outputEnd(src: string, open: number): number {
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

/** The blanks liquidjs trims around a tag's or output's content (its BLANK class). */
const BLANK = /[\t\n\v\f\r \u00a0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

export interface OutputContent {
  /** the expression's text range, blanks and whitespace-control dashes excluded */
  begin: number;
  end: number;
  /** `{{-` / `-}}`: trim the blanks of the text before / after */
  trimLeft: boolean;
  trimRight: boolean;
}

/** The content of the output `src.slice(open, end)`, read as liquidjs reads a delimited token. */
export function outputContent(src: string, open: number, end: number): OutputContent {
  const inner = open + 2;
  const close = end - 2;
  const trimLeft = src[inner] === '-';
  const trimRight = src[close - 1] === '-';
  let b = trimLeft ? inner + 1 : inner;
  let e = trimRight ? close - 1 : close;
  while (b < e && BLANK.test(src[b])) b++;
  while (e > b && BLANK.test(src[e - 1])) e--;
  return { begin: b, end: e, trimLeft, trimRight };
}
