/**
 * The host-side script of Remote.writeFile (one command on the persistent shell; its stdin is
 * exactly the N bytes to write). Pure: it only builds text, so tests can read and attack it.
 *
 * What it guards against, and how:
 *  - An interrupted transfer (controller SIGKILLed, second Ctrl-C, dropped connection) gives the
 *    script fewer bytes than planned: `head -c N` just meets EOF. Nothing is committed unless the
 *    temp file holds exactly N bytes with the sha256 the controller computed; otherwise it is
 *    removed. A kill of the script itself (TERM, then KILL 0.5-1 s later, from the session) runs
 *    the trap that removes it; a KILL that comes first leaves a private directory that the next
 *    write into the same directory removes (see STALE below).
 *  - A directory writable by someone else (a web root owned by the app user): the temp file lives
 *    in a private directory `.tsplay-tmp-<shell pid>-<random>` created with mode 0700 in the
 *    target's directory (so the rename stays on one filesystem). The script `cd -P`s into it and
 *    then names the temp file only relatively (`./name`): even if the other user renames the
 *    private directory and plants a look-alike with a symlink in it, every chmod, chown, write,
 *    backup copy and the rename act on the script's own directory, never through a link.
 *  - `validate` runs without a shell: the argv the controller split (shlex) is quoted word by
 *    word; `%s` becomes the temp file's path inside one word.
 *  - Mode and owner of a replaced file come from one `stat` that does not follow links: only a
 *    regular file at the target lends its mode/owner; a symlink there (or nothing) gives the
 *    task's mode/owner or the defaults of a new file, never those of the link's target.
 *  - The backup is a copy made in the private directory and hard-linked to `dest.TIMESTAMP`
 *    (then `-1`, `-2`, ...): link(2) never follows a symlink and fails on any existing name, so
 *    a planted symlink or file at the predictable name is skipped, never written through.
 *
 * Every user value goes through runner/shell-quote; the script never evals anything.
 */

import { posix } from 'path';
import { quote } from '../shell-quote';

export interface WriteScriptInput {
  /** marker prefix for the script's status lines on stderr (`<tok>:<step>:<rc>`) */
  tok: string;
  path: string;
  /** random part of the private directory's name */
  nonce: string;
  size: number;
  sha256: string;
  /** octal string, already checked against /^[0-7]{3,4}$/ */
  mode?: string;
  owner?: string;
  group?: string;
  /** the validate command split into words; `%s` in a word is the temp file's path */
  validate?: string[];
  /** `dest.YYYYMMDD-HHMMSS`: first backup name tried */
  backup?: string;
}

/** Prefix of the private directories (and of the old code's temp files, still cleaned by hand). */
export const TEMP_PREFIX = '.tsplay-tmp-';

/** A word of the validate argv with each `%s` replaced by the temp path ("$d"/name, one word). */
function validateWord(word: string, tempRef: string): string {
  if (!word.includes('%s')) return quote(word);
  return word
    .split('%s')
    .map((part) => (part === '' ? '' : quote(part)))
    .join(tempRef);
}

/**
 * STALE: remove private directories whose writer is gone, before making a new one. Stale means
 * the pid in the name is not a live process (or is this very shell: one command at a time runs
 * in a session, so an older directory of ours is left over). Only a real directory (not a link)
 * owned by this user is removed; `rm -rf` does not follow links inside it. Costs no fork unless
 * such a directory exists (the glob and the tests are builtins).
 */
const STALE = [
  `for x in "$D"/${TEMP_PREFIX}*; do`,
  `  y=\${x##*/${TEMP_PREFIX}}; q=\${y%%-*}`,
  `  case $q in ''|*[!0-9]*) continue ;; esac`,
  `  if [ "$q" != "$$" ] && kill -0 "$q" 2>/dev/null; then continue; fi`,
  `  if [ -d "$x" ] && [ ! -h "$x" ] && [ -O "$x" ]; then rm -rf -- "$x" 2>/dev/null; fi`,
  `done`,
].join('\n');

export function writeScript(w: WriteScriptInput): string {
  const name = posix.basename(w.path);
  // the temp file has the target's name (validators that look at the name or extension see the
  // real one), in the private directory; `./` keeps a name starting with '-' from being an option
  const rel = quote(`./${name}`);
  const relBackup = quote(`./${name}.tsplay-backup`);
  const modeBits = w.mode !== undefined ? Number.parseInt(w.mode, 8) : undefined;
  // The shell creates files 0666 & ~umask: a mode without x and special bits is made directly
  // (no chmod). The private directory keeps the file unreachable meanwhile, whatever its mode.
  // The owner keeps read and write until the end: the checksum and the validator read the file
  // (a 0200 or 0000 file made by a non-root writer could not be read back), chmod comes last.
  const umask = modeBits !== undefined ? (0o777 & ~(modeBits | 0o600)).toString(8).padStart(3, '0') : undefined;
  // The script works from inside the private directory: a relative path is made absolute first.
  const abs = (p: string): string => (p.startsWith('/') ? quote(p) : `"$o"/${quote(p)}`);
  const lines: string[] = [
    `k=${quote(w.tok)}; o=$PWD; p=${abs(w.path)}; D=${abs(posix.dirname(w.path))}`,
    `d="$D"/${quote(TEMP_PREFIX)}"$$"-${quote(w.nonce)}; made=; inside=`,
    // Remove what this write made. Relative names only once inside the private directory; the
    // directory itself by name (if it was swapped, rmdir of someone else's non-empty one fails).
    `clean() { if [ -n "$inside" ]; then rm -f -- ${rel} ${relBackup}; fi; if [ -n "$made" ]; then rmdir -- "$d" 2>/dev/null; fi; made=; inside=; }`,
    // clean before reporting: when the connection is gone, the report's write raises SIGPIPE
    `fail() { r=$?; clean; printf '%s:%s:%s\\n' "$k" "$1" "$r" >&2; exit 1; }`,
    `trap 'clean; exit 1' HUP INT TERM PIPE`,
    STALE,
    // mkdir never follows a symlink at $d and fails if anything is there
    `( umask 077; mkdir -- "$d" ) || fail mktemp`,
    'made=1',
    `cd -P -- "$d" && [ . -ef "$d" ] && [ -O . ] || fail mktemp`,
    'inside=1',
    // noclobber: O_CREAT|O_EXCL, so the one open creates the file (never through a link)
    `( ${umask !== undefined ? `umask ${umask}; ` : ''}set -C; cat > ${rel} ) || fail write`,
    // size, uid, gid, mode (octal), raw mode (hex) of the temp file in $1..$5, then of the target
    // as it is in $6..$10 (stat does not follow links: a link at the target is a link)
    `set -- $(LC_ALL=C stat -c '%s %u %g %a %f' -- ${rel} "$p" 2>/dev/null)`,
    `[ "$1" = ${w.size} ] || fail short`,
    // The content must be the planned content. sha256sum is coreutils (every Debian); without it
    // openssl, then shasum; with none of them the exact size above is all that is checked.
    'if command -v sha256sum >/dev/null 2>&1; then h=$(sha256sum < ' + rel + ') || fail checksum',
    'elif command -v openssl >/dev/null 2>&1; then h=$(openssl dgst -sha256 -r < ' + rel + ') || fail checksum',
    'elif command -v shasum >/dev/null 2>&1; then h=$(shasum -a 256 < ' + rel + ') || fail checksum',
    `else h=${w.sha256}; fi`,
    `[ "\${h%% *}" = ${w.sha256} ] || fail checksum`,
    `sync -- ${rel} || fail fsync`,
    // a regular file at the target (not a link, not a directory) lends its owner and mode
    `reg=; if [ -n "\${10}" ] && [ $((0x\${10} & 0170000)) -eq 32768 ]; then reg=1; fi`,
  ];
  // chown before chmod: chown clears setuid/setgid bits that chmod sets
  if (w.owner !== undefined || w.group !== undefined) {
    const spec = `${w.owner ?? ''}${w.group !== undefined ? `:${w.group}` : ''}`;
    lines.push(`chown -- ${quote(spec)} ${rel} || fail chown`);
  } else {
    // a non-root writer cannot give a file away: the file stays its own, as before
    lines.push(`if [ -n "$reg" ] && [ "$7:$8" != "$2:$3" ]; then chown -- "$7:$8" ${rel} 2>/dev/null || :; fi`);
  }
  if (w.validate !== undefined) {
    const tempRef = `"$d"/${quote(name)}`;
    const words = w.validate.some((x) => x.includes('%s')) ? w.validate : [...w.validate, '%s'];
    // The validator runs where the session's commands run (relative paths in it keep working).
    // `exec` with a quoted first word: always a program from PATH, as Ansible's argv runs it, never
    // an assignment (`A=b`), a reserved word (`if`), a builtin (`eval`) or a function of this script.
    const argv = [`'${words[0].replace(/'/g, `'\\''`)}'`, ...words.slice(1).map((x) => validateWord(x, tempRef))];
    if (words[0].includes('%s')) argv[0] = validateWord(words[0], tempRef);
    lines.push(`( cd -P -- "$o" 2>/dev/null || cd /; exec ${argv.join(' ')} ) </dev/null || fail validate`);
  }
  // the mode last (after chown, which clears setuid/setgid; after validate, which reads the file)
  if (modeBits !== undefined) {
    lines.push(`[ "$4" = ${modeBits.toString(8)} ] || chmod -- ${quote(w.mode!)} ${rel} || fail chmod`);
  } else {
    // the shell made a new file 0666 & ~umask already: the default for a new file
    lines.push(`if [ -n "$reg" ] && [ "$9" != "$4" ]; then chmod -- "$9" ${rel} || fail chmod; fi`);
  }
  lines.push('n=');
  if (w.backup !== undefined) {
    const base = abs(w.backup);
    lines.push(
      `if [ -f "$p" ] || [ -h "$p" ]; then`,
      // -P: a link at the target is kept as a link (a copy of it), not as its target's content
      `  cp -P -p -- "$p" ${relBackup} || fail backup`,
      `  b=${base}; n=0`,
      `  until ln -P -T -- ${relBackup} "$b" 2>/dev/null; do`,
      `    if [ ! -e "$b" ] && [ ! -h "$b" ]; then ln -P -T -- ${relBackup} "$b" || fail backup; break; fi`,
      `    n=$((n + 1)); [ "$n" -le 99 ] || fail backup; b=${base}-"$n"`,
      `  done`,
      `  rm -f -- ${relBackup}`,
      `fi`,
    );
  }
  lines.push(`mv -T -f -- ${rel} "$p" || fail rename`, 'inside=; clean', `[ -z "$n" ] || printf '%s:backup:%s\\n' "$k" "$n" >&2`);
  return lines.join('\n');
}
