/**
 * "Edit this text file with a pure function of its text": what replace and blockinfile share.
 * One stat and one read; the edit decides; a changed text is ONE atomic write carrying the
 * current mode/owner (or the task's), backup and validate; an unchanged one only fixes attributes.
 *
 * Not a module: a helper for modules, importing only the module contract.
 */

import * as path from 'path';
import { ModuleFailure, type Change, type ModuleContext, type Plan, type Probe } from '../../runner/module-api';
import { attrChange, idArg, modeArg, resolveMode, type Attrs } from './attrs';
import { missingParent } from './content';

export interface EditOutcome {
  text: string;
  changed: boolean;
  msg: string;
}

export interface TextEditTarget {
  path: string;
  owner?: string | number;
  group?: string | number;
  mode?: string | number;
  backup?: boolean;
  validate?: string;
  /** a missing file is edited as '' and created (blockinfile's create) */
  create?: boolean;
  /** a missing file is fine and unchanged (state=absent) */
  absentOk?: boolean;
  encoding?: BufferEncoding;
}

export async function planTextEdit(ctx: ModuleContext<Probe>, t: TextEditTarget, edit: (text: string, created: boolean) => EditOutcome): Promise<Plan> {
  const attrs: Attrs = { owner: idArg(t.owner), group: idArg(t.group), mode: modeArg(t.mode) };
  const enc = t.encoding ?? 'utf8';
  const result = { path: t.path };
  const [[st, parent], data] = await Promise.all([ctx.remote.stat([t.path, path.posix.dirname(t.path)]), ctx.remote.readFile(t.path).catch((e: Error) => e)]);
  if (st.exists && st.type === 'directory') throw new ModuleFailure(`Path ${t.path} is a directory !`, { rc: 256, path: t.path });
  if (data instanceof Error) throw new ModuleFailure(`cannot read ${t.path}: ${data.message}`, { path: t.path });

  if (data === null) {
    if (t.absentOk) return { changes: [], result, msg: '' };
    if (!t.create) throw new ModuleFailure(`Path ${t.path} does not exist !`, { rc: 257, path: t.path });
    const note = missingParent(ctx, parent, t.path);
    const r = edit('', true);
    if (!r.changed) return { changes: [], result, msg: r.msg };
    const change: Change = {
      kind: 'write',
      summary: `create ${t.path}`,
      path: t.path,
      before: null,
      after: r.text,
      data: enc === 'utf8' ? undefined : Buffer.from(r.text, enc),
      mode: attrs.mode !== undefined ? resolveMode(attrs.mode, undefined, false) : undefined,
      owner: attrs.owner,
      group: attrs.group,
      validate: t.validate,
    };
    return { changes: [change], result, msg: note ?? r.msg };
  }

  const text = data.toString(enc);
  if (!Buffer.from(text, enc).equals(data)) throw new ModuleFailure(`${t.path} is not ${enc === 'utf8' ? 'UTF-8' : enc} text`, { path: t.path });
  const r = edit(text, false);
  if (!r.changed) {
    const c = attrChange(t.path, st, attrs);
    return { changes: c ? [c] : [], result, msg: r.msg };
  }
  const keep = st.type === 'file';
  const change: Change = {
    kind: 'write',
    summary: `${r.msg} in ${t.path}`,
    path: t.path,
    before: text,
    after: r.text,
    data: enc === 'utf8' ? undefined : Buffer.from(r.text, enc),
    mode: attrs.mode !== undefined ? resolveMode(attrs.mode, st.mode, false) : keep ? st.mode : undefined,
    owner: attrs.owner ?? (keep ? st.owner : undefined),
    group: attrs.group ?? (keep ? st.group : undefined),
    backup: t.backup,
    validate: t.validate,
  };
  return { changes: [change], result, msg: r.msg };
}
