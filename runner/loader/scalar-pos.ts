/**
 * Source positions inside a YAML string scalar. The YAML layer keeps where each value starts;
 * an error about one character of a long `k=v` value (an unclosed `{{`) is much easier to act on
 * when it points at that character. That is only possible where the source shows the value
 * verbatim, so every answer is checked against the source line and `undefined` means "point at
 * the value's start instead" (escapes before the offset, folded lines, a vault-encrypted file).
 */

import type { Pos } from '../yaml';

/**
 * Where character `offset` of `value` is in `source`, given that the scalar holding `value`
 * starts at `at` (its opening quote or block indicator).
 */
export function positionInScalar(source: string, at: Pos, value: string, offset: number): Pos | undefined {
  if (offset < 0 || offset > value.length) return undefined;
  const lines = source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const first = lines[at.line - 1];
  if (first === undefined) return undefined;
  const col0 = at.column - 1;
  const before = value.slice(0, offset);
  const nl = before.lastIndexOf('\n');
  const row = nl < 0 ? 0 : before.split('\n').length - 1;
  const lineText = before.slice(nl + 1);
  const indicator = first[col0];

  const check = (line: number, from: number): Pos | undefined => {
    const src = lines[line - 1];
    if (src === undefined || src.slice(from, from + lineText.length) !== lineText) return undefined;
    return { file: at.file, line, column: from + lineText.length + 1 };
  };

  if (indicator === '|' || indicator === '>') {
    // folded text joins source lines: only its first line maps one to one
    if (indicator === '>' && row > 0) return undefined;
    // content is indented like its first non-blank line (an explicit indentation digit is rare)
    let indent = -1;
    for (let l = at.line; l < lines.length; l++) {
      if (lines[l].trim() === '') continue;
      indent = lines[l].length - lines[l].trimStart().length;
      break;
    }
    return indent < 0 ? undefined : check(at.line + 1 + row, indent);
  }
  // flow scalars fold line breaks: only a single-line prefix maps one to one
  if (row > 0) return undefined;
  return check(at.line, indicator === '"' || indicator === "'" ? col0 + 1 : col0);
}
