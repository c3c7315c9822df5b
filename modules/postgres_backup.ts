/**
 * postgres_backup: the guide's "back up your database before starting any HA configuration step"
 * as one task. Its documentation is the defineModule fields below (`tsplay doc postgres_backup`).
 */

import { ACCOUNT_NAME_MAX, ACCOUNT_NAME_PATTERN, defineModule, lastLines, ModuleFailure, raw, sh, type ModuleContext, type Remote } from '../runner/module-api';
import { ACCOUNT_RULE } from './lib/attrs';
import { parsePrivateOutput, privateOutputCommand } from './lib/private-output';

export interface PostgresBackupArgs {
  method: 'pg_dumpall' | 'pg_basebackup';
  dest_dir: string;
  label: string;
  port: number;
  host?: string;
  os_user: string;
  bin_dir?: string;
  skip_if_down: boolean;
}

function tool(a: PostgresBackupArgs, name: string): string {
  return a.bin_dir ? sh`${`${a.bin_dir.replace(/\/+$/, '')}/${name}`}` : name;
}

function conn(a: PostgresBackupArgs): string {
  return a.host !== undefined ? sh`-p ${a.port} -h ${a.host}` : sh`-p ${a.port}`;
}

export function isReadyCommand(a: PostgresBackupArgs): string {
  return `${tool(a, 'pg_isready')} ${conn(a)}`;
}

/** pg_isready's exit codes. */
const READY: Record<number, string> = { 0: 'accepting connections', 1: 'rejecting connections (starting up?)', 2: 'no response', 3: 'no attempt (bad connection parameters)' };

export function backupCommand(a: PostgresBackupArgs): string {
  const dump =
    a.method === 'pg_dumpall'
      ? `${tool(a, 'pg_dumpall')} ${conn(a)}`
      : `${tool(a, 'pg_basebackup')} ${conn(a)} ${sh`-D - -F tar -X fetch -c fast -l ${a.label}`}`;
  const ext = a.method === 'pg_dumpall' ? 'sql.gz' : 'basebackup.tar.gz';
  // as the OS user: runuser when we are root, directly when we already are that user
  const runAs = sh`if [ "$(id -un)" = ${a.os_user} ]; then ${raw(dump)}; else runuser -u ${a.os_user} -- ${raw(dump)}; fi`;
  return privateOutputCommand({
    destDir: a.dest_dir,
    prefix: a.label,
    ext,
    pathLabel: 'backup',
    produce: [
      // Both exit statuses come out on fd 3: a pipe in sh only reports its last command's. gzip
      // writes ./out in the private directory; the tool runs from / (the private directory is
      // not the OS user's to enter, and PostgreSQL's tools look at their cwd).
      `st=$( { { ( cd / && ${runAs} ); echo "dump=$?" >&3; } | { gzip -c > ./out; echo "gzip=$?" >&3; }; } 3>&1 )`,
      'case "$st" in *dump=0*) ;; *) fail "the backup tool failed ($(echo $st))" ;; esac',
      'case "$st" in *gzip=0*) ;; *) fail "gzip failed ($(echo $st))" ;; esac',
    ],
  });
}

export default defineModule<PostgresBackupArgs>({
  name: 'postgres_backup',
  description: 'Back up PostgreSQL (pg_dumpall or pg_basebackup) into a timestamped file; skips when no server answers',
  notes: [
    'Creates dest_dir/<label>-YYYYMMDD-HHMMSS.sql.gz (pg_dumpall) or',
    'dest_dir/<label>-YYYYMMDD-HHMMSS.basebackup.tar.gz (pg_basebackup). The file is written by',
    'the task\'s user (root), private (umask 077), in a private directory first and then published',
    'with a hard link under the first free name ("-1", "-2"... when the name is taken, by anything,',
    'a dangling symlink too): never written through a link planted at the predictable name, never',
    'partial under a final name. The exit status of both the dump tool and gzip is checked, and a',
    'failure removes the partial file. Always a change when the server is up.',
  ].join('\n'),
  returns: '{ backup: path, size: bytes, method }',
  example: [
    '- name: back up the database before configuring HA',
    '  postgres_backup:',
    '    method: pg_dumpall',
    '    dest_dir: /var/backups/tsplay',
    '    port: 5432',
  ].join('\n'),
  checkMode: 'Runs pg_isready; skipped, with a message naming the backup a real run takes (or why it would skip); writes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      method: { type: 'string', enum: ['pg_dumpall', 'pg_basebackup'], default: 'pg_dumpall', description: 'pg_dumpall: SQL of every database and the roles, gzipped; pg_basebackup: physical copy, tar format, WAL fetched, gzipped (one tablespace only, since it streams to stdout)' },
      dest_dir: { type: 'string', pattern: '^/', default: '/var/backups/tsplay', description: 'directory for the backup file (created 0700)' },
      label: { type: 'string', pattern: '^[^/]+$', default: 'postgres', description: 'file name prefix (and pg_basebackup label)' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432, description: 'server port' },
      host: { type: 'string', minLength: 1, description: 'server host or socket directory (default: local socket)' },
      os_user: {
        type: 'string',
        // it reaches `runuser -u` and a `[ "$(id -un)" = ... ]` test: an option-like or odd name must not
        pattern: ACCOUNT_NAME_PATTERN,
        maxLength: ACCOUNT_NAME_MAX,
        default: 'postgres',
        description: 'OS user the PostgreSQL tools run as (through runuser unless the task already runs as it). ' + ACCOUNT_RULE,
      },
      bin_dir: { type: 'string', pattern: '^/', description: 'directory of the PostgreSQL binaries when they are not in PATH (RHEL PGDG: /usr/pgsql-16/bin)' },
      skip_if_down: { type: 'boolean', default: true, description: 'skip the task with a message (instead of failing) when no server answers pg_isready: a fresh host has nothing to back up' },
    },
  },

  async plan(a, ctx) {
    const r = await ctx.remote.query(isReadyCommand(a));
    if (r.rc === 127) throw new ModuleFailure(`postgres_backup: pg_isready not found on ${ctx.host}${a.bin_dir ? ` in ${a.bin_dir}` : ' (set bin_dir?)'}`, { rc: r.rc });
    if (r.rc !== 0) {
      const state = READY[r.rc] ?? `rc ${r.rc}`;
      const where = `${a.host ?? 'local socket'}, port ${a.port}`;
      if (a.skip_if_down && (r.rc === 1 || r.rc === 2)) {
        return { changes: [], skipped: true, msg: `no PostgreSQL server answers on ${where} (pg_isready: ${state}): backup skipped` };
      }
      throw new ModuleFailure(`postgres_backup: no PostgreSQL server answers on ${where} (pg_isready: ${state})`, { rc: r.rc, stdout: r.stdout });
    }
    const ext = a.method === 'pg_dumpall' ? 'sql.gz' : 'basebackup.tar.gz';
    const target = `${a.dest_dir.replace(/\/+$/, '')}/${a.label}-YYYYMMDD-HHMMSS.${ext}`;
    // a dry run takes no backup, and says so instead of passing for a change it will not make
    if (ctx.check) return { changes: [], skipped: true, msg: `check mode: no backup taken (a real run writes ${target})` };
    return { changes: [{ kind: 'exec', summary: `${a.method} to ${target}`, command: backupCommand(a) }] };
  },

  async apply(a, plan, ctx: ModuleContext<Remote>) {
    const c = plan.changes[0];
    if (c.kind !== 'exec') return;
    const r = await ctx.remote.exec(c.command);
    if (r.rc !== 0) throw new ModuleFailure(`${a.method} failed (rc=${r.rc}): ${lastLines(r.stderr, 5)}`, { rc: r.rc, stderr: r.stderr });
    const { path: backup, fields } = parsePrivateOutput(r.stdout, 'backup');
    const size = Number(fields.size);
    return { backup, size, method: a.method, msg: `${a.method}: ${backup} (${size} bytes)` };
  },
});
