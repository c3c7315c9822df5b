/**
 * The YAML mapping each loaded play, task, block, include and role vars file came from. The
 * loaded objects are rebuilt (camelCase fields, merged vars), which loses the positions the YAML
 * loader keeps per key; checks that run after loading (static-check.ts) read positions here so
 * their errors can name the exact file:line:column of a `when`, an argument or a variable.
 */

const sources = new WeakMap<object, Record<string, unknown>>();

export function keepSource<T extends object>(loaded: T, raw: Record<string, unknown>): T {
  sources.set(loaded, raw);
  return loaded;
}

export function sourceOf(loaded: object): Record<string, unknown> | undefined {
  return sources.get(loaded);
}
