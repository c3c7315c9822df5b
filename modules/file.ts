/**
 * file: a path made a directory, a file, a link or absent, with owner, group and mode; `recurse`
 * costs one find query and one fixing command however big the tree. Its documentation is the defineModule fields below (`tsplay doc file`).
 */

import * as path from 'path';
import { defineModule, ModuleFailure, pathArg, raw, sh, type Change, type FileStat, type ModuleContext, type Probe } from '../runner/module-api';
import { attrChange, attrCommand, attrDrift, ATTR_SCHEMA, hasDrift, idArg, mkdirChange, modeArg, resolveMode, type Attrs, type Drift } from './lib/attrs';

type State = 'file' | 'directory' | 'absent' | 'touch' | 'link' | 'hard';

export interface FileArgs {
  path?: string;
  dest?: string;
  name?: string;
  state?: State;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  recurse?: boolean;
  src?: string;
  force?: boolean;
}

const p = path.posix;

/** The path and its ancestors, nearest first: ['/a/b/c', '/a/b', '/a', '/'] ('b/c': ['b/c', 'b', '.']). */
function lineage(target: string): string[] {
  const out = [target];
  let cur = target;
  for (;;) {
    const up = p.dirname(cur);
    if (up === cur) break;
    out.push(up);
    // a relative path's last ancestor is the shell's working directory
    if (up === '.') break;
    cur = up;
  }
  return out;
}

function stateOf(st: FileStat): string {
  if (!st.exists) return 'absent';
  return st.type === 'link' ? `link -> ${st.linkTarget ?? '?'}` : (st.type ?? 'other');
}

function stateDiff(target: string, before: string, after: string): { path: string; before: string; after: string } {
  return { path: target, before: `state: ${before}\n`, after: `state: ${after}\n` };
}

/** find's grouping parentheses, passed as quoted words so the shell never sees a subshell. */
const LP = '(';
const RP = ')';

/** For --diff: at most this many entries of a recursive change are listed. */
const LIST_MAX = 50;

/**
 * recurse: ONE find lists only the entries whose owner/group/mode differ (a numeric mode is
 * filtered by find itself; a symbolic one depends on each entry, so every non-link entry is
 * listed and decided here). ONE command then fixes them with find -exec ... +.
 */
async function planRecurse(ctx: ModuleContext<Probe>, root: string, attrs: Attrs): Promise<Change | null> {
  // find takes a first word starting with "-" as its expression, `--` or not ("-delete" would delete)
  const start = pathArg(root);
  const octal = attrs.mode !== undefined && /^[0-7]{4}$/.test(attrs.mode);
  const idFilter: string[] = [];
  if (attrs.owner !== undefined) idFilter.push(sh`! -user ${attrs.owner}`);
  if (attrs.group !== undefined) idFilter.push(sh`! -group ${attrs.group}`);
  const tests = [...idFilter];
  if (attrs.mode !== undefined) tests.push(octal ? sh`${LP} ! -type l ! -perm ${attrs.mode} ${RP}` : '! -type l');
  if (tests.length === 0) return null;
  // names go last, tab-separated: a user or group name could contain a space
  const q = sh`find ${start} ${LP} ${raw(tests.join(' -o '))} ${RP} -printf ${'%y %m %U %G\\t%u\\t%g\\t%p\\0'}`;
  const r = await ctx.remote.query(q);
  if (r.rc !== 0) {
    throw new ModuleFailure(`cannot inspect ${root}: ${r.stderr.trim() || `find failed with rc=${r.rc}`}`, { rc: r.rc, stderr: r.stderr });
  }
  let nEntries = 0;
  let nOwn = 0;
  let nMode = 0;
  const before: string[] = [];
  const after: string[] = [];
  for (const rec of r.stdout.split('\0')) {
    if (!rec) continue;
    const t1 = rec.indexOf('\t');
    const t2 = rec.indexOf('\t', t1 + 1);
    const t3 = rec.indexOf('\t', t2 + 1);
    if (t1 < 0 || t2 < 0 || t3 < 0) throw new ModuleFailure(`cannot parse find output for ${root}`, { stdout: r.stdout.slice(0, 2000) });
    const [y, m, uid, gid] = rec.slice(0, t1).split(' ');
    const user = rec.slice(t1 + 1, t2);
    const group = rec.slice(t2 + 1, t3);
    const entry = rec.slice(t3 + 1);
    const st: FileStat = {
      path: entry,
      exists: true,
      type: y === 'd' ? 'directory' : y === 'l' ? 'link' : y === 'f' ? 'file' : 'other',
      mode: m.padStart(4, '0'),
      uid: Number(uid),
      gid: Number(gid),
      owner: user,
      group,
    };
    const d = attrDrift(st, attrs);
    if (!hasDrift(d)) continue;
    nEntries++;
    if (d.owner || d.group) nOwn++;
    if (d.mode) nMode++;
    if (before.length < LIST_MAX) {
      before.push(`${entry}: ${st.owner}:${st.group} ${st.mode}`);
      after.push(`${entry}: ${d.owner?.[1] ?? st.owner}:${d.group?.[1] ?? st.group} ${d.mode?.[1] ?? st.mode}`);
    }
  }
  if (nOwn === 0 && nMode === 0) return null;
  const more = nEntries > before.length ? `... and ${nEntries - before.length} more (${nOwn} to chown, ${nMode} to chmod in all)\n` : '';
  const parts: string[] = [];
  const summary: string[] = [];
  if (nOwn) {
    const exec =
      attrs.owner === undefined
        ? sh`-exec chgrp -h -- ${attrs.group!} {} +`
        : attrs.group === undefined
          ? sh`-exec chown -h -- ${attrs.owner} {} +`
          : sh`-exec chown -h -- ${attrs.owner}:${attrs.group} {} +`;
    parts.push(sh`find ${start} ${LP} ${raw(idFilter.join(' -o '))} ${RP} ${raw(exec)}`);
    summary.push(`chown ${nOwn} entr${nOwn === 1 ? 'y' : 'ies'} under ${root}`);
  }
  if (nMode) {
    parts.push(
      octal
        ? sh`find ${start} ! -type l ! -perm ${attrs.mode!} -exec chmod -- ${'0' + attrs.mode!} {} +`
        : sh`find ${start} ! -type l -exec chmod -- ${attrs.mode!} {} +`,
    );
    summary.push(`chmod ${nMode} entr${nMode === 1 ? 'y' : 'ies'} under ${root}`);
  }
  return {
    kind: 'exec',
    summary: summary.join(', '),
    command: parts.join(' && '),
    diff: { path: root, before: before.join('\n') + '\n' + more, after: after.join('\n') + '\n' + more },
  };
}

/** The attributes to give a path that the plan itself creates (everything wanted is "drift"). */
function newAttrs(target: string, attrs: Attrs, isDir: boolean, link = false): string {
  const d: Drift = {};
  if (attrs.owner !== undefined) d.owner = ['', attrs.owner];
  if (attrs.group !== undefined) d.group = ['', attrs.group];
  if (attrs.mode !== undefined && !link) d.mode = ['', resolveMode(attrs.mode, undefined, isDir)];
  return attrCommand(target, d, { link });
}

function joinCmds(...cmds: string[]): string {
  return cmds.filter(Boolean).join(' && ');
}

export default defineModule<FileArgs>({
  name: 'file',
  description: 'Make a path a directory, file, link, or absent, with owner/group/mode (optionally recursive).',
  notes: [
    'state file: the path must exist; only attributes are enforced. directory: created with its',
    'missing parents (each created directory gets owner/group/mode, as Ansible does). absent:',
    'removed, recursively for a directory. touch: created empty when missing, timestamps updated',
    'when present (always a change). link: a symbolic link to src (relative to the link\'s',
    'directory); hard: a hard link to src.',
    'recurse (state=directory): one `find` query lists only the entries that differ; one command',
    'fixes them (chown -h / chmod; links\' own permissions are left alone).',
  ].join('\n'),
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', minLength: 1, description: 'Path on the host.' },
      dest: { type: 'string', minLength: 1, description: 'Alias of path.' },
      name: { type: 'string', minLength: 1, description: 'Alias of path.' },
      state: {
        type: 'string',
        enum: ['file', 'directory', 'absent', 'touch', 'link', 'hard'],
        description: 'What the path must be (default when it exists: its current kind; when it does not: file, or directory with recurse).',
      },
      ...ATTR_SCHEMA,
      recurse: {
        type: 'boolean',
        default: false,
        description: 'With state=directory: apply owner/group/mode to the whole tree.',
      },
      src: { type: 'string', minLength: 1, description: 'Target of the link (state=link or hard).' },
      force: {
        type: 'boolean',
        default: false,
        description: 'link/hard: replace an existing file at path; link: allow a missing src.',
      },
    },
    additionalProperties: false,
    anyOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['name'] }],
    allOf: [
      { if: { properties: { state: { enum: ['link', 'hard'] } }, required: ['state'] }, then: { required: ['src'] } },
      { if: { properties: { recurse: { const: true } }, required: ['recurse'] }, then: { properties: { state: { enum: ['directory'] } } } },
    ],
  },
  example: `- file:
    path: /opt/HA
    state: directory
    owner: motadata
    group: motadata
    mode: '0755'
    recurse: true
- file:
    src: /etc/haproxy/haproxy.cfg
    path: /opt/HA/haproxy.cfg
    state: link`,
  checkMode: 'Stats (and one find query with recurse) only; reports the exact mkdir/rm/ln/chown/chmod commands and a before/after.',
  async plan(args, ctx) {
    const target = (args.path ?? args.dest ?? args.name)!;
    const attrs: Attrs = { owner: idArg(args.owner), group: idArg(args.group), mode: modeArg(args.mode) };
    const up = lineage(target);
    const srcAbs = args.src !== undefined ? (args.src.startsWith('/') || args.state === 'hard' ? args.src : p.join(p.dirname(target), args.src)) : undefined;
    // one round trip: the path, its ancestors (what `directory` must create), and the link source
    const sts = await ctx.remote.stat(srcAbs !== undefined ? [...up, srcAbs] : up);
    let st = sts[0];
    const parent = sts[1];
    const srcSt = srcAbs !== undefined ? sts[sts.length - 1] : undefined;
    // file/directory/touch act on what a link points to (Ansible's follow: true); so does the default state
    const follows = args.state === undefined || args.state === 'file' || args.state === 'directory' || args.state === 'touch';
    const wasLink = st.exists && st.type === 'link';
    if (wasLink && follows) {
      [st] = await ctx.remote.stat([target], { follow: true });
    }
    const state: State =
      args.state ??
      // what the path is now, else file (directory with recurse)
      (st.exists ? (st.type === 'directory' ? 'directory' : 'file') : args.recurse ? 'directory' : 'file');
    const result = { path: target, state };

    switch (state) {
      case 'absent': {
        if (!st.exists) return { changes: [], result };
        if (p.normalize(target) === '/') throw new ModuleFailure('refusing to remove /', { path: target });
        return {
          changes: [{ kind: 'exec', summary: `remove ${target}`, command: sh`rm -rf -- ${target}`, diff: stateDiff(target, stateOf(st), 'absent') }],
          result,
        };
      }

      case 'file': {
        if (!st.exists) {
          throw new ModuleFailure(`file (${target}) is absent, cannot continue`, { path: target });
        }
        if (st.type === 'directory') throw new ModuleFailure(`${target} is a directory, not a file`, { path: target });
        const c = attrChange(target, st, attrs);
        return { changes: c ? [c] : [], result };
      }

      case 'directory': {
        if (st.exists) {
          if (st.type !== 'directory') throw new ModuleFailure(`${target} exists and is a ${st.type}, not a directory`, { path: target });
          if (args.recurse) {
            // "link/" makes find (and chown -h on it) act on the directory the link points to
            const c = await planRecurse(ctx, wasLink ? target.replace(/\/*$/, '/') : target, attrs);
            return { changes: c ? [c] : [], result };
          }
          const c = attrChange(target, st, attrs);
          return { changes: c ? [c] : [], result };
        }
        const firstExisting = sts.findIndex((s, i) => i < up.length && s.exists);
        if (firstExisting >= 0 && sts[firstExisting].type !== 'directory') {
          throw new ModuleFailure(`cannot create ${target}: ${up[firstExisting]} is a ${sts[firstExisting].type}`, { path: target });
        }
        const missing = up.slice(0, firstExisting < 0 ? up.length : firstExisting).reverse();
        return { changes: [mkdirChange(missing, attrs, `create directory ${target}`)], result };
      }

      case 'touch': {
        if (!st.exists && (!parent || !parent.exists)) {
          throw new ModuleFailure(`cannot touch ${target}: directory ${p.dirname(target)} does not exist`, { path: target });
        }
        const fix = st.exists ? attrCommand(target, attrDrift(st, attrs)) : newAttrs(target, attrs, false);
        return {
          changes: [
            {
              kind: 'exec',
              summary: st.exists ? `touch ${target}` : `create ${target}`,
              command: joinCmds(sh`touch -- ${target}`, fix),
              diff: stateDiff(target, st.exists ? `${st.type} (mtime ${st.mtime})` : 'absent', st.exists ? `${st.type} (mtime now)` : 'file'),
            },
          ],
          result,
        };
      }

      case 'link': {
        const src = args.src!;
        if (st.exists && st.type === 'link' && st.linkTarget === src) {
          const c = attrChange(target, st, { owner: attrs.owner, group: attrs.group });
          return { changes: c ? [c] : [], result };
        }
        if (!srcSt?.exists && !args.force) {
          throw new ModuleFailure(`src file ${srcAbs} does not exist; use force: true to create a dangling link`, { path: target, src });
        }
        if (st.exists && st.type === 'directory') throw new ModuleFailure(`${target} is a directory; refusing to replace it with a link`, { path: target });
        if (st.exists && st.type !== 'link' && !args.force) {
          throw new ModuleFailure(`refusing to convert ${target} from a ${st.type} to a link; use force: true`, { path: target });
        }
        return {
          changes: [
            {
              kind: 'exec',
              summary: `link ${target} -> ${src}`,
              command: joinCmds(sh`ln -sfn -- ${src} ${target}`, newAttrs(target, attrs, false, true)),
              diff: stateDiff(target, stateOf(st), `link -> ${src}`),
            },
          ],
          result,
        };
      }

      case 'hard': {
        const src = args.src!;
        if (!srcSt?.exists) throw new ModuleFailure(`src file ${src} does not exist`, { path: target, src });
        if (st.exists) {
          if (st.type === 'directory') throw new ModuleFailure(`${target} is a directory; refusing to replace it with a link`, { path: target });
          const same = await ctx.remote.query(sh`test ${pathArg(target)} -ef ${pathArg(src)}`);
          if (same.rc === 0) {
            const c = attrChange(target, st, attrs);
            return { changes: c ? [c] : [], result };
          }
          if (!args.force) throw new ModuleFailure(`refusing to replace ${target} with a hard link to ${src}; use force: true`, { path: target });
        }
        return {
          changes: [
            {
              kind: 'exec',
              summary: `hard link ${target} -> ${src}`,
              command: joinCmds(sh`ln -f -- ${src} ${target}`, newAttrs(target, attrs, false)),
              diff: stateDiff(target, stateOf(st), `hard link to ${src}`),
            },
          ],
          result,
        };
      }
    }
    throw new ModuleFailure(`unknown state ${String(state)}`);
  },
});
