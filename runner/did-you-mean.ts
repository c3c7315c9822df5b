/**
 * "did you mean ...?" suggestions for misspelt keywords, modules, roles and meta actions.
 */

/**
 * Edit distance where swapping two neighbouring letters costs 1 (optimal string alignment),
 * because transpositions ("whne" for "when") are the commonest typo and plain Levenshtein
 * would count them as 2 and miss short words.
 */
export function editDistance(a: string, b: string): number {
  const n = a.length;
  const m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  // three rolling rows are enough for the transposition lookup two rows back
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  let cur = new Array<number>(m + 1).fill(0);
  for (let i = 1; i <= n; i++) {
    cur[0] = i;
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[m];
}

/** How far a word may be from a candidate and still be suggested: tolerant for long words only. */
function threshold(word: string): number {
  if (word.length <= 4) return 1;
  if (word.length <= 9) return 2;
  return 3;
}

/** The closest candidate within the word's threshold (case-insensitive), with its distance. */
export function closest(word: string, candidates: Iterable<string>): { match: string; distance: number } | undefined {
  const w = word.toLowerCase();
  const limit = threshold(w);
  let best: { match: string; distance: number } | undefined;
  for (const c of candidates) {
    // cheap length filter first: distance is at least the length difference
    if (Math.abs(c.length - w.length) > limit) continue;
    const d = editDistance(w, c.toLowerCase());
    if (d <= limit && (!best || d < best.distance)) best = { match: c, distance: d };
  }
  return best;
}

/** " — did you mean 'x'?" or "" */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c ? ` — did you mean '${c.match}'?` : '';
}
