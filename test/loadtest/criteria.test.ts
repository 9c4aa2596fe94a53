import { judge } from 'keel/loadtest'
import { describe, expect, it } from 'vitest'

const numbers = {
  requestsSent: 1000,
  responses: 1000,
  errors: 0,
  errorKinds: {},
  errorRate: 0.002,
  rps: 512.3,
  latency: { p50Ms: 12.5, p95Ms: 412.25, p99Ms: 800 },
}

describe('judge', () => {
  it('names each failed criterion with the measured value and the limit', () => {
    const checks = judge(
      { maxErrorRate: 0.001, maxP50Ms: 20, maxP95Ms: 200, maxP99Ms: 800, minRps: 1000, statuses: ['2xx'] },
      numbers,
    )
    expect(checks.map((c) => [c.criterion, c.passed, c.text])).toEqual([
      ['maxErrorRate', false, 'error rate 0.2% > 0.1%'],
      ['maxP50Ms', true, 'p50 12.5 ms <= 20 ms'],
      ['maxP95Ms', false, 'p95 412.25 ms > 200 ms'],
      ['maxP99Ms', true, 'p99 800 ms <= 800 ms'],
      ['minRps', false, 'throughput 512.3 rps < 1000 rps'],
    ])
  })

  it('judges nothing that is not set', () => {
    expect(judge({ statuses: ['2xx'] }, numbers)).toEqual([])
  })

  it('fails a run without a single response whatever the criteria, naming the errors', () => {
    const checks = judge(
      { statuses: ['2xx'] },
      { ...numbers, responses: 0, errors: 7, errorKinds: { ECONNREFUSED: 5, timeout: 2 }, errorRate: 1 },
    )
    expect(checks).toEqual([
      {
        criterion: 'responses',
        actual: 0,
        limit: 1,
        passed: false,
        text: 'no response from the target (7 errors: ECONNREFUSED ×5, timeout ×2)',
      },
    ])
  })
})
