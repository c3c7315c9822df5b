/**
 * stat: facts about a path on the host, for `register` and `when`. Never changes anything.
 *
 * Arguments:
 *   path           the path on the host
 *   follow         report on what a symbolic link points to (default false: the link itself)
 *   get_checksum   include `checksum`, the hex sha256 of a regular file (default true)
 *
 * Result: stat: {exists, path, isdir, isreg, islnk, mode, uid, gid, pw_name, gr_name, size,
 * mtime, lnk_target (links), checksum (regular files; sha256, where Ansible uses sha1)}
 *
 * Example:
 *   - stat:
 *       path: /var/lib/postgresql/15/main/PG_VERSION
 *     register: pgdata
 *   - command: pg_createcluster 15 main
 *     when: not pgdata.stat.exists
 *
 * Check mode: the same as a normal run (it only reads).
 */

import { defineModule } from '../runner/module-api';

export interface StatArgs {
  path: string;
  follow?: boolean;
  get_checksum?: boolean;
}

export default defineModule<StatArgs>({
  name: 'stat',
  description: 'Facts about a path on the host (exists, type, owner, mode, size, sha256); never changes anything.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, description: 'The path on the host.' },
      follow: { type: 'boolean', default: false, description: 'Follow a symbolic link and report on its target.' },
      get_checksum: {
        type: 'boolean',
        default: true,
        description: 'Include checksum (hex sha256) for a regular file.',
      },
    },
    required: ['path'],
    additionalProperties: false,
  },
  example: `- stat:
    path: /etc/patroni/patroni.yml
  register: patroni_conf
- debug:
    msg: "config is {{ patroni_conf.stat.size }} bytes"
  when: patroni_conf.stat.exists`,
  checkMode: 'Same as a normal run: it only reads.',
  async plan(args, ctx) {
    const [st] = await ctx.remote.stat([args.path], { checksum: args.get_checksum ?? true, follow: args.follow ?? false });
    if (!st.exists) return { changes: [], result: { stat: { exists: false, path: args.path } } };
    const stat: Record<string, unknown> = {
      exists: true,
      path: args.path,
      isdir: st.type === 'directory',
      isreg: st.type === 'file',
      islnk: st.type === 'link',
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      pw_name: st.owner,
      gr_name: st.group,
      size: st.size,
      mtime: st.mtime,
    };
    if (st.type === 'link') stat.lnk_target = st.linkTarget;
    if (st.sha256 !== undefined) stat.checksum = st.sha256;
    return { changes: [], result: { stat } };
  },
});
