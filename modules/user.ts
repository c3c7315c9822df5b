/**
 * user: the failover user of the guide (account, groups, sudo rights, SSH key) in one task.
 * Its documentation is the defineModule fields below (`tsplay doc user`).
 */

import * as path from 'path';
import { accountNameProblem, ACCOUNT_ID_PATTERN, ACCOUNT_NAME_MAX, ACCOUNT_NAME_PATTERN, applyChanges, defineModule, lastLines, ModuleFailure, raw, sh, type Change, type ModuleContext, type Remote } from '../runner/module-api';
import { inputField } from './lib/input-line';

export interface UserArgs {
  name: string;
  state: 'present' | 'absent';
  system: boolean;
  uid?: number;
  group?: string;
  groups?: string | string[];
  append: boolean;
  shell?: string;
  comment?: string;
  force: boolean;
  home?: string;
  create_home: boolean;
  password?: string;
  remove: boolean;
  sudo?: 'none' | 'nopasswd' | 'password';
  generate_ssh_key: boolean;
  ssh_key_type: 'ed25519' | 'rsa' | 'ecdsa';
  ssh_key_file?: string;
  ssh_key_comment?: string;
}

/** The supplementary groups, each checked: a comma-separated string is only split here. */
function groupList(g: string | string[] | undefined): string[] | undefined {
  if (g === undefined) return undefined;
  const list = (Array.isArray(g) ? g : g.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const name of list) {
    const problem = accountNameProblem(name, { numeric: true });
    if (problem) throw new ModuleFailure(`groups: ${problem}`, { invalid_argument: 'groups' });
  }
  return list;
}

export function sudoersPath(name: string): string {
  return `/etc/sudoers.d/${name.replace(/\./g, '_')}`;
}

export function sudoersContent(name: string, mode: 'nopasswd' | 'password'): string {
  const rule = mode === 'nopasswd' ? 'NOPASSWD: ALL' : 'ALL';
  return `# managed by tsplay (user module)\n${name} ALL=(ALL:ALL) ${rule}\n`;
}

function keyFile(a: UserArgs): string {
  return a.ssh_key_file ?? `.ssh/id_${a.ssh_key_type}`;
}

/**
 * The key path as a shell word: absolute as given, else under the home that getent reports at
 * the time the command runs (so it also works right after useradd).
 */
function keyWord(a: UserArgs): string {
  const f = keyFile(a);
  return f.startsWith('/') ? sh`${f}` : `"$h"/${sh`${f}`}`;
}

const HOME_OF = (name: string): string => sh`h=$(getent passwd -- ${name} | cut -d: -f6)`;

/** The read-only survey. Lines "key value"; the wanted hash, if any, arrives on stdin. */
export function queryScript(a: UserArgs): string {
  const wanted = [...(a.group ? [a.group] : []), ...(groupList(a.groups) ?? [])];
  const lines = [
    sh`if p=$(getent passwd -- ${a.name}); then echo "passwd $p"; g=$(printf '%s' "$p" | cut -d: -f4); echo "pgroup $(getent group -- "$g" | cut -d: -f1)"; echo "groups $(id -Gn -- ${a.name})"; else echo "absent"; fi`,
  ];
  for (const g of wanted) lines.push(sh`getent group -- ${g} >/dev/null 2>&1 || echo nogroup ${g}`);
  if (a.password !== undefined) {
    // compare on the host: the hash travels only on stdin and never comes back
    lines.push(sh`IFS= read -r want; cur=$(getent shadow -- ${a.name} | cut -d: -f2); if [ "$cur" = "$want" ]; then echo "pw same"; else echo "pw differs"; fi`);
  }
  if (a.generate_ssh_key || a.ssh_key_file) {
    lines.push(`${HOME_OF(a.name)}; if [ -n "$h" ] && [ -f ${keyWord(a)} ]; then echo "key yes"; echo "pub $(head -n 1 ${keyWord(a)}.pub 2>/dev/null)"; fi`);
  }
  return lines.join('\n');
}

interface Account {
  uid: number;
  gid: number;
  home: string;
  shell: string;
  comment: string;
  group: string;
  groups: string[];
}

interface Survey {
  account?: Account;
  missingGroups: string[];
  pwSame?: boolean;
  key?: { pub: string };
}

function parse(stdout: string): Survey {
  const s: Survey = { missingGroups: [] };
  let pgroup = '';
  let groups: string[] = [];
  let pw: string[] | undefined;
  for (const line of stdout.split('\n')) {
    const i = line.indexOf(' ');
    const k = i < 0 ? line : line.slice(0, i);
    const v = i < 0 ? '' : line.slice(i + 1);
    if (k === 'passwd') pw = v.split(':');
    else if (k === 'pgroup') pgroup = v.trim();
    else if (k === 'groups') groups = v.trim().split(/\s+/).filter(Boolean);
    else if (k === 'nogroup') s.missingGroups.push(v);
    else if (k === 'pw') s.pwSame = v === 'same';
    else if (k === 'key') s.key = { pub: '' };
    else if (k === 'pub' && s.key) s.key.pub = v.trim();
  }
  if (pw) {
    s.account = { uid: Number(pw[2]), gid: Number(pw[3]), home: pw[5], shell: pw[6], comment: pw[4] ?? '', group: pgroup || pw[3], groups: groups.filter((g) => g !== pgroup) };
  }
  return s;
}

function sameSet(x: string[], y: string[]): boolean {
  const a = new Set(x);
  const b = new Set(y);
  return a.size === b.size && [...a].every((v) => b.has(v));
}

export default defineModule<UserArgs>({
  name: 'user',
  description: 'Manage a local user: account, groups, password hash, sudo rights, SSH key',
  notes: [
    'One query reads the account (getent passwd/group, id -Gn), checks the groups exist, compares',
    'the password hash (fed on stdin) and reads the public key; the sudoers file is read with',
    'readFile. Changes: one useradd or usermod (with every differing option), chpasswd -e (hash on',
    'stdin), the sudoers write, ssh-keygen run as the user.',
  ].join('\n'),
  returns: '{ name, state, uid, group, groups, home, shell, ssh_public_key (when present or generated) }',
  example: [
    '- name: the failover user, common to every node, with sudo rights',
    '  user:',
    '    name: motadata',
    '    shell: /bin/bash',
    '    groups: [postgres]',
    '    append: true',
    '    sudo: nopasswd',
    '    generate_ssh_key: true',
  ].join('\n'),
  checkMode: 'Reads the account, groups, password hash (compared on the host), sudoers file and key; reports what it would change; changes nothing.',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', pattern: ACCOUNT_NAME_PATTERN, maxLength: ACCOUNT_NAME_MAX, description: 'user name' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'present or absent' },
      system: { type: 'boolean', default: false, description: 'create as a system account (only when creating)' },
      uid: { type: 'integer', minimum: 0, description: 'numeric user id' },
      group: { type: 'string', pattern: ACCOUNT_ID_PATTERN, maxLength: ACCOUNT_NAME_MAX, description: 'primary group (name or gid); must exist' },
      groups: {
        anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string', pattern: ACCOUNT_ID_PATTERN, maxLength: ACCOUNT_NAME_MAX } }],
        description: 'supplementary groups (list or comma-separated); must exist',
      },
      append: { type: 'boolean', default: false, description: 'add groups to the current ones instead of replacing them' },
      shell: { type: 'string', minLength: 1, description: 'login shell' },
      comment: { type: 'string', description: 'the account\'s description (GECOS field, usermod -c); no ":" or newline' },
      force: { type: 'boolean', default: false, description: 'with state absent: remove the user even while logged in (userdel --force; with remove, its files too)' },
      home: { type: 'string', pattern: '^/', description: 'home directory' },
      create_home: { type: 'boolean', default: true, description: 'create the home directory when creating the user' },
      password: { type: 'string', description: 'password HASH (crypt format, e.g. from `mkpasswd -m sha-512`); compared and set through stdin, so it never appears on a command line, in a summary, a diff, a message or the result' },
      remove: { type: 'boolean', default: false, description: 'with state absent: remove the home directory too' },
      sudo: {
        type: 'string',
        enum: ['none', 'nopasswd', 'password'],
        description: 'sudo rights through /etc/sudoers.d/<name> (mode 0440, checked with visudo -cf before it replaces anything; dots in the name become "_" in the file name, since sudo skips files with dots): none removes the file',
      },
      generate_ssh_key: { type: 'boolean', default: false, description: 'create an SSH key pair when missing' },
      ssh_key_type: { type: 'string', enum: ['ed25519', 'rsa', 'ecdsa'], default: 'ed25519', description: 'type of the generated key' },
      ssh_key_file: { type: 'string', minLength: 1, description: 'private key path; relative to the home (default .ssh/id_<type>)' },
      ssh_key_comment: { type: 'string', description: 'key comment (default name@host)' },
    },
  },

  async plan(a, ctx) {
    // the hash is one line of the query's stdin and one `name:hash` record of chpasswd's; the
    // shadow file it lands in separates its fields with ':'
    if (a.password !== undefined) inputField('password', a.password, ':');
    // the comment is a field of the passwd record, which ':' and newlines split
    if (a.comment !== undefined) inputField('comment', a.comment, ':');
    groupList(a.groups);
    const r = await ctx.remote.query(queryScript(a), a.password !== undefined ? { stdin: `${a.password}\n` } : undefined);
    if (r.rc !== 0) throw new ModuleFailure(`user ${a.name}: query failed (rc=${r.rc}): ${lastLines(r.stderr, 3)}`, { rc: r.rc });
    const s = parse(r.stdout);
    const acc = s.account;
    const changes: Change[] = [];
    const sudoFile = sudoersPath(a.name);
    const exec = (summary: string, command: string, extra: Partial<Extract<Change, { kind: 'exec' }>> = {}): void => {
      changes.push({ kind: 'exec', summary, command, ...extra });
    };

    if (a.state === 'absent') {
      if (acc) exec(`remove user ${a.name}${a.remove ? ' and its home' : ''}`, sh`userdel ${[...(a.force ? ['--force'] : []), ...(a.remove ? ['-r'] : []), '--', a.name]}`, { diff: { path: `user ${a.name}`, before: `uid: ${acc.uid}\n`, after: 'state: absent\n' } });
      const sudoers = await ctx.remote.readFile(sudoFile);
      if (sudoers) exec(`remove ${sudoFile}`, sh`rm -f -- ${sudoFile}`, { diff: { path: sudoFile, before: sudoers.toString(), after: '' } });
      return { changes, result: { name: a.name, state: 'absent' } };
    }

    // in a dry run the groups may come from an earlier `group` task of the same run
    const groupNote = s.missingGroups.length && ctx.check ? `group${s.missingGroups.length > 1 ? 's' : ''} ${s.missingGroups.join(', ')} not there yet (check mode: assumed created by an earlier task)` : undefined;
    if (s.missingGroups.length && !ctx.check) {
      throw new ModuleFailure(`user ${a.name}: group${s.missingGroups.length > 1 ? 's' : ''} ${s.missingGroups.join(', ')} do${s.missingGroups.length > 1 ? '' : 'es'} not exist on ${ctx.host}`, { missing_groups: s.missingGroups });
    }
    const wantGroups = groupList(a.groups);

    if (!acc) {
      const opts: string[] = [];
      if (a.system) opts.push('-r');
      if (a.uid !== undefined) opts.push(sh`-u ${a.uid}`);
      if (a.group) opts.push(sh`-g ${a.group}`);
      if (wantGroups?.length) opts.push(sh`-G ${wantGroups.join(',')}`);
      if (a.shell) opts.push(sh`-s ${a.shell}`);
      if (a.comment !== undefined) opts.push(sh`-c ${a.comment}`);
      if (a.home) opts.push(sh`-d ${a.home}`);
      opts.push(a.create_home ? '-m' : '-M');
      const after = [`uid: ${a.uid ?? '(next free)'}`, ...(a.group ? [`group: ${a.group}`] : []), ...(wantGroups?.length ? [`groups: ${wantGroups.join(',')}`] : []), ...(a.shell ? [`shell: ${a.shell}`] : []), ...(a.home ? [`home: ${a.home}`] : [])];
      exec(`create user ${a.name}`, `useradd ${opts.join(' ')} ${sh`-- ${a.name}`}`, { diff: { path: `user ${a.name}`, before: 'state: absent\n', after: `state: present\n${after.join('\n')}\n` } });
    } else {
      const opts: string[] = [];
      const what: string[] = [];
      const before: string[] = [];
      const after: string[] = [];
      const field = (label: string, cur: string | number, want: string | number | undefined, flag: string): void => {
        if (want === undefined || String(cur) === String(want)) return;
        opts.push(sh`${raw(flag)} ${want}`);
        what.push(`${label} ${cur} -> ${want}`);
        before.push(`${label}: ${cur}`);
        after.push(`${label}: ${want}`);
      };
      field('uid', acc.uid, a.uid, '-u');
      if (a.group !== undefined && a.group !== acc.group && a.group !== String(acc.gid)) field('group', acc.group, a.group, '-g');
      field('shell', acc.shell, a.shell, '-s');
      field('comment', acc.comment, a.comment, '-c');
      field('home', acc.home, a.home, '-d');
      if (wantGroups) {
        if (a.append) {
          const missing = wantGroups.filter((g) => !acc.groups.includes(g));
          if (missing.length) {
            opts.push(sh`-a -G ${missing.join(',')}`);
            what.push(`groups +${missing.join(',+')}`);
            before.push(`groups: ${acc.groups.join(',')}`);
            after.push(`groups: ${[...acc.groups, ...missing].join(',')}`);
          }
        } else if (!sameSet(wantGroups, acc.groups)) {
          opts.push(sh`-G ${wantGroups.join(',')}`);
          what.push(`groups ${acc.groups.join(',') || '(none)'} -> ${wantGroups.join(',') || '(none)'}`);
          before.push(`groups: ${acc.groups.join(',')}`);
          after.push(`groups: ${wantGroups.join(',')}`);
        }
      }
      if (opts.length) {
        exec(`update user ${a.name}: ${what.join(', ')}`, `usermod ${opts.join(' ')} ${sh`-- ${a.name}`}`, {
          diff: { path: `user ${a.name}`, before: `${before.join('\n')}\n`, after: `${after.join('\n')}\n` },
        });
      }
    }

    if (a.password !== undefined && (!acc || s.pwSame !== true)) {
      // the hash goes on stdin: not in ps, not in the command the engine may log
      exec(`set the password of ${a.name}`, 'chpasswd -e', { opts: { stdin: `${a.name}:${a.password}\n` } });
    }

    if (a.sudo !== undefined) {
      const cur = await ctx.remote.readFile(sudoFile);
      if (a.sudo === 'none') {
        if (cur) exec(`remove ${sudoFile}`, sh`rm -f -- ${sudoFile}`, { diff: { path: sudoFile, before: cur.toString(), after: '' } });
      } else {
        const want = sudoersContent(a.name, a.sudo);
        if (!cur || cur.toString() !== want) {
          changes.push({ kind: 'write', summary: `sudo ${a.sudo} for ${a.name} (${sudoFile})`, path: sudoFile, before: cur ? cur.toString() : null, after: want, mode: '0440', owner: 'root', group: 'root', validate: 'visudo -cf %s' });
        }
      }
    }

    if (a.generate_ssh_key && !s.key) {
      const dir = path.posix.dirname(keyFile(a));
      const comment = a.ssh_key_comment ?? `${a.name}@${ctx.host}`;
      const dirWord = keyFile(a).startsWith('/') ? sh`${dir}` : `"$h"/${sh`${dir}`}`;
      // run as the user, so the key files belong to them whatever umask/ownership root would give
      const asUser = sh`runuser -u ${a.name} --`;
      exec(
        `generate an ${a.ssh_key_type} SSH key for ${a.name} (${keyFile(a)})`,
        [
          HOME_OF(a.name),
          `[ -n "$h" ] || { echo "no home for user" >&2; exit 1; }`,
          `${asUser} mkdir -p -m 0700 -- ${dirWord}`,
          `${asUser} ssh-keygen -q -t ${sh`${a.ssh_key_type}`} -N '' -C ${sh`${comment}`} -f ${keyWord(a)}`,
        ].join(' && '),
      );
    }

    const result: Record<string, unknown> = {
      name: a.name,
      state: 'present',
      uid: acc?.uid ?? a.uid,
      group: acc?.group ?? a.group,
      groups: acc?.groups ?? wantGroups ?? [],
      home: acc?.home ?? a.home,
      shell: acc?.shell ?? a.shell,
    };
    if (s.key?.pub) result.ssh_public_key = s.key.pub;
    return { changes, result, msg: groupNote };
  },

  async apply(a, plan, ctx: ModuleContext<Remote>) {
    try {
      await applyChanges(plan, ctx);
    } catch (e) {
      // the default error names the change; make sure nothing echoes the password hash back
      if (e instanceof ModuleFailure && a.password !== undefined) {
        const clean = (v: unknown): unknown => (typeof v === 'string' ? v.split(a.password as string).join('********') : v);
        throw new ModuleFailure(clean(e.message) as string, Object.fromEntries(Object.entries(e.result).map(([k, v]) => [k, clean(v)])));
      }
      throw e;
    }
    // the account as it is now (uid chosen by useradd, the new key)
    const after = parse((await ctx.remote.query(queryScript({ ...a, password: undefined, generate_ssh_key: a.generate_ssh_key }))).stdout);
    const out: Record<string, unknown> = {};
    if (after.account) Object.assign(out, { uid: after.account.uid, group: after.account.group, groups: after.account.groups, home: after.account.home, shell: after.account.shell });
    if (after.key?.pub) out.ssh_public_key = after.key.pub;
    return out;
  },
});
