/**
 * A deterministic pseudo-random source (mulberry32): the same seed gives the same sequence, so a
 * scenario's mix of requests is reproducible from run to run.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Picks items in proportion to their weights (every weight > 0), drawing from `random`.
 *
 * @example
 * ```ts
 * const pick = weightedChoice([{ weight: 3, path: '/a' }, { weight: 1, path: '/b' }], seededRandom(1))
 * pick().path // '/a' three times in four, in the long run
 * ```
 */
export function weightedChoice<T extends { readonly weight: number }>(
  items: readonly T[],
  random: () => number,
): () => T {
  if (items.length === 0) throw new RangeError('weightedChoice needs at least one item')
  const cumulative: number[] = []
  let total = 0
  for (const item of items) {
    if (!(item.weight > 0)) throw new RangeError(`weights must be greater than 0, got ${item.weight}`)
    total += item.weight
    cumulative.push(total)
  }
  return () => {
    const target = random() * total
    // A few requests per scenario: a linear scan beats a binary search's bookkeeping.
    for (let i = 0; i < cumulative.length; i++) if (target < cumulative[i]!) return items[i]!
    return items.at(-1)!
  }
}
