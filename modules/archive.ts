/**
 * archive: the guide's "back up your HAProxy configuration from /etc/haproxy before making any
 * changes" as one task. Its documentation is the defineModule fields below (`tsplay doc archive`).
 */

import * as path from 'path';
import { defineModule, lastLines, ModuleFailure, sh, type ModuleContext, type Remote } from '../runner/module-api';
import { parsePrivateOutput, privateOutputCommand } from './lib/private-output';

export interface ArchiveArgs {
  path: string;
  dest_dir: string;
  name?: string;
  missing_ok: boolean;
}

function parts(p: string): { parent: string; base: string } {
  const clean = path.posix.normalize(p).replace(/\/+$/, '') || '/';
  if (clean === '/') return { parent: '/', base: '.' };
  return { parent: path.posix.dirname(clean), base: path.posix.basename(clean) };
}

function prefixOf(a: ArchiveArgs): string {
  return a.name ?? (parts(a.path).base === '.' ? 'root' : parts(a.path).base);
}

/**
 * The one command: tar into a private directory in dest_dir, then publish the archive under the
 * first free timestamped name (never through a link planted at that predictable name: see
 * lib/private-output.ts); print its size, tar's rc and its path.
 */
export function archiveCommand(a: ArchiveArgs): string {
  const { parent, base } = parts(a.path);
  return privateOutputCommand({
    destDir: a.dest_dir,
    prefix: prefixOf(a),
    ext: 'tar.gz',
    pathLabel: 'archive',
    report: ['tarrc', 'rc'],
    produce: [
      // to stdout: the shell opened ./out in the private directory; tar opens nothing by name
      sh`( cd / && tar -czf - -C ${parent} -- ${base} ) > ./out`,
      'rc=$?',
      // rc 1: some file changed while being read; the archive is still complete enough to keep
      'if [ "$rc" -gt 1 ]; then fail "" "$rc"; fi',
    ],
  });
}

export default defineModule<ArchiveArgs>({
  name: 'archive',
  description: 'Back up a path into dest_dir/<name>-YYYYMMDD-HHMMSS.tar.gz (always a change)',
  notes: [
    'Creates dest_dir/<name>-YYYYMMDD-HHMMSS.tar.gz (host\'s local time; "-1", "-2"... appended if',
    'that name is taken, by anything, a dangling symlink too) with `tar -czf`, entries relative to',
    'the parent of path. The archive is made in a private directory and published with a hard link,',
    'so nothing is ever written through a link planted at the predictable name, and a partial',
    'archive never has a final name. It is private (umask 077): backups hold configuration secrets.',
    'tar\'s rc 1 ("file changed as we read it") is accepted with a warning in the result; other',
    'errors fail and remove the partial archive. A backup is always a change: every run makes a new archive.',
  ].join('\n'),
  returns: '{ archive: path of the archive, size: bytes }',
  example: ['- name: keep the current HAProxy configuration', '  archive:', '    path: /etc/haproxy', '    dest_dir: /var/backups/tsplay'].join('\n'),
  checkMode: 'Checks that path exists; skipped, with a message naming the archive a real run creates; writes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path'],
    properties: {
      path: { type: 'string', pattern: '^/', description: 'absolute path of the file or directory to back up' },
      dest_dir: { type: 'string', pattern: '^/', default: '/var/backups/tsplay', description: 'directory for the archive (created 0700 if missing)' },
      name: { type: 'string', pattern: '^[^/]+$', description: 'archive name prefix (default: last component of path)' },
      missing_ok: { type: 'boolean', default: false, description: 'skip instead of failing when path does not exist' },
    },
  },

  async plan(a, ctx) {
    const [st] = await ctx.remote.stat([a.path]);
    if (!st.exists) {
      if (a.missing_ok) return { changes: [], skipped: true, msg: `${a.path} does not exist: nothing to back up` };
      throw new ModuleFailure(`${a.path} does not exist: nothing to back up (set missing_ok: true to skip)`, { path: a.path });
    }
    const target = `${a.dest_dir.replace(/\/+$/, '')}/${prefixOf(a)}-YYYYMMDD-HHMMSS.tar.gz`;
    // a dry run takes no backup, and says so instead of passing for a change it will not make
    if (ctx.check) return { changes: [], skipped: true, msg: `check mode: no backup taken (a real run creates ${target})` };
    return { changes: [{ kind: 'exec', summary: `archive ${a.path} to ${target}`, command: archiveCommand(a) }] };
  },

  async apply(a, plan, ctx: ModuleContext<Remote>) {
    const c = plan.changes[0];
    if (c.kind !== 'exec') return;
    const r = await ctx.remote.exec(c.command);
    if (r.rc !== 0) throw new ModuleFailure(`archive ${a.path} failed (rc=${r.rc}): ${lastLines(r.stderr, 5)}`, { rc: r.rc, stderr: r.stderr });
    const { path: archive, fields } = parsePrivateOutput(r.stdout, 'archive');
    const out: Record<string, string> = { ...fields, archive };
    const result: Record<string, unknown> = { archive: out.archive, size: Number(out.size), msg: `created ${out.archive}` };
    if (out.tarrc === '1') result.warning = `some files changed while they were archived: ${lastLines(r.stderr, 3)}`;
    return result;
  },
});
