/**
 * file-owner: the guide's `chown -R motadata:motadata /opt/HA`, but idempotent and with an exact
 * count of what changes. Its documentation is the defineModule fields below (`tsplay doc file-owner`).
 */

import { ACCOUNT_ID_PATTERN, ACCOUNT_NAME_MAX, defineModule, lastLines, ModuleFailure, pathArg, sh, raw, type Change } from '../runner/module-api';
import { modeArg, OCTAL_MODE_SCHEMA } from './lib/attrs';

export interface FileOwnerArgs {
  path: string;
  owner: string;
  group?: string;
  recurse: boolean;
  create: boolean;
  mode?: string | number;
}

/** `find` expression matching entries not owned as wanted. */
function differs(a: FileOwnerArgs): string {
  return a.group === undefined ? sh`! -user ${a.owner}` : sh`\\( ! -user ${a.owner} -o ! -group ${a.group} \\)`;
}

function depth(a: FileOwnerArgs): string {
  return a.recurse ? '' : ' -maxdepth 0';
}

function spec(a: FileOwnerArgs): string {
  return a.group === undefined ? sh`${a.owner}` : sh`${a.owner}:${a.group}`;
}

/**
 * One pass over the tree: a line per entry ("d owner:group" when it differs, "s" when not),
 * tallied by awk so only a few lines come back whatever the size of the tree.
 */
export function planScript(a: FileOwnerArgs): string {
  const checkGroup = a.group === undefined ? '' : sh`getent group -- ${a.group} >/dev/null 2>&1 || echo nogroup\n`;
  return [
    sh`getent passwd -- ${a.owner} >/dev/null 2>&1 || echo nouser`,
    checkGroup.trimEnd(),
    sh`if [ -e ${a.path} ] || [ -L ${a.path} ]; then :; else echo missing; exit 0; fi`,
    sh`{ find ${pathArg(a.path)}${raw(depth(a))} ${raw(differs(a))} -printf 'd %u:%g\\n' -o -printf 's\\n'; echo "findrc $?"; }` +
      ` | awk '$1 == "findrc" { print; next } { n[$0]++ } END { for (k in n) print "count", n[k], k }'`,
  ]
    .filter(Boolean)
    .join('\n');
}

interface Survey {
  nouser: boolean;
  nogroup: boolean;
  missing: boolean;
  findRc: number;
  same: number;
  differ: Map<string, number>;
}

function parse(stdout: string): Survey {
  const s: Survey = { nouser: false, nogroup: false, missing: false, findRc: 0, same: 0, differ: new Map() };
  for (const line of stdout.split('\n')) {
    if (line === 'nouser') s.nouser = true;
    else if (line === 'nogroup') s.nogroup = true;
    else if (line === 'missing') s.missing = true;
    else if (line.startsWith('findrc ')) s.findRc = Number(line.slice(7));
    else if (line.startsWith('count ')) {
      const [, n, kind, who] = line.split(' ');
      if (kind === 'd') s.differ.set(who, (s.differ.get(who) ?? 0) + Number(n));
      else s.same += Number(n);
    }
  }
  return s;
}

export default defineModule<FileOwnerArgs>({
  name: 'file-owner',
  description: 'Make a tree owned by user:group (chown -R), idempotent, one query and one command',
  notes: [
    'One query checks that the user and group exist and walks the tree once with `find`, counting',
    'the entries whose owner or group differ (grouped by their current owner, for --diff). The',
    'change is one command: `chown -R` when every entry differs, else `find ... -exec chown -h +`',
    'on exactly the differing entries. Symbolic links are changed themselves, never followed.',
    '10,000 entries cost one query and one command.',
  ].join('\n'),
  returns: '{ path, owner, group, entries (total walked), changed_entries }',
  example: [
    '- name: /opt/HA belongs to the failover user',
    '  file-owner:',
    '    path: /opt/HA',
    '    owner: motadata',
    '    group: motadata',
    '    create: true',
    '    mode: "0755"',
  ].join('\n'),
  checkMode: 'Counts the entries whose owner/group differ and reports "chown N entries under P"; changes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'owner'],
    properties: {
      path: { type: 'string', pattern: '^/', description: 'absolute path of the file or directory' },
      owner: { type: 'string', pattern: ACCOUNT_ID_PATTERN, maxLength: ACCOUNT_NAME_MAX, description: 'user name or uid; must exist on the host' },
      group: { type: 'string', pattern: ACCOUNT_ID_PATTERN, maxLength: ACCOUNT_NAME_MAX, description: 'group name or gid; must exist on the host (default: group left as is)' },
      recurse: { type: 'boolean', default: true, description: 'apply to the whole tree under path (false: path itself only)' },
      create: { type: 'boolean', default: false, description: 'create path as a directory when it is missing' },
      mode: { ...OCTAL_MODE_SCHEMA, description: 'octal mode for the directory when it is created' },
    },
  },

  async plan(args, ctx) {
    const a = { ...args, mode: modeArg(args.mode) };
    const r = await ctx.remote.query(planScript(a));
    if (r.rc !== 0) throw new ModuleFailure(`cannot survey ${a.path}: ${lastLines(r.stderr, 3)}`, { rc: r.rc, stderr: r.stderr });
    const s = parse(r.stdout);
    const who = a.group === undefined ? a.owner : `${a.owner}:${a.group}`;
    const base = { path: a.path, owner: a.owner, group: a.group };
    if ((s.nouser || s.nogroup) && ctx.check) {
      // a dry run of a fresh deploy: the user/group comes from an earlier task of the same run
      const missing = s.nouser ? `user ${a.owner}` : `group ${a.group}`;
      const mk = s.missing && a.create ? (a.mode ? sh`mkdir -p -m ${a.mode} -- ${a.path}` + ' && ' : sh`mkdir -p -- ${a.path}` + ' && ') : '';
      return {
        changes: [{ kind: 'exec', summary: `${s.missing ? 'create and ' : ''}chown ${a.path} to ${who}`, command: `${mk}${sh`chown ${a.recurse ? ['-R'] : []} ${raw(spec(a))} -- ${a.path}`}` }],
        msg: `${missing} does not exist yet (check mode: assumed created by an earlier task)`,
        result: { ...base, entries: null, changed_entries: null },
      };
    }
    if (s.nouser) throw new ModuleFailure(`user ${a.owner} does not exist on ${ctx.host}`, { path: a.path });
    if (s.nogroup) throw new ModuleFailure(`group ${a.group} does not exist on ${ctx.host}`, { path: a.path });

    if (s.missing) {
      if (!a.create) throw new ModuleFailure(`${a.path} does not exist`, base);
      const mk = a.mode ? sh`mkdir -p -m ${a.mode} -- ${a.path}` : sh`mkdir -p -- ${a.path}`;
      const change: Change = {
        kind: 'exec',
        summary: `create directory ${a.path} owned by ${who}${a.mode ? ` mode ${a.mode}` : ''}`,
        command: `${mk} && ${sh`chown ${raw(spec(a))} -- ${a.path}`}`,
        diff: { path: a.path, before: 'state: absent\n', after: `state: directory\nowner: ${who}\n${a.mode ? `mode: ${a.mode}\n` : ''}` },
      };
      return { changes: [change], result: { ...base, entries: 0, changed_entries: 1 } };
    }
    if (s.findRc !== 0) {
      throw new ModuleFailure(`find failed under ${a.path} (rc=${s.findRc}): ${lastLines(r.stderr, 3)}`, { ...base, stderr: r.stderr });
    }

    let n = 0;
    for (const v of s.differ.values()) n += v;
    const total = n + s.same;
    const result = { ...base, entries: total, changed_entries: n };
    if (n === 0) return { changes: [], result };

    // chown -R changes links themselves (-P is its default), matching find's view of them
    const command =
      a.recurse && s.same === 0
        ? sh`chown -R ${raw(spec(a))} -- ${a.path}`
        : sh`find ${pathArg(a.path)}${raw(depth(a))} ${raw(differs(a))} -exec chown -h ${raw(spec(a))} -- {} +`;
    const before = [...s.differ.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => `${k}: ${v} entr${v === 1 ? 'y' : 'ies'}\n`)
      .join('');
    const after = `${who}: ${total} entr${total === 1 ? 'y' : 'ies'}\n`;
    const change: Change = {
      kind: 'exec',
      summary: `chown ${n} entr${n === 1 ? 'y' : 'ies'} under ${a.path}`,
      command,
      diff: { path: `${a.path} (owners)`, before: s.same ? `${before}${who}: ${s.same} entries\n` : before, after },
    };
    return { changes: [change], result };
  },
});
