/**
 * "This file on the host must have exactly these bytes and these attributes": what copy and
 * template (and copy's directory mode) share. Compares by sha256 from a stat, so an unchanged
 * file costs no read; reads the current content only when it differs (for the --diff), and
 * plans ONE atomic write that carries mode/owner/group/backup/validate.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import { createHash } from 'crypto';
import { ModuleFailure, type Change, type FileStat, type ModuleContext, type Probe } from '../../runner/module-api';
import { attrChange, resolveMode, type Attrs } from './attrs';

export interface ContentTarget {
  dest: string;
  content: Buffer;
  /** stat of dest (not following links), taken with checksum */
  stat: FileStat;
  attrs: Attrs;
  backup?: boolean;
  validate?: string;
  /** false: leave an existing file's content alone (attributes are still enforced) */
  force?: boolean;
}

/** Diffs of megabytes help nobody and cost memory in every reporter. */
const MAX_DIFF_BYTES = 1024 * 1024;

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Ansible's `checksum` of copy/template/stat results is SHA-1 (hex). */
export function sha1(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

/** Text that round-trips through UTF-8 and has no NUL: shown as a diff; anything else as a summary line. */
export function asText(b: Buffer): string | null {
  if (b.length > MAX_DIFF_BYTES || b.includes(0)) return null;
  const s = b.toString('utf8');
  return Buffer.byteLength(s) === b.length && Buffer.from(s, 'utf8').equals(b) ? s : null;
}

function describeBinary(b: Buffer): string {
  return `(binary or large content: ${b.length} bytes, sha256 ${sha256(b)})\n`;
}

function idOf(id: number | undefined): string | undefined {
  return id === undefined ? undefined : String(id);
}

/** The changes that make `t.dest` hold `t.content` with `t.attrs`; empty when it already does. */
export async function planContent(ctx: ModuleContext<Probe>, t: ContentTarget): Promise<Change[]> {
  const st = t.stat;
  if (st.exists && st.type === 'directory') {
    throw new ModuleFailure(`${t.dest} is a directory`, { dest: t.dest });
  }
  if (st.exists && st.type === 'other') {
    throw new ModuleFailure(`${t.dest} exists and is not a regular file`, { dest: t.dest });
  }
  const text = asText(t.content);
  const after = text ?? describeBinary(t.content);
  const data = text === null ? t.content : undefined;
  const common = { backup: t.backup, validate: t.validate, ...(data ? { data } : {}) };

  if (!st.exists) {
    return [
      {
        kind: 'write',
        summary: `create ${t.dest}`,
        path: t.dest,
        before: null,
        after,
        mode: t.attrs.mode !== undefined ? resolveMode(t.attrs.mode, undefined, false) : undefined,
        owner: t.attrs.owner,
        group: t.attrs.group,
        ...common,
      },
    ];
  }

  // a link at dest is replaced by a regular file (Ansible's default, follow: false), so it always differs
  const same = st.type === 'file' && st.sha256 === sha256(t.content);
  if (same || t.force === false) {
    const c = st.type === 'file' ? attrChange(t.dest, st, t.attrs) : null;
    return c ? [c] : [];
  }

  let before: string;
  if (st.type === 'link') {
    before = `(symbolic link to ${st.linkTarget ?? '?'})\n`;
  } else {
    const cur = await ctx.remote.readFile(t.dest);
    before = cur === null ? '' : (asText(cur) ?? describeBinary(cur));
  }
  // the write replaces the file, so the current attributes are carried over unless asked otherwise
  const keep = st.type === 'file';
  return [
    {
      kind: 'write',
      summary: `update ${t.dest}`,
      path: t.dest,
      before,
      after,
      mode: t.attrs.mode !== undefined ? resolveMode(t.attrs.mode, keep ? st.mode : undefined, false) : keep ? st.mode : undefined,
      owner: t.attrs.owner ?? (keep ? (st.owner ?? idOf(st.uid)) : undefined),
      group: t.attrs.group ?? (keep ? (st.group ?? idOf(st.gid)) : undefined),
      ...common,
    },
  ];
}

/**
 * A destination whose directory is missing fails, except in check mode: there an earlier task
 * of the same run (file: state=directory) usually creates it, so a dry run of a fresh deploy
 * plans the write instead of stopping, and says so in the result's message.
 */
export function missingParent(ctx: { check: boolean }, parent: FileStat, dest: string): string | undefined {
  if (parent.exists) return undefined;
  if (!ctx.check) throw new ModuleFailure(`destination directory ${parent.path} does not exist`, { dest });
  return `destination directory ${parent.path} does not exist yet (check mode: assumed created by an earlier task)`;
}
