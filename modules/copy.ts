/**
 * copy: files and trees put on the host with given content and attributes, compared by sha256 so
 * an unchanged file costs one stat round trip. Its documentation is the defineModule fields below (`tsplay doc copy`).
 */

import * as fs from 'fs';
import * as path from 'path';
import { defineModule, ModuleFailure, type Change, type FileStat, type ModuleContext, type Probe } from '../runner/module-api';
import { ATTR_SCHEMA, idArg, mkdirChange, modeArg, type Attrs } from './lib/attrs';
import { missingParent, planContent, sha1 } from './lib/content';

export interface CopyArgs {
  content?: string;
  src?: string;
  remote_src?: boolean;
  dest: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  directory_mode?: string | number;
  backup?: boolean;
  validate?: string;
  force?: boolean;
}

const p = path.posix;

interface LocalEntry {
  rel: string;
  abs: string;
  dir: boolean;
}

/** The controller tree under `root`, parents before children, links followed. */
function walk(root: string): LocalEntry[] {
  const out: LocalEntry[] = [];
  const rec = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const dir = fs.statSync(abs).isDirectory();
      out.push({ rel: r, abs, dir });
      if (dir) rec(r);
    }
  };
  rec('');
  return out;
}

async function planTree(
  ctx: ModuleContext<Probe>,
  args: CopyArgs,
  localDir: string,
  attrs: Attrs,
): Promise<{ changes: Change[]; root: string }> {
  const root = args.src!.endsWith('/') ? args.dest.replace(/(.)\/+$/, '$1') : p.join(args.dest, path.basename(localDir));
  const entries = walk(localDir);
  const targets = [root, ...entries.map((e) => p.join(root, e.rel))];
  // the whole tree in one round trip
  const sts = await ctx.remote.stat(targets, { checksum: true });
  const missing: string[] = [];
  const checkDir = (st: FileStat): void => {
    if (!st.exists) missing.push(st.path);
    else if (st.type !== 'directory') throw new ModuleFailure(`${st.path} exists and is not a directory`, { dest: st.path });
  };
  checkDir(sts[0]);
  const writes: Change[] = [];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const st = sts[i + 1];
    if (e.dir) checkDir(st);
    else {
      writes.push(
        ...(await planContent(ctx, {
          dest: st.path,
          content: fs.readFileSync(e.abs),
          stat: st,
          attrs,
          backup: args.backup,
          validate: args.validate,
          force: args.force,
        })),
      );
    }
  }
  const dirAttrs: Attrs = { owner: attrs.owner, group: attrs.group, mode: modeArg(args.directory_mode) };
  const changes = missing.length ? [mkdirChange(missing, dirAttrs, `create ${missing.length} director${missing.length === 1 ? 'y' : 'ies'} under ${root}`)] : [];
  return { changes: [...changes, ...writes], root };
}

export default defineModule<CopyArgs>({
  name: 'copy',
  description: 'Copy a file or tree to the host, or write given content; idempotent, atomic, with owner/group/mode.',
  notes: [
    'Idempotent: the file is compared by sha256 (from one stat round trip) and rewritten only when',
    'it differs, atomically (temp file beside it, then rename). Attribute-only drift is fixed with',
    'chown/chmod, without rewriting. A symbolic link at dest is replaced by a regular file (as',
    'Ansible does without `follow`).',
  ].join('\n'),
  schema: {
    type: 'object',
    properties: {
      content: { type: 'string', description: 'The content of the file (instead of src).' },
      src: {
        type: 'string',
        minLength: 1,
        description: "Controller file or directory (looked up in the role's files/, then the playbook's files/ and directory). 'dir/' copies its contents into dest, 'dir' copies the directory itself into dest.",
      },
      remote_src: { type: 'boolean', default: false, description: 'src is a regular file on the host, not on the controller.' },
      dest: { type: 'string', minLength: 1, description: 'Destination path on the host; ending with / or naming an existing directory means dest/basename(src).' },
      ...ATTR_SCHEMA,
      directory_mode: { ...ATTR_SCHEMA.mode, description: 'Mode of directories created while copying a tree.' },
      backup: { type: 'boolean', default: false, description: 'Keep the replaced file as dest.YYYYMMDD-HHMMSS.' },
      validate: {
        type: 'string',
        pattern: '%s',
        description: "Command run on the temporary file before it replaces dest; '%s' is replaced by its path.",
      },
      force: {
        type: 'boolean',
        default: true,
        description: 'Replace the content of an existing file that differs (false: only create missing files).',
      },
    },
    required: ['dest'],
    additionalProperties: false,
    oneOf: [{ required: ['content'] }, { required: ['src'] }],
  },
  example: `- copy:
    src: pg_hba.conf
    dest: /etc/postgresql/15/main/pg_hba.conf
    owner: postgres
    group: postgres
    mode: '0640'
    backup: true
- copy:
    content: "listen_addresses = '*'\\n"
    dest: /etc/postgresql/15/main/conf.d/listen.conf`,
  checkMode: 'Reads and stats only; reports the exact writes (content diff) and chown/chmod it would run.',
  async plan(args, ctx) {
    const attrs: Attrs = { owner: idArg(args.owner), group: idArg(args.group), mode: modeArg(args.mode) };
    modeArg(args.directory_mode);
    const common = { backup: args.backup, validate: args.validate, force: args.force, attrs };

    if (args.content !== undefined) {
      if (args.dest.endsWith('/')) throw new ModuleFailure(`can not use content with a directory as dest (${args.dest})`, { dest: args.dest });
      const [st, parent] = await ctx.remote.stat([args.dest, p.dirname(args.dest)], { checksum: true });
      if (st.exists && st.type === 'directory') {
        throw new ModuleFailure(`can not use content with a directory as dest (${args.dest})`, { dest: args.dest });
      }
      const note = missingParent(ctx, parent, args.dest);
      const content = Buffer.from(args.content, 'utf8');
      const changes = await planContent(ctx, { dest: args.dest, content, stat: st, ...common });
      return { changes, msg: note, result: { dest: args.dest, checksum: sha1(content), size: content.length } };
    }

    const src = args.src!;
    let content: Buffer;
    if (args.remote_src) {
      const [sst] = await ctx.remote.stat([src], { follow: true });
      if (!sst.exists) throw new ModuleFailure(`source ${src} not found on the host`, { src });
      if (sst.type !== 'file') throw new ModuleFailure(`remote_src supports regular files only; ${src} is a ${sst.type}`, { src });
      content = (await ctx.remote.readFile(src)) ?? Buffer.alloc(0);
    } else {
      const local = await ctx.findFile(src, 'files');
      if (fs.statSync(local).isDirectory()) {
        const { changes, root } = await planTree(ctx, args, local, attrs);
        return { changes, result: { dest: root, src: local } };
      }
      content = fs.readFileSync(local);
    }

    // a trailing slash only says "this is a directory"; stat the path without it
    const bare = args.dest.replace(/(.)\/+$/, '$1');
    const base = p.basename(src);
    const [st, inside, parent] = await ctx.remote.stat([bare, p.join(bare, base), p.dirname(bare)], { checksum: true });
    const changes: Change[] = [];
    let dest = args.dest;
    let target = st;
    if (args.dest.endsWith('/') || (st.exists && st.type === 'directory')) {
      if (st.exists && st.type !== 'directory') throw new ModuleFailure(`${bare} is not a directory`, { dest: args.dest });
      dest = p.join(args.dest, base);
      target = inside;
      if (!st.exists) {
        changes.push(mkdirChange([args.dest.replace(/(.)\/+$/, '$1')], { owner: attrs.owner, group: attrs.group, mode: modeArg(args.directory_mode) }, `create directory ${args.dest}`));
      }
    }
    const note = target === st ? missingParent(ctx, parent, args.dest) : undefined;
    changes.push(...(await planContent(ctx, { dest, content, stat: target, ...common })));
    return { changes, msg: note, result: { dest, src, checksum: sha1(content), size: content.length } };
  },
});
