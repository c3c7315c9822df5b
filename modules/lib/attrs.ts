/**
 * File attributes shared by the file-handling modules (copy, template, file, lineinfile):
 * parsing `mode` the way Ansible users write it, deciding which of owner/group/mode drifted,
 * and building the chown/chmod command that fixes exactly that.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import { ACCOUNT_ID_PATTERN, ACCOUNT_NAME_MAX, ModuleFailure, raw, sh, type Change, type DiffText, type FileStat } from '../../runner/module-api';

/** owner/group/mode as a module receives them (mode already normalised by `modeArg`). */
export interface Attrs {
  owner?: string;
  group?: string;
  /** 4-digit octal ("0644") or a symbolic mode ("u=rw,g=r,o=") */
  mode?: string;
}

/** The symbolic form chmod takes: `u=rw,g=r,o=`, `a+X`, `g=u`. */
const SYMBOLIC = '([ugoa]*([-+=]([rwxXst]*|[ugo]))+)(,[ugoa]*([-+=]([rwxXst]*|[ugo]))+)*';
/** Octal as a string: 644, 0644, 01777, and Python/YAML 1.2 style 0o644. */
const OCTAL_TEXT = '0?[0-7]{3,4}|0[oO][0-7]{3,4}';

/** `mode` of a file the module writes itself: octal only (a string, or a YAML number, see modeArg). */
// One schema with two types, not anyOf: with ajv's coerceTypes an anyOf's string branch would
// turn the YAML number 420 into the string "420" (octal 0420) before modeArg could see it; with
// a type list ajv coerces only a value of neither type. `pattern` applies to strings only.
export const OCTAL_MODE_SCHEMA = {
  type: ['string', 'integer'],
  pattern: `^(${OCTAL_TEXT})$`,
  minimum: 0,
  description: "Permissions as a quoted octal string ('0644'). See `tsplay doc file` for unquoted numbers.",
} as const;

/** What an invalid owner/group error points the user to (runner/names.ts has the why). */
export const ACCOUNT_RULE = `A name is a letter or "_", then letters, digits, "_", ".", "-" (at most ${ACCOUNT_NAME_MAX}); never starting with "-".`;

/** JSON Schema fragments every file module uses, so `tsplay doc` describes them the same way. */
export const ATTR_SCHEMA = {
  owner: {
    anyOf: [{ type: 'string', pattern: ACCOUNT_ID_PATTERN, maxLength: ACCOUNT_NAME_MAX }, { type: 'integer', minimum: 0 }],
    description: 'Name (or numeric uid) of the user that should own the file. ' + ACCOUNT_RULE,
  },
  group: {
    anyOf: [{ type: 'string', pattern: ACCOUNT_ID_PATTERN, maxLength: ACCOUNT_NAME_MAX }, { type: 'integer', minimum: 0 }],
    description: 'Name (or numeric gid) of the group that should own the file. ' + ACCOUNT_RULE,
  },
  mode: {
    // a type list, not anyOf: see OCTAL_MODE_SCHEMA
    type: ['string', 'integer'],
    pattern: `^(${OCTAL_TEXT}|${SYMBOLIC})$`,
    minimum: 0,
    description:
      "Permissions: an octal string ('0644', '0o644'), or symbolic ('u=rw,g=r,o='). Quote it. An unquoted 0644 " +
      "is YAML's octal number and works; an unquoted 644 is the decimal number 644 (octal 01204) and is an error " +
      "with the quoted form to write, as is any number that is not a plausible mode.",
  },
} as const;

const OCTAL = /^0?[0-7]{3,4}$/;

/** Modes people write. A YAML number that is one of these is taken as it is. */
const COMMON_MODES = new Set([
  0o000, 0o400, 0o440, 0o444, 0o500, 0o550, 0o555, 0o600, 0o640, 0o644, 0o660, 0o664, 0o666, 0o700, 0o710, 0o711, 0o750,
  0o751, 0o755, 0o770, 0o771, 0o775, 0o777, 0o1730, 0o1770, 0o1777, 0o2750, 0o2755, 0o2770, 0o2775, 0o2777, 0o4750, 0o4755,
  0o6755,
]);

/**
 * A mode that makes sense: nobody gets a right the owner lacks, and setuid/setgid/sticky come
 * with an x bit they mean something with. 01204 (what an unquoted 644 is) does not.
 */
export function plausibleMode(m: number): boolean {
  if (!Number.isInteger(m) || m < 0 || m > 0o7777) return false;
  const u = (m >> 6) & 7;
  const g = (m >> 3) & 7;
  const o = m & 7;
  if (g & ~u || o & ~u) return false;
  if (m & 0o4000 && !(u & 1)) return false;
  if (m & 0o2000 && !(g & 1)) return false;
  if (m & 0o1000 && !(m & 0o111)) return false;
  return true;
}

function octal4(m: number): string {
  return m.toString(8).padStart(4, '0');
}

/**
 * A YAML number as a mode. YAML 1.1 (the playbook loader's) reads an unquoted `0644` as the
 * octal number 420, so the number IS the mode, as in Ansible. But an unquoted `644` is the
 * decimal number 644, octal 01204: Ansible silently sets that. Here a number whose decimal
 * digits are a plausible octal mode, while the number itself is not a common mode, is taken as
 * that slip and refused with the quoted form to write; so is any number that is no plausible mode.
 */
function numericMode(v: number): string {
  const fail = (why: string, hint?: number): never => {
    throw new ModuleFailure(`mode ${v} ${why}${hint !== undefined ? `: did you mean '${octal4(hint)}'? Quote it: mode: '${octal4(hint)}'` : ''}`, { invalid_mode: v });
  };
  if (!Number.isInteger(v) || v < 0) fail('is not a permission');
  const digits = String(v);
  // the octal mode the digits spell, when that is what the user typed without a leading 0
  const typed = /^[0-7]{1,5}$/.test(digits) ? parseInt(digits, 8) : undefined;
  const slip = typed !== undefined && typed !== v && typed <= 0o7777 && (COMMON_MODES.has(typed) || plausibleMode(typed));
  if (slip && !COMMON_MODES.has(v)) fail(`is read by YAML as the decimal number ${v} (octal ${v <= 0o7777 ? octal4(v) : v.toString(8)})`, typed);
  if (v > 0o7777) fail(`(octal ${v.toString(8)}) is larger than any permission (07777)`);
  if (!COMMON_MODES.has(v) && !plausibleMode(v)) {
    throw new ModuleFailure(`mode ${v} is the unusual permission ${octal4(v)}; if that is meant, write it quoted: mode: '${octal4(v)}'`, { invalid_mode: v });
  }
  return octal4(v);
}

/**
 * Normalise a `mode` argument to a 4-digit octal string or a checked symbolic mode. The one
 * place modes are parsed: strings are octal digits as written ('644', '0644', '0o644') or
 * symbolic; numbers are YAML's, see `numericMode`.
 */
export function modeArg(mode: string | number | undefined): string | undefined {
  if (mode === undefined || mode === null) return undefined;
  if (typeof mode === 'number') return numericMode(mode);
  const s = mode.trim();
  if (OCTAL.test(s)) return s.padStart(4, '0');
  if (/^0[oO][0-7]{3,4}$/.test(s)) return s.slice(2).padStart(4, '0');
  // validates the symbolic form now, so a bad mode fails in plan rather than half-way through apply
  applySymbolic(s, 0, false);
  return s;
}

const CLASS_SHIFT: Record<'u' | 'g' | 'o', number> = { u: 6, g: 3, o: 0 };

/** Apply a symbolic mode (`u+x,g-w,o=`) to `current` bits, as chmod does (no umask: missing "who" means "a"). */
export function applySymbolic(mode: string, current: number, isDir: boolean): number {
  let bits = current;
  for (const clause of mode.split(',')) {
    const m = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/.exec(clause);
    if (!m) throw new ModuleFailure(`bad symbolic mode '${mode}'`, { invalid_mode: mode });
    let who = m[1].replace(/a/g, 'ugo');
    if (who === '') who = 'ugo';
    const classes = [...new Set(who.split(''))] as Array<'u' | 'g' | 'o'>;
    const ops = m[2].match(/[-+=](?:[ugo]|[rwxXst]*)/g) ?? [];
    for (const op of ops) {
      const sign = op[0];
      const perms = op.slice(1);
      let add = 0;
      let clear = 0;
      for (const c of classes) {
        const shift = CLASS_SHIFT[c];
        let p = 0;
        if (/^[ugo]$/.test(perms)) {
          // copy another class's bits (g=u)
          p = ((bits >> CLASS_SHIFT[perms as 'u' | 'g' | 'o']) & 7) << shift;
        } else {
          for (const ch of perms) {
            if (ch === 'r') p |= 4 << shift;
            else if (ch === 'w') p |= 2 << shift;
            else if (ch === 'x') p |= 1 << shift;
            else if (ch === 'X' && (isDir || (bits & 0o111) !== 0)) p |= 1 << shift;
            else if (ch === 's' && c === 'u') p |= 0o4000;
            else if (ch === 's' && c === 'g') p |= 0o2000;
            else if (ch === 't' && c === 'o') p |= 0o1000;
          }
        }
        add |= p;
        clear |= (7 << shift) | (c === 'u' ? 0o4000 : c === 'g' ? 0o2000 : 0o1000);
      }
      if (sign === '+') bits |= add;
      else if (sign === '-') bits &= ~add;
      else bits = (bits & ~clear) | add;
    }
  }
  return bits & 0o7777;
}

/**
 * The exact 4-digit octal mode a file should end with. Symbolic modes are relative to the
 * current mode; for a file that does not exist yet they start from `fallback` (what a new
 * file or directory gets under the usual umask 022).
 */
export function resolveMode(mode: string, current: string | undefined, isDir: boolean): string {
  if (OCTAL.test(mode)) return mode.padStart(4, '0');
  const base = current !== undefined ? parseInt(current, 8) : isDir ? 0o755 : 0o644;
  return applySymbolic(mode, base, isDir).toString(8).padStart(4, '0');
}

/** owner/group arguments may be numbers in YAML; commands and comparisons want strings. */
export function idArg(v: string | number | undefined): string | undefined {
  return v === undefined || v === null ? undefined : String(v);
}

function ownerMatches(want: string, name: string | undefined, id: number | undefined): boolean {
  if (/^\d+$/.test(want)) return id === Number(want);
  return name === want;
}

export interface Drift {
  owner?: [string, string];
  group?: [string, string];
  mode?: [string, string];
}

/** Which of owner/group/mode differ between `st` (an existing entry) and what is wanted. */
export function attrDrift(st: FileStat, want: Attrs): Drift {
  const d: Drift = {};
  if (want.owner !== undefined && !ownerMatches(want.owner, st.owner, st.uid)) {
    d.owner = [st.owner ?? String(st.uid), want.owner];
  }
  if (want.group !== undefined && !ownerMatches(want.group, st.group, st.gid)) {
    d.group = [st.group ?? String(st.gid), want.group];
  }
  // a symlink's own permission bits mean nothing on Linux: never "fix" them
  if (want.mode !== undefined && st.type !== 'link') {
    const target = resolveMode(want.mode, st.mode, st.type === 'directory');
    if (target !== st.mode) d.mode = [st.mode ?? '?', target];
  }
  return d;
}

export function hasDrift(d: Drift): boolean {
  return d.owner !== undefined || d.group !== undefined || d.mode !== undefined;
}

/**
 * chown/chgrp/chmod for the drifted attributes only. `--` comes first so a
 * name starting with '-' is never an option. chmod gets a 5-digit mode because GNU
 * chmod keeps a directory's setgid bit under a 4-digit one; `-h` acts on a link itself.
 */
export function attrCommand(path: string, d: Drift, opts: { link?: boolean } = {}): string {
  const h = raw(opts.link ? ' -h' : '');
  const parts: string[] = [];
  if (d.owner && d.group) parts.push(sh`chown${h} -- ${d.owner[1]}:${d.group[1]} ${path}`);
  else if (d.owner) parts.push(sh`chown${h} -- ${d.owner[1]} ${path}`);
  else if (d.group) parts.push(sh`chgrp${h} -- ${d.group[1]} ${path}`);
  if (d.mode) parts.push(sh`chmod -- ${'0' + d.mode[1]} ${path}`);
  return parts.join(' && ');
}

/** Lines like "owner: root" for --diff: only the drifted attributes. */
export function attrDiff(path: string, d: Drift): DiffText {
  const before: string[] = [];
  const after: string[] = [];
  for (const k of ['owner', 'group', 'mode'] as const) {
    const v = d[k];
    if (v) {
      before.push(`${k}: ${v[0]}`);
      after.push(`${k}: ${v[1]}`);
    }
  }
  return { path, before: before.join('\n') + '\n', after: after.join('\n') + '\n' };
}

export function driftSummary(path: string, d: Drift): string {
  const what: string[] = [];
  if (d.owner) what.push(`owner ${d.owner[1]}`);
  if (d.group) what.push(`group ${d.group[1]}`);
  if (d.mode) what.push(`mode ${d.mode[1]}`);
  return `set ${what.join(', ')} on ${path}`;
}

/** The exec change fixing attribute drift on an existing entry, or null when nothing drifted. */
export function attrChange(path: string, st: FileStat, want: Attrs): Change | null {
  const d = attrDrift(st, want);
  if (!hasDrift(d)) return null;
  return {
    kind: 'exec',
    summary: driftSummary(path, d),
    command: attrCommand(path, d, { link: st.type === 'link' }),
    diff: attrDiff(path, d),
  };
}

/**
 * `mkdir -p` the missing directories, then give exactly those the wanted owner/group/mode
 * (Ansible applies a directory's attributes to every directory it had to create).
 */
export function mkdirChange(dirs: string[], attrs: Attrs, summary: string): Change {
  const parts = [sh`mkdir -p -- ${dirs}`];
  const drift: Drift = {};
  if (attrs.owner !== undefined) drift.owner = ['', attrs.owner];
  if (attrs.group !== undefined) drift.group = ['', attrs.group];
  if (attrs.mode !== undefined) drift.mode = ['', resolveMode(attrs.mode, undefined, true)];
  for (const d of dirs) {
    const fix = attrCommand(d, drift);
    if (fix) parts.push(fix);
  }
  return {
    kind: 'exec',
    summary,
    command: parts.join(' && '),
    diff: {
      path: dirs[dirs.length - 1],
      before: dirs.map((d) => `${d}: absent`).join('\n') + '\n',
      after: dirs.map((d) => `${d}: directory`).join('\n') + '\n',
    },
  };
}
