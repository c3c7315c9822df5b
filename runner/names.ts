/**
 * Account names (users and groups): the one rule for every name tsplay hands to a program on
 * the host: su/sudo (become_user), chown/chgrp, find -user/-group, useradd/usermod/groupadd,
 * getent, runuser. A name is where su reads its options (`su ... USER`), so a name starting
 * with `-` (`--command=touch /x`) would be an option run as root; a name with `:` would split
 * chown's `owner:group` or a chpasswd/passwd record; `,` would split usermod's group list.
 *
 * The rule is shadow-utils' default (what `useradd` accepts without --badname: the POSIX portable
 * filename set, not starting with `-`, plus a trailing `$` for Samba machine accounts), with upper
 * case allowed too, since directory services (LDAP, SSSD) serve such names:
 *   - first character a letter or `_`, then letters, digits, `_`, `.`, `-`, optionally ending in `$`
 *   - at most 32 characters (useradd's limit; utmp keeps 32)
 *   - digits only: a numeric uid/gid, accepted only where the program takes ids (chown, find
 *     -user, useradd -g); su and sudo -u read digits as a *name*, so become_user rejects it.
 */

import { TsplayError, type SourceLocation } from './errors';

export const ACCOUNT_NAME_MAX = 32;

/** JSON Schema `pattern` of a name (pair it with `maxLength: ACCOUNT_NAME_MAX`). */
export const ACCOUNT_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_.-]*\\$?$';

/** JSON Schema `pattern` of a name or a numeric id (owner, group). */
export const ACCOUNT_ID_PATTERN = '^(?:[A-Za-z_][A-Za-z0-9_.-]*\\$?|[0-9]{1,10})$';

const NAME = new RegExp(ACCOUNT_NAME_PATTERN);
const ID = new RegExp(ACCOUNT_ID_PATTERN);

/** A value short enough to show in a message (a 200 kB name must not fill the screen). */
function shown(v: string): string {
  const s = JSON.stringify(v.length > 40 ? v.slice(0, 40) : v);
  return v.length > 40 ? `${s}... (${v.length} characters)` : s;
}

/**
 * Why `value` is not an account name, or undefined when it is one. `numeric`: digits-only ids
 * are accepted too.
 */
export function accountNameProblem(value: unknown, opts: { numeric?: boolean } = {}): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${value === null ? 'null' : typeof value}`;
  if (value === '') return 'must not be empty';
  const rule = `(a letter or "_", then letters, digits, "_", ".", "-"; at most ${ACCOUNT_NAME_MAX})`;
  // the most telling reason first: an option, then a bad character, then the length
  if (value.startsWith('-')) return `${shown(value)} starts with "-", so a program would read it as an option ${rule}`;
  if (/^[0-9]+$/.test(value)) {
    if (!opts.numeric) return `${shown(value)} is a number; su and sudo take a user name here`;
    return ID.test(value) ? undefined : `${shown(value)} is too large for a uid/gid`;
  }
  if (!NAME.test(value)) return `${shown(value)} has characters a user or group name cannot have ${rule}`;
  if (value.length > ACCOUNT_NAME_MAX) return `${shown(value)} is longer than ${ACCOUNT_NAME_MAX} characters`;
  return undefined;
}

/** The become user, checked; an invalid one is an error at the task that asked for it. */
export function checkBecomeUser(value: string, loc?: SourceLocation): string {
  const problem = accountNameProblem(value);
  if (problem) throw new TsplayError(`become_user ${problem}`, loc);
  return value;
}
