/**
 * The one way user values reach a remote shell command line. Every remote command in tsplay is
 * built with `quote()` or the `sh` tag; never by concatenating a value into a command string.
 */

import { TsplayError } from './errors';

/** Single-quote a value for POSIX sh: safe for spaces, quotes, $(), backticks, newlines. */
export function quote(value: string | number | boolean): string {
  const s = String(value);
  // a value from a template or a module result can hold one (b64decode): a clear task failure,
  // not an internal error with a stack trace
  if (s.includes('\0')) throw new TsplayError('a value contains a NUL byte (\\0), which cannot be passed through a shell command');
  if (s !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Marks a string as an already-built shell fragment that `sh` must not quote again. */
export class RawShell {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Insert a prebuilt fragment unquoted into `sh`. Only for fragments built by `sh`/`quote`. */
export function raw(text: string): RawShell {
  return new RawShell(text);
}

type ShellArg = string | number | boolean | RawShell | ReadonlyArray<string | number | boolean | RawShell>;

function quoteArg(a: ShellArg): string {
  if (a instanceof RawShell) return a.text;
  if (Array.isArray(a)) return a.map((x) => quoteArg(x as ShellArg)).join(' ');
  return quote(a as string | number | boolean);
}

/**
 * Tagged template: every interpolated value is quoted (arrays become several quoted words).
 *   sh`chown ${owner}:${group} ${path}`  ->  chown 'a b':g '/tmp/x y'
 * Note `${owner}:${group}` quotes both parts separately, which sh concatenates into one word.
 */
export function sh(strings: TemplateStringsArray, ...values: ShellArg[]): string {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += quoteArg(values[i]) + strings[i + 1];
  return out;
}

/**
 * A path as an operand of a program that cannot be told where its options end, such as `find`
 * (which reads any first word starting with `-`, or `(`, `!`, `)`, `,`, as its expression, even
 * after `--`) or `test`. A relative path gets `./` in front, so no path can be read as an option
 * or an operator; it names the same file. Still quote the result (`sh` does).
 */
export function pathArg(p: string): string {
  if (p === '') throw new Error('an empty path names no file');
  return p.startsWith('/') || p.startsWith('./') ? p : `./${p}`;
}
