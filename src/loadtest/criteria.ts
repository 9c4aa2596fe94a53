import { percentText as percent } from './number-text.ts'
import type { LoadtestCriteria } from './scenario.ts'

/** One criterion judged: what was measured, the limit, and in words why it failed. */
export interface CriterionCheck {
  /** `responses`, `maxErrorRate`, `maxP50Ms`, `maxP95Ms`, `maxP99Ms` or `minRps`. */
  readonly criterion: string
  readonly actual: number
  readonly limit: number
  readonly passed: boolean
  /** `p95 412.5 ms > 200 ms`; on a pass, the same comparison the other way round. */
  readonly text: string
}

/** The measured numbers criteria are judged on (already rounded as they are shown). */
export interface JudgedNumbers {
  readonly requestsSent: number
  readonly responses: number
  readonly errors: number
  readonly errorKinds: Readonly<Record<string, number>>
  readonly errorRate: number
  readonly rps: number
  readonly latency: { readonly p50Ms: number; readonly p95Ms: number; readonly p99Ms: number }
}

/**
 * Judges a scenario's numbers against its criteria; one check per criterion that is set. A run
 * without a single response always fails, whatever the criteria: the target was not load-tested.
 */
export function judge(criteria: LoadtestCriteria, numbers: JudgedNumbers): CriterionCheck[] {
  const checks: CriterionCheck[] = []
  if (numbers.responses === 0) {
    const kinds = Object.entries(numbers.errorKinds)
      .map(([kind, count]) => `${kind} ×${count}`)
      .join(', ')
    checks.push({
      criterion: 'responses',
      actual: 0,
      limit: 1,
      passed: false,
      text: `no response from the target (${numbers.errors} error${numbers.errors === 1 ? '' : 's'}${kinds ? `: ${kinds}` : ''})`,
    })
  }
  const atMost = (
    criterion: string,
    label: string,
    actual: number,
    limit: number | undefined,
    unit = ' ms',
  ) => {
    if (limit === undefined) return
    const passed = actual <= limit
    checks.push({
      criterion,
      actual,
      limit,
      passed,
      text: `${label} ${actual}${unit} ${passed ? '<=' : '>'} ${limit}${unit}`,
    })
  }
  if (criteria.maxErrorRate !== undefined) {
    const passed = numbers.errorRate <= criteria.maxErrorRate
    checks.push({
      criterion: 'maxErrorRate',
      actual: numbers.errorRate,
      limit: criteria.maxErrorRate,
      passed,
      text: `error rate ${percent(numbers.errorRate)} ${passed ? '<=' : '>'} ${percent(criteria.maxErrorRate)}`,
    })
  }
  atMost('maxP50Ms', 'p50', numbers.latency.p50Ms, criteria.maxP50Ms)
  atMost('maxP95Ms', 'p95', numbers.latency.p95Ms, criteria.maxP95Ms)
  atMost('maxP99Ms', 'p99', numbers.latency.p99Ms, criteria.maxP99Ms)
  if (criteria.minRps !== undefined) {
    const passed = numbers.rps >= criteria.minRps
    checks.push({
      criterion: 'minRps',
      actual: numbers.rps,
      limit: criteria.minRps,
      passed,
      text: `throughput ${numbers.rps} rps ${passed ? '>=' : '<'} ${criteria.minRps} rps`,
    })
  }
  return checks
}
