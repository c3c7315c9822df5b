/**
 * authorized_key: SSH public keys in a user's authorized_keys. Keys are compared by their type
 * and base64 blob, so a changed comment or options line is an update, not a second key. The file
 * and its directory belong to the user: a symlink there is refused, never followed.
 * `tsplay doc authorized_key` shows the fields.
 */

import * as path from 'path';
import { ACCOUNT_NAME_MAX, ACCOUNT_NAME_PATTERN, defineModule, lastLines, ModuleFailure, sh, type Change, type FileStat } from '../runner/module-api';
import { attrChange, mkdirChange } from './lib/attrs';

export interface AuthorizedKeyArgs {
  user: string;
  key: string;
  state: 'present' | 'absent';
  path?: string;
  manage_dir: boolean;
  exclusive: boolean;
  key_options?: string;
  comment?: string;
  follow: boolean;
  validate_certs: boolean;
}

export interface PublicKey {
  options?: string;
  type: string;
  blob: string;
  comment?: string;
}

const TYPE = /^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

/** The words of a line, where a double-quoted stretch (in options) is part of its word. */
function firstWordEnd(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && (c === ' ' || c === '\t')) return i;
  }
  return line.length;
}

/** A key line (`[options] type blob [comment]`), or undefined for blanks, comments and junk. */
export function parseKey(line: string): PublicKey | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  let rest = t;
  let options: string | undefined;
  const first = rest.slice(0, firstWordEnd(rest));
  if (!TYPE.test(first)) {
    options = first;
    rest = rest.slice(first.length).trim();
  }
  const m = /^(\S+)\s+([A-Za-z0-9+/=]+)(?:\s+(.*))?$/.exec(rest);
  if (!m || !TYPE.test(m[1])) return undefined;
  return { options, type: m[1], blob: m[2], comment: m[3]?.trim() || undefined };
}

export function keyLine(k: PublicKey): string {
  return [k.options, k.type, k.blob, k.comment].filter((x) => x !== undefined && x !== '').join(' ');
}

/**
 * The file's text with `keys` present (updated in place when their options or comment differ,
 * appended otherwise) or absent; `exclusive` drops every other key. Comments, blank lines and
 * keys left alone keep their bytes.
 */
export function editAuthorizedKeys(text: string, keys: PublicKey[], state: 'present' | 'absent', exclusive: boolean): { text: string; changed: boolean } {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const wanted = new Map(keys.map((k) => [`${k.type} ${k.blob}`, k]));
  const placed = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const k = parseKey(line);
    if (!k) {
      out.push(line);
      continue;
    }
    const id = `${k.type} ${k.blob}`;
    const want = wanted.get(id);
    if (state === 'absent') {
      if (!want) out.push(line);
      continue;
    }
    if (!want) {
      if (!exclusive) out.push(line);
      continue;
    }
    if (placed.has(id)) continue; // a second copy of a wanted key
    placed.add(id);
    out.push(keyLine(k) === keyLine(want) ? line : keyLine(want));
  }
  if (state === 'present') for (const [id, k] of wanted) if (!placed.has(id)) out.push(keyLine(k));
  const result = out.length ? out.join('\n') + '\n' : '';
  return { text: result, changed: result !== text };
}

/** The keys of `key` (one per line, comments and blanks skipped), with key_options/comment applied. */
export function wantedKeys(a: Pick<AuthorizedKeyArgs, 'key' | 'key_options' | 'comment'>): PublicKey[] {
  const keys: PublicKey[] = [];
  for (const [i, line] of a.key.split('\n').entries()) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const k = parseKey(line);
    if (!k) throw new ModuleFailure(`key line ${i + 1} is not an SSH public key ("type base64 [comment]"): ${JSON.stringify(line.slice(0, 60))}`, { key_line: i + 1 });
    keys.push({ ...k, options: a.key_options ?? k.options, comment: a.comment ?? k.comment });
  }
  if (!keys.length && !/^\s*$/.test(a.key)) throw new ModuleFailure('key holds no SSH public key', {});
  return keys;
}

function refuseLink(st: FileStat, what: string): void {
  if (st.exists && st.type === 'link') {
    throw new ModuleFailure(`${st.path} (${what}) is a symbolic link: refusing to follow it (the user could point it at any file)`, { path: st.path });
  }
}

export default defineModule<AuthorizedKeyArgs>({
  name: 'authorized_key',
  description: "Add or remove SSH public keys in a user's authorized_keys file.",
  notes:
    'Also answers to ansible.posix.authorized_key. key may hold several keys, one per line. A key is identified by its ' +
    'type and base64 blob. The file is written atomically with mode 0600, owned by the user; with manage_dir the ' +
    "directory is created (0700, the user's) when missing. A symbolic link at the file or its directory is refused, " +
    'not followed (follow: true is refused too). A key given as a URL is not supported: fetch it first (get_url, lookup).',
  schema: {
    type: 'object',
    properties: {
      user: { type: 'string', pattern: ACCOUNT_NAME_PATTERN, maxLength: ACCOUNT_NAME_MAX, description: "The account whose keys these are (never starting with '-')." },
      key: { type: 'string', minLength: 1, description: 'One or more public keys, one per line ("ssh-ed25519 AAAA... comment").' },
      state: { type: 'string', enum: ['present', 'absent'], default: 'present', description: 'Whether the keys are in the file.' },
      path: { type: 'string', pattern: '^/', description: 'The file (absolute). Default: ~USER/.ssh/authorized_keys.' },
      manage_dir: { type: 'boolean', default: true, description: "Create the file's directory (0700, owned by the user) when missing (default path only, as Ansible)." },
      exclusive: { type: 'boolean', default: false, description: 'Remove every other key from the file.' },
      key_options: { type: 'string', pattern: '^[^\\s]+$', description: 'Options put in front of each key (no-pty,from="10.0.0.0/8").' },
      comment: { type: 'string', pattern: '^[^\\n\\r]*$', description: "Replace each key's comment." },
      follow: { type: 'boolean', default: false, description: 'Only false: a symbolic link is refused, never followed.' },
      validate_certs: { type: 'boolean', default: true, description: 'Accepted for compatibility (keys from URLs are not supported).' },
    },
    required: ['user', 'key'],
    additionalProperties: false,
  },
  example: `- authorized_key:
    user: deploy
    key: "{{ lookup('file', 'files/deploy.pub') }}"
- ansible.posix.authorized_key:
    user: postgres
    key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0b3N0cmFwcGVkLWtleS1mb3ItZG9jcw replica@db2
    key_options: 'from="10.0.0.0/8",no-pty'
    exclusive: true`,
  checkMode: 'Looks the user up and reads the file; reports the new file as a diff and the directory it would create.',
  returns: 'user, key, key_options, exclusive, path (the file), state.',
  async plan(args, ctx) {
    if (args.follow) throw new ModuleFailure('follow: true is not supported: a symbolic link in a user-owned directory is never followed', { follow: true });
    if (/^https?:\/\//.test(args.key.trim())) throw new ModuleFailure('a key URL is not supported: fetch the key first (get_url or a lookup)', { key: args.key });
    const keys = wantedKeys(args);
    const pw = await ctx.remote.query(sh`getent passwd -- ${args.user}`);
    if (pw.rc === 2) throw new ModuleFailure(`user ${args.user} does not exist`, { user: args.user });
    if (pw.rc !== 0) throw new ModuleFailure(`cannot look up user ${args.user}: ${lastLines(pw.stderr, 3)}`, { rc: pw.rc });
    const f = pw.stdout.trim().split('\n')[0].split(':');
    const gid = f[3];
    const home = f[5];
    if (!home?.startsWith('/')) throw new ModuleFailure(`user ${args.user} has no home directory in passwd`, { user: args.user });
    const file = args.path ?? path.posix.join(home, '.ssh', 'authorized_keys');
    const dir = path.posix.dirname(file);
    const [fst, dst] = await ctx.remote.stat([file, dir]);
    refuseLink(dst, 'the directory of the keys');
    refuseLink(fst, 'the keys file');
    if (fst.exists && fst.type !== 'file') throw new ModuleFailure(`${file} is not a regular file`, { path: file });
    const result = { user: args.user, key: args.key, key_options: args.key_options ?? null, exclusive: args.exclusive, path: file, state: args.state };
    const changes: Change[] = [];
    const attrs = { owner: args.user, group: gid, mode: '0700' };
    if (!dst.exists) {
      if (args.state === 'absent') return { changes: [], result };
      if (!args.manage_dir || args.path !== undefined) throw new ModuleFailure(`directory ${dir} does not exist`, { path: file });
      changes.push(mkdirChange([dir], attrs, `create ${dir}`));
    } else if (dst.type !== 'directory') {
      throw new ModuleFailure(`${dir} is not a directory`, { path: file });
    } else if (args.manage_dir && args.path === undefined) {
      const fix = attrChange(dir, dst, attrs);
      if (fix) changes.push(fix);
    }
    const data = fst.exists ? await ctx.remote.readFile(file) : null;
    const before = data === null ? null : data.toString('utf8');
    const edit = editAuthorizedKeys(before ?? '', keys, args.state, args.exclusive);
    if (edit.changed && !(before === null && edit.text === '')) {
      changes.push({
        kind: 'write',
        summary: `${args.state === 'present' ? 'add' : 'remove'} ${keys.length} key(s) ${args.state === 'present' ? 'to' : 'from'} ${file}`,
        path: file,
        before,
        after: edit.text,
        mode: '0600',
        owner: args.user,
        group: gid,
      });
    } else if (fst.exists) {
      const fix = attrChange(file, fst, { owner: args.user, group: gid, mode: '0600' });
      if (fix) changes.push(fix);
    }
    return { changes, result };
  },
});
