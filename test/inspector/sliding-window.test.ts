import { binOf, binValueMs, latencyBins, SlidingWindow } from 'keel/inspector'
import { describe, expect, it } from 'vitest'

const t0 = 1_700_000_000_000 // a bucket boundary for 1 s buckets

describe('SlidingWindow', () => {
  it('computes p50/p95/p99, mean and error rate of known inputs within the histogram bound', () => {
    const window = new SlidingWindow(1000, 60)
    // 1..100 ms, one each, spread over 10 seconds; every 10th fails.
    for (let i = 1; i <= 100; i++) window.record(t0 + (i % 10) * 1000, i, i % 10 === 0)
    const stats = window.stats(t0 + 10_000)
    expect(stats.count).toBe(100)
    expect(stats.errors).toBe(10)
    expect(stats.errorRate).toBeCloseTo(0.1, 10)
    expect(stats.meanMs).toBeCloseTo(50.5, 3)
    expect(stats.maxMs).toBe(100)
    expect(stats.throughputPerSec).toBeCloseTo(100 / 60, 10)
    // Geometric bins 20 % wide: the reported value is within 10 % of the true quantile.
    expect(stats.p50Ms).toBeGreaterThanOrEqual(50 * 0.9)
    expect(stats.p50Ms).toBeLessThanOrEqual(50 * 1.1)
    expect(stats.p95Ms).toBeGreaterThanOrEqual(95 * 0.9)
    expect(stats.p95Ms).toBeLessThanOrEqual(95 * 1.1)
    expect(stats.p99Ms).toBeGreaterThanOrEqual(99 * 0.9)
    expect(stats.p99Ms).toBeLessThanOrEqual(100)
  })

  it('reports a lone sample as its own value (quantiles clamp to the observed range)', () => {
    const window = new SlidingWindow(1000, 60)
    window.record(t0, 42, false)
    expect(window.stats(t0)).toMatchObject({ count: 1, p50Ms: 42, p95Ms: 42, p99Ms: 42, maxMs: 42 })
  })

  it('forgets buckets that slid out of the window, and reuses their slots', () => {
    const window = new SlidingWindow(1000, 5)
    window.record(t0, 1000, true)
    window.record(t0 + 4_000, 2, false)
    expect(window.stats(t0 + 4_000)).toMatchObject({ count: 2, errors: 1, maxMs: 1000 })
    // At t0 + 5 s the first bucket is out: only the 2 ms sample is left.
    expect(window.stats(t0 + 5_000)).toMatchObject({ count: 1, errors: 0, p99Ms: 2, maxMs: 2 })
    // Recording into t0 + 5 s lands in the first bucket's slot, which starts empty.
    window.record(t0 + 5_000, 3, false)
    expect(window.stats(t0 + 5_000)).toMatchObject({ count: 2, errors: 0, maxMs: 3 })
    expect(window.stats(t0 + 60_000)).toMatchObject({ count: 0, errorRate: 0, p95Ms: 0, meanMs: 0 })
  })

  it('gives one point per bucket, oldest first, for charts', () => {
    const window = new SlidingWindow(1000, 3)
    window.record(t0 + 1_000, 10, true)
    window.record(t0 + 2_000, 20, false)
    window.record(t0 + 2_500, 30, false)
    const { series } = window.stats(t0 + 2_999, { series: true })
    expect(series?.map(({ at, count, errors }) => ({ at, count, errors }))).toEqual([
      { at: t0, count: 0, errors: 0 },
      { at: t0 + 1_000, count: 1, errors: 1 },
      { at: t0 + 2_000, count: 2, errors: 0 },
    ])
    expect(series?.[1]?.p95Ms).toBe(10) // a lone sample is its own value
    // Two samples: the p95 is the 30 ms one, reported as its bin's middle (within 10 %).
    expect(series?.[2]?.p95Ms).toBeGreaterThanOrEqual(27)
    expect(series?.[2]?.p95Ms).toBeLessThanOrEqual(30)
  })
})

describe('latency bins', () => {
  it('puts every duration in a bin whose middle is within 10 % of it', () => {
    for (const ms of [0.02, 0.5, 1, 3.3, 17, 250, 999, 12_345, 600_000]) {
      const value = binValueMs(binOf(ms))
      expect(Math.abs(value - ms) / ms).toBeLessThanOrEqual(0.1)
    }
  })

  it('clamps nonsense and huge durations into the first and last bins', () => {
    expect(binOf(0)).toBe(0)
    expect(binOf(-5)).toBe(0)
    expect(binOf(Number.NaN)).toBe(0)
    expect(binOf(1e12)).toBe(latencyBins - 1)
  })
})
