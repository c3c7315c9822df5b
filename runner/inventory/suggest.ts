/** "did you mean" for misspelt group, host and key names: the project's one matcher. */

import { closest as nearest } from '../did-you-mean';

/** The candidate nearest to `word`, if it is near enough to be a plausible typo. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const others = [...candidates].filter((c) => c !== word);
  return nearest(word, others)?.match;
}
