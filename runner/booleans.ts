/**
 * The one boolean rule: which values mean true and false wherever a playbook gives a boolean
 * (keywords, module arguments, `bool`, `truthy(convert_bool=true)`, rendered conditions).
 *
 * It is Ansible's `module_utils.parsing.convert_bool.boolean`: the words y/yes/on/1/true/t and
 * n/no/off/0/false/f in any case, the numbers 1 and 0, and real booleans. Anything else (none,
 * '', 'maybe', 2) is not a boolean: keywords and module arguments report it as an error, the
 * lenient readers (`bool`, conditions) fall back to their own rule, as Ansible's do.
 */

const TRUE_WORDS: ReadonlySet<string> = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['n', 'no', 'off', '0', 'false', 'f']);

/** For messages: the spellings a user should write. */
export const BOOLEAN_SPELLINGS = 'true/false, yes/no, on/off or 1/0';

/** The boolean a value means, or undefined when it is not one of the boolean spellings. */
export function parseBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v === 1 ? true : v === 0 ? false : undefined;
  if (typeof v === 'string') {
    const w = v.trim().toLowerCase();
    if (TRUE_WORDS.has(w)) return true;
    if (FALSE_WORDS.has(w)) return false;
  }
  return undefined;
}
