/**
 * stat: facts about a path for `register` and `when`; never changes anything. Its documentation is the defineModule fields below (`tsplay doc stat`).
 */

import { defineModule, ModuleFailure, quote, type FileStat, type Probe } from '../runner/module-api';

/** sha256 and sha1 come with the stat probe (one round trip); another algorithm reads the file again. */
async function checksum(st: FileStat, args: StatArgs, probe: Probe): Promise<string> {
  const alg = args.checksum_algorithm ?? 'sha1';
  if (alg === 'sha256' && st.sha256) return st.sha256;
  if (alg === 'sha1' && st.sha1) return st.sha1;
  // through stdin, so the output line never carries (or escapes) the file name
  const r = await probe.query(`${alg}sum < ${quote(args.path)}`);
  const hex = r.rc === 0 ? /^[0-9a-f]+/.exec(r.stdout)?.[0] : undefined;
  if (!hex) throw new ModuleFailure(`${alg}sum of ${args.path} failed: ${r.stderr.trim() || `rc ${r.rc}`}`);
  return hex;
}

export interface StatArgs {
  path: string;
  follow?: boolean;
  get_checksum?: boolean;
  checksum_algorithm?: ChecksumAlgorithm;
}

const ALGORITHMS = ['sha1', 'md5', 'sha224', 'sha256', 'sha384', 'sha512'] as const;
type ChecksumAlgorithm = (typeof ALGORITHMS)[number];

export default defineModule<StatArgs>({
  name: 'stat',
  description: 'Facts about a path on the host (exists, type, owner, mode, size, checksum); never changes anything.',
  returns: [
    'stat: { exists, path, isdir, isreg, islnk, mode, uid, gid, pw_name, gr_name, size, mtime,',
    'lnk_target (links), checksum (regular files, in checksum_algorithm) }',
  ].join('\n'),
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, description: 'The path on the host.' },
      follow: { type: 'boolean', default: false, description: 'Follow a symbolic link and report on its target.' },
      get_checksum: {
        type: 'boolean',
        default: true,
        description: 'Include checksum (hex, in checksum_algorithm) for a regular file.',
      },
      checksum_algorithm: { type: 'string', enum: [...ALGORITHMS], default: 'sha1', description: 'The hash of `checksum` (Ansible: sha1).' },
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
    const wantSum = args.get_checksum ?? true;
    // one hash program per stat: SHA-1 for Ansible's default, sha256 otherwise (also reused)
    const sha1 = wantSum && (args.checksum_algorithm ?? 'sha1') === 'sha1';
    const alg = args.checksum_algorithm ?? 'sha1';
    const [st] = await ctx.remote.stat([args.path], { checksum: wantSum && alg === 'sha256', sha1, follow: args.follow ?? false });
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
    if (wantSum && st.type === 'file') stat.checksum = await checksum(st, args, ctx.remote);
    return { changes: [], result: { stat } };
  },
});
