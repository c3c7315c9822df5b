/**
 * include_tasks/include_role are expanded at run time, so a file that includes itself (or a
 * cycle of them) recurses without end, memory growing. Each loaded item remembers the chain of
 * includes above it; an include deeper than MAX_INCLUDE_DEPTH fails the hosts that reach it,
 * and the message shows the chain (file:line:column of each include).
 */

import { formatLocation, ValidationError, type SourceLocation } from '../errors';
import type { IncludeDef, TaskItem } from '../loader/types';

export const MAX_INCLUDE_DEPTH = 64;

/** item -> the includes it was loaded through, outermost first */
const chains = new WeakMap<object, SourceLocation[]>();

/** Called with what `inc` just loaded: throws when `inc` is too deep, else records the chain. */
export function nestInclude(inc: IncludeDef, items: TaskItem[]): void {
  const chain = [...(chains.get(inc) ?? []), inc.loc];
  if (chain.length > MAX_INCLUDE_DEPTH) {
    throw new ValidationError(
      `include depth limit (${MAX_INCLUDE_DEPTH}) exceeded: ${describeChain(chain)}`,
      inc.loc,
      'an include that includes itself needs a `when` that ends the recursion',
    );
  }
  mark(items, chain);
}

function mark(items: TaskItem[], chain: SourceLocation[]): void {
  for (const it of items) {
    chains.set(it, chain);
    if (it.kind === 'block') {
      mark(it.block, chain);
      mark(it.rescue, chain);
      mark(it.always, chain);
    }
  }
}

/** The chain up to the first include seen twice (the cycle), then how deep it went. */
export function describeChain(chain: SourceLocation[]): string {
  const seen = new Set<string>();
  const shown: string[] = [];
  for (const loc of chain) {
    const s = formatLocation(loc);
    shown.push(s);
    if (seen.has(s)) break;
    seen.add(s);
  }
  return shown.join(' -> ') + (shown.length < chain.length ? ` -> ... (${chain.length} includes deep)` : '');
}
