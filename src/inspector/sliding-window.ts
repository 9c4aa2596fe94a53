import { binOf, latencyBins, quantileMs } from './latency-histogram.ts'

/** One bucket of a window: what finished in one `bucketMs` slice of time. */
interface Bucket {
  /** Which slice (`floor(time / bucketMs)`) the bucket holds now; stale ones are reset on reuse. */
  index: number
  count: number
  errors: number
  totalMs: number
  minMs: number
  maxMs: number
  bins: Uint32Array
}

/** One bucket of a window as the API shows it. */
export interface WindowPoint {
  /** Start of the bucket (epoch ms). */
  readonly at: number
  readonly count: number
  readonly errors: number
  readonly p95Ms: number
}

/** What a window says about the last `windowMs`. */
export interface WindowStats {
  readonly windowMs: number
  readonly count: number
  readonly errors: number
  /** errors / count; 0 without traffic. */
  readonly errorRate: number
  /** count per second over the whole window. */
  readonly throughputPerSec: number
  readonly meanMs: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Per bucket, oldest first (only when asked for). */
  readonly series?: WindowPoint[]
}

/**
 * A sliding window of `buckets` × `bucketMs` (60 × 1 s by default): throughput, error rate and
 * latency quantiles of what finished in it. Each bucket keeps a fixed latency histogram (see
 * `latency-histogram.ts`), so recording is O(1) and memory is fixed (about 33 KB for 60 buckets).
 * Time is passed in, so the window is exact under test.
 */
export class SlidingWindow {
  readonly bucketMs: number
  readonly #buckets: Array<Bucket | undefined>

  constructor(bucketMs: number, buckets: number) {
    this.bucketMs = bucketMs
    this.#buckets = new Array(buckets)
  }

  /** Records one finished operation. */
  record(nowMs: number, durationMs: number, isError: boolean): void {
    const index = Math.floor(nowMs / this.bucketMs)
    const slot = index % this.#buckets.length
    let bucket = this.#buckets[slot]
    if (!bucket) {
      bucket = {
        index,
        count: 0,
        errors: 0,
        totalMs: 0,
        minMs: Infinity,
        maxMs: 0,
        bins: new Uint32Array(latencyBins),
      }
      this.#buckets[slot] = bucket
    } else if (bucket.index !== index) {
      bucket.index = index
      bucket.count = 0
      bucket.errors = 0
      bucket.totalMs = 0
      bucket.minMs = Infinity
      bucket.maxMs = 0
      bucket.bins.fill(0)
    }
    bucket.count++
    if (isError) bucket.errors++
    bucket.totalMs += durationMs
    if (durationMs < bucket.minMs) bucket.minMs = durationMs
    if (durationMs > bucket.maxMs) bucket.maxMs = durationMs
    bucket.bins[binOf(durationMs)]!++
  }

  /** The window ending at `nowMs`; with `series`, each bucket too (for charts). */
  stats(nowMs: number, options: { series?: boolean } = {}): WindowStats {
    const size = this.#buckets.length
    const newest = Math.floor(nowMs / this.bucketMs)
    const bins = new Uint32Array(latencyBins)
    let count = 0
    let errors = 0
    let totalMs = 0
    let minMs = Infinity
    let maxMs = 0
    const series: WindowPoint[] | undefined = options.series ? [] : undefined
    for (let index = newest - size + 1; index <= newest; index++) {
      const bucket = this.#buckets[((index % size) + size) % size]
      const live = bucket !== undefined && bucket.index === index
      if (series) {
        series.push({
          at: index * this.bucketMs,
          count: live ? bucket.count : 0,
          errors: live ? bucket.errors : 0,
          p95Ms: live ? round(quantileMs(bucket.bins, bucket.count, 0.95, bucket.minMs, bucket.maxMs)) : 0,
        })
      }
      if (!live) continue
      count += bucket.count
      errors += bucket.errors
      totalMs += bucket.totalMs
      if (bucket.minMs < minMs) minMs = bucket.minMs
      if (bucket.maxMs > maxMs) maxMs = bucket.maxMs
      for (let bin = 0; bin < latencyBins; bin++) bins[bin]! += bucket.bins[bin]!
    }
    const windowMs = size * this.bucketMs
    return {
      windowMs,
      count,
      errors,
      errorRate: count === 0 ? 0 : errors / count,
      throughputPerSec: count / (windowMs / 1000),
      meanMs: count === 0 ? 0 : round(totalMs / count),
      p50Ms: round(quantileMs(bins, count, 0.5, minMs, maxMs)),
      p95Ms: round(quantileMs(bins, count, 0.95, minMs, maxMs)),
      p99Ms: round(quantileMs(bins, count, 0.99, minMs, maxMs)),
      maxMs: round(maxMs),
      ...(series ? { series } : {}),
    }
  }
}

/** Milliseconds to 3 decimals (µs): enough for a chart, short on the wire. */
const round = (ms: number) => Math.round(ms * 1000) / 1000
