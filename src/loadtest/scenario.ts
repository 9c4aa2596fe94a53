import type { LoadtestRequestConfig, LoadtestScenarioConfig } from '../config/loadtest-section.ts'

/** One request of a scenario, ready to send: defaults applied, a JSON body serialized. */
export interface LoadtestRequest {
  readonly name: string
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  /** The body as sent; JSON bodies are serialized and carry `content-type: application/json`. */
  readonly body?: string
  readonly weight: number
}

/** What a scenario must achieve to pass; unset limits are not judged. */
export interface LoadtestCriteria {
  /** Largest share (0-1) of requests that fail: transport errors and statuses outside `statuses`. */
  readonly maxErrorRate?: number
  readonly maxP50Ms?: number
  readonly maxP95Ms?: number
  readonly maxP99Ms?: number
  /** Smallest mean throughput in responses per second. */
  readonly minRps?: number
  /** Statuses that count as success: classes (`2xx`) or exact codes (`404`). */
  readonly statuses: readonly string[]
}

/** A load scenario with every default applied: what the runner sends and how it is judged. */
export interface Scenario {
  readonly name: string
  readonly description?: string
  readonly requests: readonly LoadtestRequest[]
  readonly connections: number
  /** Requests per second over all connections; unset: as fast as the target answers. */
  readonly rate?: number
  /** Length of the measured run; unset when `amount` is set. */
  readonly durationSeconds?: number
  /** Total requests to send instead of a duration. */
  readonly amount?: number
  readonly warmupSeconds: number
  readonly timeoutSeconds: number
  readonly seed: number
  readonly criteria: LoadtestCriteria
}

/** Command-line overrides that apply to every scenario. */
export interface ScenarioOverrides {
  /** Replaces each scenario's duration (and its `amount`). */
  durationSeconds?: number
  connections?: number
}

const defaultDurationSeconds = 10

/**
 * Turns the validated `loadtest.scenarios` mapping (from keel.yaml or a `--file`) into scenarios
 * with every default applied, in the order they are written.
 */
export function scenariosFrom(
  scenarios: Readonly<Record<string, LoadtestScenarioConfig>>,
  overrides: ScenarioOverrides = {},
): Scenario[] {
  return Object.entries(scenarios).map(([name, config]) => {
    const amount = overrides.durationSeconds === undefined ? config.amount : undefined
    const durationSeconds =
      overrides.durationSeconds ??
      (amount === undefined ? (config.durationSeconds ?? defaultDurationSeconds) : undefined)
    const criteria = config.criteria ?? {}
    return {
      name,
      description: config.description,
      requests: Object.entries(config.requests ?? {}).map(([requestName, request]) =>
        requestFrom(requestName, request),
      ),
      connections: overrides.connections ?? config.connections ?? 10,
      rate: config.rate,
      durationSeconds,
      amount,
      warmupSeconds: config.warmupSeconds ?? 0,
      timeoutSeconds: config.timeoutSeconds ?? 10,
      seed: config.seed ?? 1,
      criteria: {
        maxErrorRate: criteria.maxErrorRate,
        maxP50Ms: criteria.maxP50Ms,
        maxP95Ms: criteria.maxP95Ms,
        maxP99Ms: criteria.maxP99Ms,
        minRps: criteria.minRps,
        statuses: criteria.statuses ?? ['2xx', '3xx'],
      },
    }
  })
}

function requestFrom(name: string, config: LoadtestRequestConfig): LoadtestRequest {
  const headers: Record<string, string> = { ...config.headers }
  let body: string | undefined
  if (typeof config.body === 'string') body = config.body
  else if (config.body !== undefined) {
    body = JSON.stringify(config.body)
    const hasContentType = Object.keys(headers).some((header) => header.toLowerCase() === 'content-type')
    if (!hasContentType) headers['content-type'] = 'application/json'
  }
  return {
    name,
    method: config.method ?? 'GET',
    // The section's check makes a missing path a config error before any scenario is built.
    path: config.path ?? '/',
    headers,
    body,
    weight: config.weight ?? 1,
  }
}

/** Whether `status` counts as success under `statuses` (`2xx` classes or exact codes). */
export function isAllowedStatus(status: number, statuses: readonly string[]): boolean {
  const text = String(status)
  return statuses.some((allowed) => allowed === text || (allowed.endsWith('xx') && allowed[0] === text[0]))
}
