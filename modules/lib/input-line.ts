/**
 * Values that become a record (a line) of a program's input, such as chpasswd's `name:hash`
 * on stdin. A newline in a value would end the record and start one of the value's choosing
 * (`x\nroot:<hash>` sets root's password); other control characters and the record's field
 * separators corrupt it the same way. Such a value is refused, not escaped: these programs have
 * no escape syntax.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import { ModuleFailure } from '../../runner/module-api';

/**
 * `value` unchanged, or a failure naming `what` when it holds a control character or one of
 * `separators`. The value itself is never shown: it may be a secret (a password hash).
 */
export function inputField(what: string, value: string, separators = ''): string {
  // C0 controls, DEL and the C1 range (which some terminals and parsers also act on)
  const bad = /[\u0000-\u001f\u007f-\u009f]/.exec(value) ?? (separators ? new RegExp(`[${separators.replace(/[\\\]^-]/g, '\\$&')}]`).exec(value) : null);
  if (!bad) return value;
  const c = bad[0];
  const name = c === '\n' ? 'a newline' : c === '\r' ? 'a carriage return' : c < ' ' || c >= '\u007f' ? `the control character U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}` : `"${c}"`;
  throw new ModuleFailure(`${what} contains ${name}, which would end or split a record of the program's input; it is refused`, { invalid_argument: what });
}
