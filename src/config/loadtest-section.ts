import { type Static, Type } from '@sinclair/typebox'
import { defineConfigSection, type SectionProblem } from './schema-section.ts'

// Scenarios and requests are mappings keyed by name rather than lists: the config loader locates
// every key of a mapping (file:line), checks it against the schema and lets a profile override one
// value (`profiles.ci.loadtest.scenarios.browse.durationSeconds: 2`); inside a list it can do none
// of that.

// HEAD is left out: autocannon's response parser waits for the body a HEAD response announces.
const httpMethods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** A status (`404`) or a status class (`2xx`). */
const statusPattern = '^([1-5]xx|[1-5][0-9][0-9])$'

const loadtestRequest = Type.Object(
  {
    method: Type.Optional(
      Type.Union(
        httpMethods.map((method) => Type.Literal(method)),
        { default: 'GET', description: 'HTTP method' },
      ),
    ),
    path: Type.Optional(
      Type.String({
        pattern: '^/',
        description: 'request path with its query, e.g. /todos?limit=10 (required)',
      }),
    ),
    headers: Type.Optional(
      Type.Record(Type.String(), Type.String(), { default: {}, description: 'request headers' }),
    ),
    body: Type.Optional(
      Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown()), Type.Array(Type.Unknown())], {
        description:
          'a string is sent as is; a mapping or list is sent as JSON with content-type application/json',
      }),
    ),
    weight: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: 1,
        description: 'relative share of the scenario’s requests that are this one',
      }),
    ),
  },
  { additionalProperties: false },
)

const loadtestCriteria = Type.Object(
  {
    maxErrorRate: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description:
          'largest share of failed requests (transport errors and statuses outside `statuses`), 0.001 = 0.1%',
      }),
    ),
    maxP50Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'largest median latency' })),
    maxP95Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'largest p95 latency' })),
    maxP99Ms: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'largest p99 latency' })),
    minRps: Type.Optional(Type.Number({ minimum: 0, description: 'smallest mean throughput, requests/s' })),
    statuses: Type.Optional(
      Type.Array(Type.String({ pattern: statusPattern }), {
        default: ['2xx', '3xx'],
        description: 'statuses that count as success: classes (2xx) or exact codes (404)',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
)

const loadtestScenario = Type.Object(
  {
    description: Type.Optional(Type.String({ description: 'shown in the report' })),
    requests: Type.Optional(
      Type.Record(Type.String(), loadtestRequest, {
        description: 'the requests by name; each request is picked by weight (required, at least one)',
      }),
    ),
    connections: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 10_000, default: 10, description: 'concurrent connections' }),
    ),
    rate: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'requests per second over all connections; unset: as fast as the target answers',
      }),
    ),
    durationSeconds: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, default: 10, description: 'how long the measured run lasts' }),
    ),
    amount: Type.Optional(
      Type.Integer({ minimum: 1, description: 'total requests to send instead of a duration' }),
    ),
    warmupSeconds: Type.Optional(
      Type.Number({ minimum: 0, default: 0, description: 'unmeasured load sent before the run' }),
    ),
    timeoutSeconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        default: 10,
        description: 'a request without a response after this counts as a timeout error',
      }),
    ),
    seed: Type.Optional(
      Type.Integer({ minimum: 0, default: 1, description: 'seeds the weighted choice of requests' }),
    ),
    criteria: Type.Optional(loadtestCriteria),
  },
  { additionalProperties: false },
)

/** One request of a scenario as keel.yaml spells it (unset fields take their documented defaults). */
export type LoadtestRequestConfig = Static<typeof loadtestRequest>
/** The pass/fail criteria of a scenario as keel.yaml spells them. */
export type LoadtestCriteriaConfig = Static<typeof loadtestCriteria>
/** One scenario as keel.yaml spells it. */
export type LoadtestScenarioConfig = Static<typeof loadtestScenario>

const scenarioName = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/

/**
 * The `loadtest` section: scenarios `keel loadtest` runs and the criteria it judges them by. A
 * `--file` of scenarios has the same shape (a top-level `scenarios:` mapping). See docs/loadtest.md.
 *
 * @example
 * ```yaml
 * loadtest:
 *   scenarios:
 *     browse:
 *       connections: 10
 *       durationSeconds: 5
 *       requests:
 *         list: { path: /todos, weight: 3 }
 *         create: { method: POST, path: /todos, body: { title: load }, weight: 1 }
 *       criteria: { maxErrorRate: 0.001, maxP95Ms: 200 }
 * ```
 */
export const loadtestSection = defineConfigSection(
  'loadtest',
  {
    scenarios: Type.Record(Type.String(), loadtestScenario, {
      default: {},
      description: 'load test scenarios by name; see docs/loadtest.md',
    }),
  },
  { check: (loadtest) => scenarioProblems(loadtest.scenarios) },
)

/** What the schema cannot say: names, required requests and paths, duration against amount. */
export function scenarioProblems(scenarios: Record<string, LoadtestScenarioConfig>): SectionProblem[] {
  const problems: SectionProblem[] = []
  for (const [name, scenario] of Object.entries(scenarios)) {
    const key = `scenarios.${name}`
    if (!scenarioName.test(name))
      problems.push({ key, message: 'a scenario name is letters, digits, "_", "." and "-"' })
    const requests = Object.entries(scenario.requests ?? {})
    if (requests.length === 0)
      problems.push({
        key: scenario.requests ? `${key}.requests` : key,
        message: `${scenario.requests ? 'needs' : 'requests is required:'} at least one request with a path, e.g. { home: { path: / } }`,
      })
    for (const [requestName, request] of requests) {
      if (request.path === undefined)
        problems.push({ key: `${key}.requests.${requestName}`, message: 'path is required, e.g. /health' })
      if ((request.method ?? 'GET') === 'GET' && request.body !== undefined)
        problems.push({ key: `${key}.requests.${requestName}.body`, message: 'a GET request has no body' })
    }
    if (scenario.amount !== undefined && scenario.durationSeconds !== undefined)
      problems.push({ key: `${key}.amount`, message: 'set either amount or durationSeconds, not both' })
    const connections = scenario.connections ?? 10
    if (scenario.amount !== undefined && scenario.amount < connections)
      problems.push({
        key: `${key}.amount`,
        message: `must be at least connections (${connections}), got ${scenario.amount}`,
      })
  }
  return problems
}
