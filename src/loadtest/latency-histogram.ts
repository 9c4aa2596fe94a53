/** One bar of a latency histogram: responses with `fromMs <= latency < toMs`. */
export interface LatencyBucket {
  readonly fromMs: number
  readonly toMs: number
  readonly count: number
}

// Bucket edges of the report's histogram, in ms: the 1-2-5 series, readable on a log axis.
const edgesMs = [
  0, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 60_000,
]

/**
 * Records latencies in a sparse histogram of three significant digits (1 µs below 1 ms), so its
 * memory stays bounded however long a run lasts while percentiles stay within 0.5%.
 *
 * @example
 * ```ts
 * const histogram = new LatencyHistogram()
 * histogram.record(12.5)
 * histogram.percentile(95) // 12.5
 * ```
 */
export class LatencyHistogram {
  readonly #counts = new Map<number, number>()
  #count = 0
  #sumMs = 0
  #minMs = Number.POSITIVE_INFINITY
  #maxMs = 0

  /** Adds one latency in milliseconds. */
  record(ms: number): void {
    const key = quantize(Math.max(0, ms) * 1000)
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1)
    this.#count++
    this.#sumMs += ms
    if (ms < this.#minMs) this.#minMs = ms
    if (ms > this.#maxMs) this.#maxMs = ms
  }

  get count(): number {
    return this.#count
  }

  get minMs(): number {
    return this.#count === 0 ? 0 : this.#minMs
  }

  get maxMs(): number {
    return this.#maxMs
  }

  get meanMs(): number {
    return this.#count === 0 ? 0 : this.#sumMs / this.#count
  }

  /** The latency `percent` of the recorded values are at or below (nearest rank); 0 when empty. */
  percentile(percent: number): number {
    if (this.#count === 0) return 0
    const rank = Math.max(1, Math.ceil((percent / 100) * this.#count))
    let seen = 0
    for (const key of this.#sortedKeys()) {
      seen += this.#counts.get(key)!
      // The exact extremes are known; a bin only approximates them.
      if (seen >= rank) return Math.min(this.#maxMs, Math.max(this.#minMs, key / 1000))
    }
    return this.#maxMs
  }

  /** Counts per 1-2-5 bucket, from the bucket of the fastest response to that of the slowest. */
  buckets(): LatencyBucket[] {
    if (this.#count === 0) return []
    const last = edgesMs.length - 1
    const indexOf = (ms: number) => {
      let index = 0
      while (index < last && ms >= edgesMs[index + 1]!) index++
      return index
    }
    const counts = new Array<number>(edgesMs.length).fill(0)
    for (const [key, count] of this.#counts) counts[indexOf(key / 1000)]! += count
    const from = indexOf(this.minMs)
    const to = indexOf(this.#maxMs)
    const buckets: LatencyBucket[] = []
    for (let index = from; index <= to; index++) {
      buckets.push({
        fromMs: edgesMs[index]!,
        toMs: index === last ? Math.max(this.#maxMs, edgesMs[last]!) : edgesMs[index + 1]!,
        count: counts[index]!,
      })
    }
    return buckets
  }

  #sortedKeys(): number[] {
    return [...this.#counts.keys()].sort((a, b) => a - b)
  }
}

/** Microseconds rounded to three significant digits (whole microseconds below 1 ms). */
function quantize(us: number): number {
  if (us < 1000) return Math.round(us)
  const step = 10 ** (Math.floor(Math.log10(us)) - 2)
  return Math.round(us / step) * step
}
