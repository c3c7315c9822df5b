/**
 * mount: an fstab entry and whether it is mounted. The fstab edit is a pure function
 * (`editFstab`); whether the path is mounted is read from /proc/mounts through the Probe; the
 * plan lists the exact mkdir/mount/umount commands. `tsplay doc mount` shows the fields.
 */

import { defineModule, ModuleFailure, sh, type Change } from '../runner/module-api';

export interface MountArgs {
  path?: string;
  name?: string;
  src?: string;
  fstype?: string;
  opts?: string;
  dump: string | number;
  passno: string | number;
  state: 'mounted' | 'unmounted' | 'present' | 'absent' | 'remounted';
  fstab: string;
  boot: boolean;
  backup: boolean;
}

export interface FstabEntry {
  src: string;
  path: string;
  fstype: string;
  opts: string;
  dump: string;
  passno: string;
}

/** fstab (and /proc/mounts) write a blank, tab, newline or backslash in a field as an octal escape. */
export function escapeField(s: string): string {
  return s.replace(/[\\ \t\n]/g, (c) => '\\' + c.charCodeAt(0).toString(8).padStart(3, '0'));
}

export function unescapeField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount point as the kernel names it: no trailing slash (except `/` itself). */
function normalPath(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

function fieldsOf(line: string): string[] | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const f = t.split(/\s+/);
  return f.length >= 2 ? f : undefined;
}

/**
 * fstab's text with the entry for `want.path` set (present) or removed (absent). An entry whose
 * fields already match is left byte for byte; one that differs is rewritten as
 * `src path fstype opts dump passno`; a missing one is appended. Other lines are kept.
 */
export function editFstab(text: string, want: FstabEntry | { path: string }, state: 'present' | 'absent'): { text: string; changed: boolean } {
  const lines = text === '' ? [] : text.split(/(?<=\n)/);
  const out: string[] = [];
  let found = false;
  const full = 'src' in want ? want : undefined;
  const line = full ? [full.src, full.path, full.fstype, full.opts, full.dump, full.passno].map(escapeField).join(' ') + '\n' : '';
  for (const l of lines) {
    const f = fieldsOf(l);
    if (!f || normalPath(unescapeField(f[1])) !== want.path) {
      out.push(l);
      continue;
    }
    if (state === 'absent' || found) {
      if (state === 'absent') found = true;
      else out.push(l);
      continue;
    }
    found = true;
    const have = [f[0], f[2], f[3] ?? 'defaults', f[4] ?? '0', f[5] ?? '0'].map(unescapeField);
    const same = full && [full.src, full.fstype, full.opts, full.dump, full.passno].every((v, i) => v === have[i]);
    out.push(same ? l : line);
  }
  if (state === 'present' && !found) {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    out.push(line);
  }
  const result = out.join('');
  return { text: result, changed: result !== text };
}

/** Whether `path` is a mount point, from /proc/mounts' text. */
export function isMounted(procMounts: string, path: string): boolean {
  return procMounts.split('\n').some((l) => {
    const f = fieldsOf(l);
    return f !== undefined && normalPath(unescapeField(f[1])) === path;
  });
}

const FIELD = '^[^\\n\\0]+$';

export default defineModule<MountArgs>({
  name: 'mount',
  description: 'Control an fstab entry and whether it is mounted (mounted, unmounted, present, absent, remounted).',
  notes:
    'Also answers to ansible.posix.mount. mounted: the fstab entry, the mount point directory (mkdir -p) and `mount`; ' +
    'when the entry changed while mounted, `mount -o remount`. present/absent: only fstab, except that absent also ' +
    'unmounts and removes the (empty) mount point directory when it removed an entry, as Ansible does. unmounted: ' +
    '`umount`, fstab untouched. remounted: always `mount -o remount` (with opts if given). ephemeral is not supported.',
  schema: {
    type: 'object',
    properties: {
      path: { type: 'string', pattern: '^/[^\\n\\0]*$', description: 'The mount point (absolute). Alias: name.' },
      name: { type: 'string', pattern: '^/[^\\n\\0]*$', description: 'Alias of path.' },
      src: { type: 'string', pattern: FIELD, description: 'The device, UUID=..., LABEL=..., or remote share (needed for mounted/present).' },
      fstype: { type: 'string', pattern: FIELD, description: 'The file system type (needed for mounted/present).' },
      opts: { type: 'string', pattern: FIELD, description: "Mount options (fstab's fourth field; default 'defaults')." },
      dump: { type: ['string', 'integer'], pattern: '^[0-9]+$', minimum: 0, default: '0', description: 'The dump field.' },
      passno: { type: ['string', 'integer'], pattern: '^[0-9]+$', minimum: 0, default: '0', description: 'The fsck pass field.' },
      state: { type: 'string', enum: ['mounted', 'unmounted', 'present', 'absent', 'remounted'], description: 'What to make true (see notes).' },
      fstab: { type: 'string', pattern: '^/', default: '/etc/fstab', description: 'The fstab file (absolute).' },
      boot: { type: 'boolean', default: true, description: "false: add 'noauto' to opts, so it is not mounted at boot." },
      backup: { type: 'boolean', default: false, description: 'Keep the replaced fstab as FILE.YYYYMMDD-HHMMSS.' },
    },
    required: ['state'],
    additionalProperties: false,
    anyOf: [{ required: ['path'] }, { required: ['name'] }],
    allOf: [
      { not: { required: ['path', 'name'] } },
      { if: { properties: { state: { enum: ['mounted', 'present'] } } }, then: { required: ['src', 'fstype'] } },
    ],
  },
  example: `- mount:
    path: /var/lib/postgresql
    src: UUID=4f6c0d3e-8a59-4c1b-9d2e-0b7a1f2c3d4e
    fstype: xfs
    opts: noatime
    state: mounted
- ansible.posix.mount:
    path: /mnt/old
    state: absent`,
  checkMode: 'Reads fstab and /proc/mounts; reports the fstab diff and the mkdir/mount/umount commands it would run.',
  returns: 'name (the mount point), src, fstype, opts, dump, passno, fstab.',
  async plan(args, ctx) {
    const mp = normalPath((args.path ?? args.name)!);
    let opts = args.opts ?? 'defaults';
    if (!args.boot && !opts.split(',').includes('noauto')) opts += ',noauto';
    const entry: FstabEntry = { src: args.src ?? '', path: mp, fstype: args.fstype ?? '', opts, dump: String(args.dump), passno: String(args.passno) };
    const result = { name: mp, src: args.src, fstype: args.fstype, opts, dump: entry.dump, passno: entry.passno, fstab: args.fstab };
    const [mounts, st] = await Promise.all([ctx.remote.readFile('/proc/mounts'), ctx.remote.stat([mp, args.fstab])]);
    if (mounts === null) throw new ModuleFailure('cannot read /proc/mounts: the mount module needs Linux', {});
    const mounted = isMounted(mounts.toString('utf8'), mp);
    const changes: Change[] = [];
    const mountCmd = (extra: string[] = []): string =>
      sh`mount ${[...(args.fstab === '/etc/fstab' ? [] : ['-T', args.fstab]), ...extra, '--', mp]}`;
    const umount: Change = { kind: 'exec', summary: `unmount ${mp}`, command: sh`umount -- ${mp}`, diff: { path: mp, before: 'mounted\n', after: 'unmounted\n' } };

    let fstabChanged = false;
    if (args.state === 'mounted' || args.state === 'present' || args.state === 'absent') {
      if (st[1].exists && st[1].type !== 'file') throw new ModuleFailure(`${args.fstab} is not a regular file`, { fstab: args.fstab });
      const data = await ctx.remote.readFile(args.fstab);
      const before = data === null ? null : data.toString('utf8');
      const edit = editFstab(before ?? '', args.state === 'absent' ? { path: mp } : entry, args.state === 'absent' ? 'absent' : 'present');
      fstabChanged = edit.changed;
      if (edit.changed) {
        changes.push({
          kind: 'write',
          summary: `${args.state === 'absent' ? 'remove' : 'set'} the ${mp} entry in ${args.fstab}`,
          path: args.fstab,
          before,
          after: edit.text,
          mode: st[1].type === 'file' ? st[1].mode : '0644',
          owner: st[1].type === 'file' ? st[1].owner : undefined,
          group: st[1].type === 'file' ? st[1].group : undefined,
          backup: args.backup,
        });
      }
    }
    switch (args.state) {
      case 'mounted':
        if (!st[0].exists) changes.push({ kind: 'exec', summary: `create mount point ${mp}`, command: sh`mkdir -p -- ${mp}` });
        else if (st[0].type !== 'directory') throw new ModuleFailure(`mount point ${mp} exists and is not a directory`, { name: mp });
        if (!mounted) changes.push({ kind: 'exec', summary: `mount ${mp}`, command: mountCmd(), diff: { path: mp, before: 'unmounted\n', after: 'mounted\n' } });
        else if (fstabChanged) changes.push({ kind: 'exec', summary: `remount ${mp} with its new entry`, command: mountCmd(['-o', 'remount']) });
        break;
      case 'unmounted':
        if (mounted) changes.push(umount);
        break;
      case 'absent':
        if (fstabChanged && mounted) changes.push(umount);
        if (fstabChanged && st[0].type === 'directory') changes.push({ kind: 'exec', summary: `remove mount point ${mp}`, command: sh`rmdir -- ${mp}` });
        break;
      case 'remounted':
        if (!mounted) throw new ModuleFailure(`${mp} is not mounted: nothing to remount`, { name: mp });
        changes.push({ kind: 'exec', summary: `remount ${mp}`, command: mountCmd(['-o', args.opts ? `remount,${opts}` : 'remount']) });
        break;
      default:
        break;
    }
    return { changes, result };
  },
});
