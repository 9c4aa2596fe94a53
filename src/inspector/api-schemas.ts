import { Type } from '@sinclair/typebox'

/** Response schemas of the inspector API (v1). Free-form parts (JSON Schemas, attributes, graphs) are `unknown`. */

export const WindowPointSchema = Type.Object({
  at: Type.Number({ description: 'bucket start, epoch ms' }),
  count: Type.Integer(),
  errors: Type.Integer(),
  p95Ms: Type.Number(),
})

export const WindowStatsSchema = Type.Object(
  {
    windowMs: Type.Integer(),
    count: Type.Integer(),
    errors: Type.Integer(),
    errorRate: Type.Number(),
    throughputPerSec: Type.Number(),
    meanMs: Type.Number(),
    p50Ms: Type.Number(),
    p95Ms: Type.Number(),
    p99Ms: Type.Number(),
    maxMs: Type.Number(),
    series: Type.Optional(Type.Array(WindowPointSchema)),
  },
  { $id: 'InspectorWindow' },
)

export const SeriesSchema = Type.Object({
  key: Type.String(),
  labels: Type.Record(Type.String(), Type.String()),
  window: WindowStatsSchema,
})

export const TraceSummarySchema = Type.Object(
  {
    traceId: Type.String(),
    name: Type.String(),
    route: Type.Optional(Type.String()),
    method: Type.Optional(Type.String()),
    statusCode: Type.Optional(Type.Integer()),
    startMs: Type.Number(),
    durationMs: Type.Number(),
    spanCount: Type.Integer(),
    droppedSpans: Type.Integer(),
    isError: Type.Boolean(),
    hasCapture: Type.Boolean(),
  },
  { $id: 'InspectorTraceSummary' },
)

export const SpanSchema = Type.Object({
  spanId: Type.String(),
  parentSpanId: Type.Optional(Type.String()),
  parentIsRemote: Type.Optional(Type.Boolean()),
  name: Type.String(),
  kind: Type.String(),
  startMs: Type.Number(),
  offsetMs: Type.Number({ description: 'start, from the trace start' }),
  durationMs: Type.Number(),
  status: Type.String(),
  statusMessage: Type.Optional(Type.String()),
  attributes: Type.Unknown({ description: 'attributes, secrets redacted' }),
  events: Type.Optional(Type.Unknown()),
})

export const TraceDetailSchema = Type.Object({
  trace: TraceSummarySchema,
  spans: Type.Array(SpanSchema),
  capture: Type.Optional(Type.Unknown({ description: 'captured request and response, redacted' })),
})

export const StoreStatsSchema = Type.Object({
  traces: Type.Integer(),
  spans: Type.Integer(),
  bytes: Type.Integer(),
  evictedTraces: Type.Integer(),
  droppedSpans: Type.Integer(),
  skippedTraces: Type.Integer(),
})

export const TraceListSchema = Type.Object({
  traces: Type.Array(TraceSummarySchema),
  store: StoreStatsSchema,
})

export const RouteEntrySchema = Type.Object({
  id: Type.String({ description: 'stable id: the relay and sample paths take it' }),
  method: Type.String(),
  path: Type.String(),
  summary: Type.Optional(Type.String()),
  tags: Type.Optional(Type.Array(Type.String())),
  websocket: Type.Boolean(),
  guards: Type.Array(Type.String()),
  schema: Type.Unknown({ description: 'params, query, headers, body and response JSON Schemas' }),
  window: WindowStatsSchema,
})

export const RouteListSchema = Type.Object({ routes: Type.Array(RouteEntrySchema) })

export const SampleSchema = Type.Object({
  id: Type.String(),
  method: Type.String(),
  path: Type.String(),
  params: Type.Unknown(),
  query: Type.Unknown(),
  headers: Type.Unknown(),
  body: Type.Optional(Type.Unknown()),
})

export const FlowListSchema = Type.Object({
  flows: Type.Array(
    Type.Object({
      module: Type.String(),
      name: Type.String(),
      schematic: Type.Unknown({ description: 'the flow graph (FlowSchematic): nodes and edges' }),
      runs: WindowStatsSchema,
      steps: Type.Array(SeriesSchema),
    }),
  ),
})

export const MetricsSchema = Type.Object({
  bucketMs: Type.Integer(),
  buckets: Type.Integer(),
  routes: Type.Array(SeriesSchema),
  steps: Type.Array(SeriesSchema),
  flows: Type.Array(SeriesSchema),
  store: StoreStatsSchema,
  live: Type.Object({ clients: Type.Integer(), sent: Type.Integer(), dropped: Type.Integer() }),
  running: Type.Integer({ description: 'requests and steps running now' }),
})

export const StallListSchema = Type.Object({
  thresholdMs: Type.Integer(),
  stalls: Type.Array(
    Type.Object({
      kind: Type.String(),
      traceId: Type.String(),
      spanId: Type.String(),
      name: Type.String(),
      startMs: Type.Number(),
      runningMs: Type.Integer(),
      details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
    }),
  ),
})

export const DeadLetterListSchema = Type.Object({
  sources: Type.Object({ flows: Type.Array(Type.String()), jobs: Type.Array(Type.String()) }),
  deadLetters: Type.Array(
    Type.Object({
      kind: Type.String(),
      id: Type.String(),
      name: Type.String(),
      failedAt: Type.String({ format: 'date-time' }),
      createdAt: Type.String({ format: 'date-time' }),
      attempts: Type.Optional(Type.Integer()),
      error: Type.Object({
        message: Type.String(),
        code: Type.Optional(Type.String()),
        step: Type.Optional(Type.String()),
        phase: Type.Optional(Type.String()),
      }),
      data: Type.Optional(Type.Unknown()),
    }),
  ),
})

export const ActionResultSchema = Type.Object({
  kind: Type.String(),
  id: Type.String(),
  action: Type.String(),
})

export const RelayResultSchema = Type.Object({
  request: Type.Object({ method: Type.String(), url: Type.String(), body: Type.Optional(Type.Unknown()) }),
  response: Type.Object({
    status: Type.Integer(),
    headers: Type.Record(Type.String(), Type.String()),
    body: Type.Optional(Type.Unknown()),
  }),
  durationMs: Type.Number(),
  requestId: Type.Optional(Type.String()),
  /** The relayed request's trace, kept whatever the per-second budget (absent when tracing did not see it). */
  traceId: Type.Optional(Type.String()),
})

export const IndexSchema = Type.Object({
  version: Type.Literal(1),
  service: Type.Object({ name: Type.String(), version: Type.String() }),
  profile: Type.String(),
  role: Type.String(),
  tokenRequired: Type.Boolean(),
  capture: Type.Boolean(),
  stallThresholdMs: Type.Integer(),
  live: Type.Object({ path: Type.String(), protocol: Type.String() }),
})
