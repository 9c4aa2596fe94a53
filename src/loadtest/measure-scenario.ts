import { performance } from 'node:perf_hooks'
import autocannon from 'autocannon'
import { LatencyHistogram } from './latency-histogram.ts'
import type { LoadtestRequest, Scenario } from './scenario.ts'
import { seededRandom, weightedChoice } from './weighted-choice.ts'

/** Where a scenario stands, about once a second, for the live display. */
export interface ScenarioProgress {
  readonly scenario: string
  readonly phase: 'warmup' | 'run'
  readonly elapsedSeconds: number
  /** The phase's planned length; unset for a run of `amount` requests. */
  readonly totalSeconds?: number
  /** The planned number of requests of an `amount` run. */
  readonly amount?: number
  readonly responses: number
  readonly errors: number
  /** Responses per second since the previous report. */
  readonly rps: number
}

/** Responses and transport errors of one second of a run. */
export interface SecondSample {
  readonly second: number
  readonly responses: number
  readonly errors: number
  /** Responses per second; the last sample is scaled to the length of the last, partial second. */
  readonly rps: number
}

/** The raw outcome of one scenario's measured run (the warm-up is not in it). */
export interface Measurement {
  readonly elapsedMs: number
  readonly responses: number
  /** Transport errors: timeouts, refused or reset connections. */
  readonly errors: number
  readonly timeouts: number
  /** Transport errors by kind (`timeout`, `ECONNRESET`, …). */
  readonly errorKinds: Readonly<Record<string, number>>
  /** Responses by status code. */
  readonly statusCodes: Readonly<Record<string, number>>
  readonly latency: LatencyHistogram
  readonly seconds: readonly SecondSample[]
}

/** Options of {@link measureScenario}. */
export interface MeasureOptions {
  /** The target's base URL; request paths are appended to its path. */
  readonly target: URL
  readonly onProgress?: (progress: ScenarioProgress) => void
}

/**
 * Sends a scenario's load with autocannon: the warm-up first (unmeasured), then the measured run,
 * recording every response's status and latency and every transport error, second by second.
 */
export async function measureScenario(scenario: Scenario, options: MeasureOptions): Promise<Measurement> {
  const onProgress = options.onProgress ?? (() => {})
  if (scenario.warmupSeconds > 0) await runLoad(scenario, options, 'warmup', onProgress)
  return runLoad(scenario, options, 'run', onProgress)
}

async function runLoad(
  scenario: Scenario,
  { target }: MeasureOptions,
  phase: 'warmup' | 'run',
  onProgress: (progress: ScenarioProgress) => void,
): Promise<Measurement> {
  const latency = new LatencyHistogram()
  const statusCodes: Record<string, number> = {}
  const errorKinds: Record<string, number> = {}
  const responsesBySecond: number[] = []
  const errorsBySecond: number[] = []
  let responses = 0
  let errors = 0
  let timeouts = 0
  const isWarmup = phase === 'warmup'
  const durationSeconds = isWarmup ? scenario.warmupSeconds : scenario.durationSeconds
  const amount = isWarmup ? undefined : scenario.amount
  const startedAt = performance.now()
  const secondNow = () => Math.floor((performance.now() - startedAt) / 1000)

  let finish!: () => void
  let fail!: (error: unknown) => void
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve
    fail = reject
  })
  const tracker = autocannon(
    {
      url: target.origin,
      connections: scenario.connections,
      // An amount run against a target that stops answering would reconnect for ever: it bails
      // out once it has had as many errors as it was to send requests.
      ...(amount === undefined ? { duration: durationSeconds } : { amount, bailout: amount }),
      ...(scenario.rate === undefined ? {} : { overallRate: scenario.rate }),
      timeout: scenario.timeoutSeconds,
      requests: autocannonRequests(scenario, target),
    },
    (error: unknown) => (error ? fail(error) : finish()),
  )

  tracker.on('response', (_client, statusCode: number, _bytes: number, responseTimeMs: number) => {
    responses++
    const second = secondNow()
    responsesBySecond[second] = (responsesBySecond[second] ?? 0) + 1
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1
    latency.record(responseTimeMs)
  })
  tracker.on('reqError', (error: unknown) => {
    errors++
    const second = secondNow()
    errorsBySecond[second] = (errorsBySecond[second] ?? 0) + 1
    const kind = errorKind(error)
    if (kind === 'timeout') timeouts++
    errorKinds[kind] = (errorKinds[kind] ?? 0) + 1
  })
  let lastTick = { at: startedAt, responses: 0 }
  tracker.on('tick', () => {
    const now = performance.now()
    const seconds = (now - lastTick.at) / 1000
    // autocannon ticks once more as it stops; a rate over that sliver of a second means nothing.
    if (seconds < 0.25) return
    onProgress({
      scenario: scenario.name,
      phase,
      elapsedSeconds: (now - startedAt) / 1000,
      totalSeconds: amount === undefined ? durationSeconds : undefined,
      amount,
      responses,
      errors,
      rps: seconds > 0 ? (responses - lastTick.responses) / seconds : 0,
    })
    lastTick = { at: now, responses }
  })

  await done
  const elapsedMs = performance.now() - startedAt
  return {
    elapsedMs,
    responses,
    errors,
    timeouts,
    errorKinds,
    statusCodes,
    latency,
    seconds: secondSamples(responsesBySecond, errorsBySecond, elapsedMs),
  }
}

/**
 * The requests in autocannon's form. One request is sent as is; several go through one entry whose
 * `setupRequest` picks a request by weight from a seeded random source on every send: any weights
 * work (no list of repeated entries to expand), and the mix is the same on every run.
 */
function autocannonRequests(scenario: Scenario, target: URL): autocannon.Request[] {
  const basePath = target.pathname.replace(/\/+$/, '')
  const toAutocannon = (request: LoadtestRequest): autocannon.Request => ({
    method: request.method as autocannon.Request['method'],
    path: basePath + request.path,
    headers: { ...request.headers },
    body: request.body,
  })
  if (scenario.requests.length === 1) return [toAutocannon(scenario.requests[0]!)]
  const weighted = scenario.requests.map((request) => ({
    weight: request.weight,
    request: toAutocannon(request),
  }))
  const pick = weightedChoice(weighted, seededRandom(scenario.seed))
  return [
    {
      setupRequest: (request) => {
        const chosen = pick().request
        // A fresh headers object: autocannon adds Content-Length to the one it is given.
        return { ...request, ...chosen, headers: { ...chosen.headers } }
      },
    },
  ]
}

/** A transport error's kind: `timeout`, or the system error code (`ECONNREFUSED`, `ECONNRESET`). */
function errorKind(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  if (typeof code === 'string' && code !== '') return code
  const message = (error as Error | undefined)?.message ?? String(error)
  return /timed out/i.test(message) ? 'timeout' : message
}

/** Whole seconds of the run; the responses of a last, partial second count towards the one before. */
function secondSamples(responses: number[], errors: number[], elapsedMs: number): SecondSample[] {
  const elapsedSeconds = elapsedMs / 1000
  const count = Math.max(1, Math.floor(elapsedSeconds))
  const samples: SecondSample[] = []
  for (let second = 0; second < count; second++) {
    const isLast = second === count - 1
    const tail = (values: number[]) =>
      isLast ? values.slice(second).reduce((sum, v) => sum + (v ?? 0), 0) : (values[second] ?? 0)
    const length = isLast ? elapsedSeconds - second : 1
    const answered = tail(responses)
    samples.push({
      second,
      responses: answered,
      errors: tail(errors),
      rps: length > 0 ? answered / length : 0,
    })
  }
  return samples
}
