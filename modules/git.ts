/**
 * git: a checkout (or bare clone) of a repository at a version. The plan compares the commit the
 * destination has with the one `git ls-remote` names for the version, so an up-to-date checkout
 * costs read-only queries and a change is exact clone/fetch/checkout commands. `tsplay doc git`.
 */

import { defineModule, lastLines, ModuleFailure, sh, type Change, type Probe } from '../runner/module-api';

export interface GitArgs {
  repo?: string;
  name?: string;
  dest: string;
  version: string;
  force: boolean;
  depth?: number;
  update: boolean;
  clone: boolean;
  bare: boolean;
  remote: string;
  executable: string;
  accept_hostkey: boolean;
  recursive: boolean;
  single_branch: boolean;
}

export interface RemoteRefs {
  /** ref name -> commit (peeled tags under their own name) */
  refs: Map<string, string>;
  /** the branch the remote HEAD points to, when it says */
  headBranch?: string;
}

/** `git ls-remote --symref` output. An annotated tag's commit is its `^{}` line. */
export function parseLsRemote(stdout: string): RemoteRefs {
  const refs = new Map<string, string>();
  let headBranch: string | undefined;
  for (const line of stdout.split('\n')) {
    const sym = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (sym) {
      headBranch = sym[1];
      continue;
    }
    const m = /^([0-9a-f]{40,64})\t(\S+)$/.exec(line);
    if (!m) continue;
    if (m[2].endsWith('^{}')) refs.set(m[2].slice(0, -3), m[1]);
    else if (!refs.has(m[2]) || !m[2].startsWith('refs/tags/')) refs.set(m[2], m[1]);
  }
  return { refs, headBranch };
}

export type Target = { kind: 'branch'; name: string; sha: string } | { kind: 'tag'; name: string; sha: string } | { kind: 'sha'; sha: string };

/** What `version` names on the remote: HEAD (its branch), a branch, a tag, or a commit id. */
export function resolveVersion(version: string, r: RemoteRefs): Target | undefined {
  if (version === 'HEAD') {
    const sha = r.refs.get('HEAD');
    if (!sha) return undefined;
    return r.headBranch ? { kind: 'branch', name: r.headBranch, sha } : { kind: 'sha', sha };
  }
  const branch = r.refs.get(`refs/heads/${version}`);
  if (branch) return { kind: 'branch', name: version, sha: branch };
  const tag = r.refs.get(`refs/tags/${version}`);
  if (tag) return { kind: 'tag', name: version, sha: tag };
  if (/^[0-9a-f]{7,64}$/.test(version)) return { kind: 'sha', sha: version };
  return undefined;
}

async function q(probe: Probe, cmd: string): Promise<{ rc: number; out: string; err: string }> {
  const r = await probe.query(cmd, { env: { LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' } });
  return { rc: r.rc, out: r.stdout.trim(), err: r.stderr };
}

const REF = '^[A-Za-z0-9_][A-Za-z0-9._/+@-]*$';

export default defineModule<GitArgs>({
  name: 'git',
  description: 'Clone a git repository, or bring a checkout (or bare clone) to a branch, tag or commit.',
  notes:
    'The version is looked up with `git ls-remote`; the checkout is changed only when its commit differs (or the ' +
    'origin URL changed). A branch is checked out as a local branch reset to the remote one (`checkout -B`), a tag or ' +
    'commit detached. Local modifications fail the task unless force (then `git reset --hard`), as in Ansible. ' +
    'update: false leaves an existing checkout alone; clone: false does not create one. The repository and the ' +
    'destination are passed after `--`; a version is a ref name that cannot start with "-". Submodules are not ' +
    'updated (recursive is accepted and ignored).',
  schema: {
    type: 'object',
    properties: {
      repo: { type: 'string', minLength: 1, pattern: '^[^-\\s][^\\n]*$', description: 'The repository URL or path (never starting with "-"). Alias: name.' },
      name: { type: 'string', minLength: 1, pattern: '^[^-\\s][^\\n]*$', description: 'Alias of repo.' },
      dest: { type: 'string', pattern: '^/', description: 'The checkout directory (absolute).' },
      version: { type: 'string', pattern: REF, default: 'HEAD', description: 'HEAD, a branch, a tag or a commit id.' },
      force: { type: 'boolean', default: false, description: 'Discard local modifications (git reset --hard) instead of failing.' },
      depth: { type: 'integer', minimum: 1, description: 'Shallow clone/fetch with this many commits.' },
      update: { type: 'boolean', default: true, description: 'Bring an existing checkout to the version.' },
      clone: { type: 'boolean', default: true, description: 'Clone when dest does not exist.' },
      bare: { type: 'boolean', default: false, description: 'A bare repository (no work tree): clone --bare, fetch all branches and tags.' },
      remote: { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9._-]*$', default: 'origin', description: 'The name of the remote.' },
      executable: { type: 'string', pattern: '^[^-\\s][^\\s]*$', default: 'git', description: 'The git program.' },
      accept_hostkey: { type: 'boolean', default: false, description: 'Accepted for compatibility: SSH host keys are the host\'s ssh configuration\'s business.' },
      recursive: { type: 'boolean', default: true, description: 'Accepted and ignored: submodules are not updated.' },
      single_branch: { type: 'boolean', default: false, description: 'Clone only the version\'s branch (--single-branch).' },
    },
    required: ['dest'],
    additionalProperties: false,
    anyOf: [{ required: ['repo'] }, { required: ['name'] }],
    allOf: [{ not: { required: ['repo', 'name'] } }],
  },
  example: `- git:
    repo: https://github.com/zalando/patroni.git
    dest: /opt/patroni-src
    version: v3.3.2
    depth: 1`,
  checkMode: 'Runs read-only git queries (ls-remote, rev-parse, status); reports the clone/fetch/checkout it would run.',
  returns: 'before and after (commit ids), remote_url_changed.',
  async plan(args, ctx) {
    const repo = (args.repo ?? args.name)!;
    const git = args.executable;
    const dest = args.dest;
    const [st, marker] = await ctx.remote.stat([dest, args.bare ? `${dest}/HEAD` : `${dest}/.git`]);
    const ls = await q(ctx.remote, sh`${git} ls-remote --symref -- ${repo}`);
    if (ls.rc !== 0) throw new ModuleFailure(`cannot read ${repo}: ${lastLines(ls.err || ls.out, 3)}`, { rc: ls.rc, stderr: ls.err });
    const target = resolveVersion(args.version, parseLsRemote(ls.out));
    if (!target) throw new ModuleFailure(`version ${args.version} is not a branch, tag or commit of ${repo}`, { version: args.version });
    const changes: Change[] = [];
    const exec = (summary: string, words: string[], diff?: { before: string; after: string }): void => {
      changes.push({ kind: 'exec', summary, command: sh`${words}`, opts: { env: { GIT_TERMINAL_PROMPT: '0' } }, ...(diff ? { diff: { path: dest, ...diff } } : {}) });
    };
    const depth = args.depth !== undefined && target.kind !== 'sha' ? ['--depth', String(args.depth)] : [];

    if (!marker.exists) {
      if (st.exists && st.type !== 'directory') throw new ModuleFailure(`${dest} exists and is not a directory`, { dest });
      if (!args.clone) return { changes: [], result: { before: null, after: null, remote_url_changed: false } };
      const ls2 = st.exists ? await q(ctx.remote, sh`ls -A -- ${dest}`) : { out: '' };
      if (ls2.out !== '') throw new ModuleFailure(`${dest} exists, is not empty and is not a git ${args.bare ? 'bare repository' : 'checkout'}`, { dest });
      const branch = target.kind !== 'sha' && args.version !== 'HEAD' ? ['--branch', target.name] : [];
      const words = [git, 'clone', ...(args.bare ? ['--bare'] : ['--origin', args.remote]), ...depth, ...branch, ...(args.single_branch ? ['--single-branch'] : []), '--', repo, dest];
      exec(`clone ${repo} into ${dest}`, words, { before: 'absent\n', after: `${target.sha}\n` });
      if (target.kind === 'sha' && !args.bare && args.version !== 'HEAD') exec(`check out ${target.sha}`, [git, '-C', dest, 'checkout', '--force', target.sha]);
      return { changes, result: { before: null, after: target.sha, remote_url_changed: false } };
    }

    const head = await q(ctx.remote, args.bare ? sh`${git} -C ${dest} rev-parse --verify -q ${args.version === 'HEAD' ? 'HEAD' : `${args.version}^{commit}`}` : sh`${git} -C ${dest} rev-parse HEAD`);
    const before = head.rc === 0 ? head.out : null;
    const url = await q(ctx.remote, sh`${git} -C ${dest} config --get ${`remote.${args.remote}.url`}`);
    const result = { before, after: before, remote_url_changed: false };
    if (!args.update) return { changes: [], result };
    if (url.out !== repo) {
      exec(`set ${args.remote} to ${repo}`, [git, '-C', dest, 'remote', url.rc === 0 ? 'set-url' : 'add', '--', args.remote, repo]);
      result.remote_url_changed = true;
    }
    if (!args.bare) {
      const status = await q(ctx.remote, sh`${git} -C ${dest} status --porcelain --untracked-files=no`);
      if (status.rc !== 0) throw new ModuleFailure(`cannot read the status of ${dest}: ${lastLines(status.err, 3)}`, { rc: status.rc });
      if (status.out !== '') {
        if (!args.force) throw new ModuleFailure(`Local modifications exist in the destination: ${dest} (force=no).`, { ...result, dest });
        exec(`discard local modifications in ${dest}`, [git, '-C', dest, 'reset', '--hard', 'HEAD']);
      }
    }
    if (before !== target.sha && !(target.kind === 'sha' && before?.startsWith(target.sha))) {
      const move = { before: `${before ?? 'none'}\n`, after: `${target.sha}\n` };
      if (args.bare) {
        exec(`fetch ${args.remote} into ${dest}`, [git, '-C', dest, 'fetch', ...depth, '--force', '--', args.remote, '+refs/heads/*:refs/heads/*', '+refs/tags/*:refs/tags/*'], move);
      } else {
        exec(`fetch ${args.remote}`, [git, '-C', dest, 'fetch', ...depth, '--force', '--tags', '--', args.remote]);
        exec(
          `check out ${target.kind === 'sha' ? target.sha : target.name}`,
          target.kind === 'branch'
            ? [git, '-C', dest, 'checkout', '--force', '-B', target.name, `refs/remotes/${args.remote}/${target.name}`]
            : [git, '-C', dest, 'checkout', '--force', target.sha],
          move,
        );
      }
      result.after = target.sha;
    }
    return { changes, result };
  },
});
