/**
 * Shell for modules that create a new file under a predictable name in a directory someone else
 * may be able to write to (archive, postgres_backup: `dest_dir/<name>-YYYYMMDD-HHMMSS.<ext>`).
 *
 * A name that can be predicted can be planted: a dangling symlink there made `tar -czf NAME`
 * (or `gzip > NAME`) create the link's target wherever it pointed, and `[ -e NAME ]` does not see
 * a dangling link. So the output is written into a private directory (mode 0700, made by mkdir,
 * which never follows a link, entered with `cd -P` and then named only relatively), and only the
 * finished file is published with link(2) (`ln -T`): it never follows a symlink and fails on any
 * existing name, so a planted link or file is skipped for the next name (`-1`, `-2`, ...), never
 * written through. A partial output never appears under a final name.
 *
 * A private directory left behind by a killed run (TERM runs the trap that removes it; only a
 * KILL that comes first leaves it) is removed by the next run into the same dest_dir when its
 * writer (the pid in its name) is gone. Every value is quoted with the module-api `sh`/`quote`.
 */

import { quote, sh } from '../../runner/module-api';

export const PRIVATE_PREFIX = '.tsplay-tmp-';

export interface PrivateOutput {
  /** directory of the published file (created 0700 if missing) */
  destDir: string;
  /** the file name before `-YYYYMMDD-HHMMSS` */
  prefix: string;
  /** after the timestamp, e.g. "tar.gz" */
  ext: string;
  /**
   * Lines that write the output to `./out` (the shell is in the private directory); they must
   * `fail "<message>"` on an error. Programs that need no cwd should run from `/` (`( cd / && ...)`).
   */
  produce: string[];
  /** `[label, shell variable]` set by produce that the output reports too (e.g. ["tarrc", "rc"]) */
  report?: [string, string];
  /** the word before the published path in the output ("archive", "backup") */
  pathLabel: string;
}

/**
 * The whole command. It prints `size <bytes>\n[<label> <value>\n]<pathLabel> <published path>`
 * (the path last and unterminated: it may hold a newline).
 */
export function privateOutputCommand(o: PrivateOutput): string {
  const stem = `${quote(o.destDir.replace(/\/+$/, '') || '/')}/${quote(o.prefix)}`;
  const ext = quote(`.${o.ext}`);
  return [
    'umask 077',
    sh`mkdir -p -- ${o.destDir} || exit 1`,
    // an unguessable name, drawn on the host (a builtin read), so that the command is the same
    // text each time it is planned; mkdir fails on anything already there
    `u=; read -r u < /proc/sys/kernel/random/uuid 2>/dev/null; [ -n "$u" ] || u=$(date +%s%N)`,
    sh`D=${o.destDir}; d="$D"/${PRIVATE_PREFIX}"$$"-"$u"; made=; inside=`,
    // relative names only once inside; the directory by name (rmdir fails on someone else's non-empty one)
    'clean() { if [ -n "$inside" ]; then rm -f -- ./out; fi; if [ -n "$made" ]; then rmdir -- "$d" 2>/dev/null; fi; made=; inside=; }',
    // an empty message: the program's own stderr says it; the exit status is the program's
    'fail() { clean; [ -z "$1" ] || printf \'%s\\n\' "$1" >&2; exit "${2:-1}"; }',
    "trap 'clean; exit 1' HUP INT TERM PIPE",
    // left over by a killed run: the writer in the name is gone (or is this very shell)
    `for x in "$D"/${PRIVATE_PREFIX}*; do y=\${x##*/${PRIVATE_PREFIX}}; q=\${y%%-*}; case $q in ''|*[!0-9]*) continue ;; esac;` +
      ` if [ "$q" != "$$" ] && kill -0 "$q" 2>/dev/null; then continue; fi;` +
      ` if [ -d "$x" ] && [ ! -h "$x" ] && [ -O "$x" ]; then rm -rf -- "$x" 2>/dev/null; fi; done`,
    'mkdir -- "$d" || fail "cannot create a private directory in $D"',
    'made=1',
    'cd -P -- "$d" && [ . -ef "$d" ] && [ -O . ] || fail "cannot use the private directory $d"',
    'inside=1',
    // the time the backup started names it
    'ts=$(date +%Y%m%d-%H%M%S)',
    ...o.produce,
    `f=${stem}-"$ts"${ext}; n=1`,
    'until ln -T -- ./out "$f" 2>/dev/null; do',
    '  if [ ! -e "$f" ] && [ ! -h "$f" ]; then ln -T -- ./out "$f" || fail "cannot publish $f"; break; fi',
    `  f=${stem}-"$ts"-"$n"${ext}; n=$((n + 1)); [ "$n" -le 99 ] || fail "no free name for the backup in $D"`,
    'done',
    'size=$(wc -c < ./out | tr -d " ")',
    'clean',
    o.report
      ? `printf 'size %s\\n${o.report[0]} %s\\n${o.pathLabel} %s' "$size" "$${o.report[1]}" "$f"`
      : `printf 'size %s\\n${o.pathLabel} %s' "$size" "$f"`,
  ].join('\n');
}

/** Parse what privateOutputCommand printed. */
export function parsePrivateOutput(stdout: string, pathLabel: string): { path: string; fields: Record<string, string> } {
  const at = stdout.indexOf(`\n${pathLabel} `);
  const fields: Record<string, string> = {};
  for (const line of stdout.slice(0, at).split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1);
  }
  return { path: stdout.slice(at + pathLabel.length + 2), fields };
}
