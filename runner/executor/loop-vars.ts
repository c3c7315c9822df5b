/**
 * The variables each loop item sees, for tasks and for include_* loops alike: the loop
 * variable (`item`, or loop_control.loop_var, which may be a template), ansible_loop_var,
 * loop_control.index_var, and with loop_control.extended Ansible's `ansible_loop` (index,
 * index0, revindex, revindex0, first, last, length, previtem, nextitem, allitems unless
 * extended_allitems is false). Without `extended`, Ansible defines no ansible_loop at all.
 */

import { TsplayError } from '../errors';
import type { SourceLocation } from '../errors';
import type { TaskDef } from '../loader/types';
import type { RunContext } from './context';
import type { Vars } from './vars';

type LoopControl = TaskDef['loopControl'];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface LoopShape {
  loopVar: string;
  indexVar?: string;
  extended: boolean;
  allItems: boolean;
}

/** loop_control rendered for this host: the names and whether ansible_loop is wanted. */
export async function loopShape(x: RunContext, lc: LoopControl, vars: Vars, loc: SourceLocation | undefined): Promise<LoopShape> {
  let loopVar = lc?.loopVar ?? 'item';
  if (loopVar.includes('{{')) {
    loopVar = String(await x.s.templar.renderValue(loopVar, vars, loc));
    if (!NAME.test(loopVar)) throw new TsplayError(`loop_control.loop_var rendered to '${loopVar}', which is not a variable name`, loc);
  }
  const extended = await x.keywordBool('loop_control.extended', lc?.extended, vars, loc, false);
  const allItems = extended && (await x.keywordBool('loop_control.extended_allitems', lc?.extendedAllitems, vars, loc, true));
  return { loopVar, indexVar: lc?.indexVar, extended, allItems };
}

/** What item `i` of `items` adds to the task's variables. */
export function itemVars(shape: LoopShape, items: unknown[], i: number): Vars {
  const v: Vars = { [shape.loopVar]: items[i], ansible_loop_var: shape.loopVar };
  if (shape.indexVar) v[shape.indexVar] = i;
  if (shape.extended) {
    const n = items.length;
    const loop: Record<string, unknown> = {
      index: i + 1, index0: i, revindex: n - i, revindex0: n - i - 1, first: i === 0, last: i === n - 1, length: n,
    };
    if (i > 0) loop.previtem = items[i - 1];
    if (i < n - 1) loop.nextitem = items[i + 1];
    if (shape.allItems) loop.allitems = items;
    v.ansible_loop = loop;
  }
  return v;
}
