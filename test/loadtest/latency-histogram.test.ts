import { LatencyHistogram } from 'keel/loadtest'
import { describe, expect, it } from 'vitest'

/** Nearest-rank percentile of exact values, for comparison. */
function exactPercentile(values: number[], percent: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(1, Math.ceil((percent / 100) * sorted.length)) - 1]!
}

describe('LatencyHistogram', () => {
  it('answers zeros when empty', () => {
    const histogram = new LatencyHistogram()
    expect([
      histogram.count,
      histogram.percentile(95),
      histogram.minMs,
      histogram.maxMs,
      histogram.meanMs,
    ]).toEqual([0, 0, 0, 0, 0])
    expect(histogram.buckets()).toEqual([])
  })

  it('keeps percentiles within 0.5% of the exact ones over a wide range', () => {
    const histogram = new LatencyHistogram()
    const values: number[] = []
    let seed = 1
    for (let i = 0; i < 20_000; i++) {
      seed = (seed * 48271) % 2147483647
      // Log-uniform from 0.05 ms to 5 s, like real latencies spanning orders of magnitude.
      const ms = 0.05 * 10 ** ((seed / 2147483647) * 5)
      values.push(ms)
      histogram.record(ms)
    }
    for (const percent of [50, 90, 95, 99, 99.9]) {
      const exact = exactPercentile(values, percent)
      expect(Math.abs(histogram.percentile(percent) - exact) / exact, `p${percent}`).toBeLessThan(0.005)
    }
    expect(histogram.maxMs).toBe(Math.max(...values))
    expect(histogram.minMs).toBe(Math.min(...values))
    expect(histogram.meanMs).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6)
    expect(histogram.percentile(100)).toBe(histogram.maxMs)
  })

  it('buckets every value on 1-2-5 edges, from the fastest bucket to the slowest', () => {
    const histogram = new LatencyHistogram()
    for (const ms of [0.15, 0.3, 0.3, 3, 300, 70_000]) histogram.record(ms)
    const buckets = histogram.buckets()
    expect(buckets[0]).toEqual({ fromMs: 0.1, toMs: 0.2, count: 1 })
    expect(buckets[1]).toEqual({ fromMs: 0.2, toMs: 0.5, count: 2 })
    expect(buckets.find((b) => b.fromMs === 2)).toEqual({ fromMs: 2, toMs: 5, count: 1 })
    expect(buckets.find((b) => b.fromMs === 200)).toEqual({ fromMs: 200, toMs: 500, count: 1 })
    // The last bucket is open-ended and stretches to the slowest value.
    expect(buckets.at(-1)).toEqual({ fromMs: 60_000, toMs: 70_000, count: 1 })
    expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(6)
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.fromMs).toBe(buckets[i - 1]!.toMs)
  })
})
