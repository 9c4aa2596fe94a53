/**
 * Latency bins: geometric, each 20 % wider than the one before, from 10 µs to about 20 minutes.
 * Fixed bins rather than a reservoir because bins of different buckets add up exactly (a window's
 * p95 is computed from the sum of its buckets' bins, where reservoirs of unequal traffic cannot be
 * merged without bias), record in O(1) with no allocation, and take a fixed 512 bytes per bucket.
 * A quantile is reported as the geometric middle of its bin: within ±10 % of the true value.
 */
export const latencyBins = 128
const smallestMs = 0.01
const growth = 1.2
const logGrowth = Math.log(growth)

/** The bin of a duration: 0 for ≤ 10 µs, the last one for anything past the range. */
export function binOf(durationMs: number): number {
  if (!(durationMs > smallestMs)) return 0
  const bin = Math.floor(Math.log(durationMs / smallestMs) / logGrowth) + 1
  return bin < latencyBins ? bin : latencyBins - 1
}

/** The value a bin stands for: the geometric middle of its bounds. */
export function binValueMs(bin: number): number {
  return bin === 0 ? smallestMs : smallestMs * growth ** (bin - 0.5)
}

/**
 * The `q` quantile (0-1) of `total` durations binned in `bins`, clamped to the observed
 * [minMs, maxMs] so a lone sample reports its own value. 0 when there are none.
 */
export function quantileMs(
  bins: ArrayLike<number>,
  total: number,
  q: number,
  minMs: number,
  maxMs: number,
): number {
  if (total === 0) return 0
  const rank = Math.max(1, Math.ceil(q * total))
  let seen = 0
  for (let bin = 0; bin < bins.length; bin++) {
    seen += bins[bin]!
    if (seen >= rank) return Math.min(maxMs, Math.max(minMs, binValueMs(bin)))
  }
  return maxMs
}
