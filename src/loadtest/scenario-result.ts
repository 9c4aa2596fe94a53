import { type CriterionCheck, judge } from './criteria.ts'
import type { LatencyBucket } from './latency-histogram.ts'
import type { Measurement, SecondSample } from './measure-scenario.ts'
import { isAllowedStatus, type Scenario } from './scenario.ts'

/** Latency percentiles in milliseconds, rounded to 0.01 ms. */
export interface LatencySummary {
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly meanMs: number
  readonly minMs: number
  readonly maxMs: number
}

/**
 * Everything measured and judged for one scenario: what `--json` prints, what the table and the
 * HTML report show (they print these very numbers).
 */
export interface ScenarioResult {
  readonly name: string
  readonly description?: string
  readonly settings: {
    readonly connections: number
    readonly rate?: number
    readonly durationSeconds?: number
    readonly amount?: number
    readonly warmupSeconds: number
  }
  readonly requests: readonly { name: string; method: string; path: string; weight: number }[]
  /** Wall-clock length of the measured run, seconds (0.01). */
  readonly elapsedSeconds: number
  /** Requests that got a response or a transport error. */
  readonly requestsSent: number
  readonly responses: number
  /** Transport errors: timeouts, refused and reset connections. */
  readonly errors: number
  readonly timeouts: number
  readonly errorKinds: Readonly<Record<string, number>>
  /** Responses whose status is outside the scenario's `criteria.statuses`. */
  readonly badStatuses: number
  /** Transport errors plus responses with a status outside `criteria.statuses`. */
  readonly failed: number
  /** `failed / requestsSent`, 0-1 (six decimals). */
  readonly errorRate: number
  /** Mean responses per second over the run (0.1). */
  readonly rps: number
  readonly latency: LatencySummary
  readonly statusCodes: Readonly<Record<string, number>>
  /** Responses per second, second by second. */
  readonly throughput: readonly SecondSample[]
  readonly histogram: readonly LatencyBucket[]
  readonly passed: boolean
  readonly checks: readonly CriterionCheck[]
}

const round = (value: number, decimals: number) => {
  const factor = 10 ** decimals
  return Math.round(value * factor) / factor
}

/** Summarizes a measurement and judges it against the scenario's criteria. */
export function scenarioResult(scenario: Scenario, measurement: Measurement): ScenarioResult {
  const { latency } = measurement
  const badStatuses = Object.entries(measurement.statusCodes)
    .filter(([status]) => !isAllowedStatus(Number(status), scenario.criteria.statuses))
    .reduce((sum, [, count]) => sum + count, 0)
  const requestsSent = measurement.responses + measurement.errors
  const failed = measurement.errors + badStatuses
  const elapsedSeconds = measurement.elapsedMs / 1000
  const summary = {
    requestsSent,
    responses: measurement.responses,
    failed,
    // With nothing sent there is no rate; the check for responses fails such a run.
    errorRate: requestsSent === 0 ? 0 : round(failed / requestsSent, 6),
    rps: round(elapsedSeconds > 0 ? measurement.responses / elapsedSeconds : 0, 1),
    latency: {
      p50Ms: round(latency.percentile(50), 2),
      p95Ms: round(latency.percentile(95), 2),
      p99Ms: round(latency.percentile(99), 2),
      meanMs: round(latency.meanMs, 2),
      minMs: round(latency.minMs, 2),
      maxMs: round(latency.maxMs, 2),
    },
  }
  const checks = judge(scenario.criteria, {
    ...summary,
    errors: measurement.errors,
    errorKinds: measurement.errorKinds,
  })
  return {
    name: scenario.name,
    description: scenario.description,
    settings: {
      connections: scenario.connections,
      rate: scenario.rate,
      durationSeconds: scenario.durationSeconds,
      amount: scenario.amount,
      warmupSeconds: scenario.warmupSeconds,
    },
    requests: scenario.requests.map(({ name, method, path, weight }) => ({ name, method, path, weight })),
    elapsedSeconds: round(elapsedSeconds, 2),
    ...summary,
    errors: measurement.errors,
    timeouts: measurement.timeouts,
    errorKinds: measurement.errorKinds,
    badStatuses,
    statusCodes: measurement.statusCodes,
    throughput: measurement.seconds.map((sample) => ({ ...sample, rps: round(sample.rps, 1) })),
    histogram: latency.buckets(),
    passed: checks.every((check) => check.passed),
    checks,
  }
}
