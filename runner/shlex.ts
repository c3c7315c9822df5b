/**
 * Split a command string into an argument vector the way Python's `shlex.split(s)` does (POSIX
 * mode, no comments): what Ansible does with `validate:` before it runs the vector without a
 * shell. Nothing is expanded: `$x`, `$(...)`, backticks, `;`, `|`, `>`, `#` and globs are
 * ordinary characters of a word, so a value templated into the string can add words but never
 * run anything.
 *
 * Rules (shlex's): blanks (space, tab, CR, LF) separate words; '...' keeps everything literally;
 * "..." keeps everything except that `\"` and `\\` become `"` and `\` (any other backslash stays);
 * outside quotes a backslash takes the next character literally; quotes join with adjacent text
 * (`a"b c"d` is one word); `''` is an empty word. An unclosed quote or a trailing backslash is
 * an error (shlex raises too) instead of a guess.
 */

export class ShlexError extends Error {}

const BLANK = new Set([' ', '\t', '\r', '\n']);

export function shlexSplit(s: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (BLANK.has(c)) {
      if (word !== null) words.push(word);
      word = null;
      continue;
    }
    word ??= '';
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) throw new ShlexError(`no closing quotation (the ' at offset ${i})`);
      word += s.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && (s[j + 1] === '"' || s[j + 1] === '\\')) j++;
        word += s[j];
      }
      if (j >= s.length) throw new ShlexError(`no closing quotation (the " at offset ${i})`);
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= s.length) throw new ShlexError('no escaped character after the final backslash');
      word += s[++i];
    } else word += c;
  }
  if (word !== null) words.push(word);
  return words;
}
