import { createHash } from 'node:crypto'
import type { Span } from '@opentelemetry/sdk-trace-base'
import { Type } from '@sinclair/typebox'
import type { App } from '../app/index.ts'
import type { FlowSchematic } from '../flow/index.ts'
import type { Guard } from '../http/guard.ts'
import { HttpError } from '../http/http-error.ts'
import type { RouteDefinition } from '../http/route.ts'
import { RouteBuilder, type RouteScope } from '../http/route-builder.ts'
import { routeTarget } from '../http/typed-route-ref.ts'
import { redactDeep } from '../log/index.ts'
import {
  ActionResultSchema,
  DeadLetterListSchema,
  FlowListSchema,
  IndexSchema,
  MetricsSchema,
  RelayResultSchema,
  RouteListSchema,
  SampleSchema,
  StallListSchema,
  TraceDetailSchema,
  TraceListSchema,
} from './api-schemas.ts'
import type { DeadLetterDesk } from './dead-letter-desk.ts'
import type { InFlight } from './in-flight.ts'
import { type InspectorRole, liveProtocol } from './inspector-access.ts'
import type { LiveFeed } from './live-feed.ts'
import { safeBody } from './payload-capture.ts'
import { type RelayTickets, relayHeader } from './relay-tickets.ts'
import { sampleOf } from './schema-sample.ts'
import { spanView } from './stored-span.ts'
import { summarize, type TraceStore } from './trace-store.ts'
import type { WindowSet } from './window-set.ts'

/** What the API reads: the app and the inspector's parts. */
export interface InspectorRuntime {
  readonly app: App
  readonly prefix: string
  readonly store: TraceStore
  readonly routes: WindowSet
  readonly steps: WindowSet
  readonly flows: WindowSet
  readonly inFlight: InFlight<Span>
  readonly live: LiveFeed
  readonly desk: DeadLetterDesk
  readonly guard: (needs: InspectorRole) => Guard
  readonly tokenRequired: boolean
  readonly captureEnabled: boolean
  readonly stallThresholdMs: number
  readonly bucketMs: number
  readonly buckets: number
  readonly now: () => number
  /** Tickets that get relayed requests their traces kept, and tell the relay their trace ids. */
  readonly relays: RelayTickets
}

/** Routes are added through this builder: typed as any Keel route, but internal (out of OpenAPI, untraced). */
export class InternalRoutes extends RouteBuilder {
  readonly definitions: RouteDefinition[] = []
  readonly #scope: RouteScope
  readonly #bodyLimitBytes: number

  constructor(scope: RouteScope, bodyLimitBytes: number) {
    super()
    this.#scope = scope
    this.#bodyLimitBytes = bodyLimitBytes
  }

  protected addRoute(definition: RouteDefinition): void {
    this.definitions.push({ ...definition, internal: true, meta: { ...definition.meta, inspector: true } })
  }

  protected get scope(): RouteScope {
    return this.#scope
  }

  protected get bodyLimitBytes(): number {
    return this.#bodyLimitBytes
  }
}

/** A route's stable id: the first 12 hex digits of sha256(`METHOD path`). */
export const routeIdOf = (method: string, path: string): string =>
  createHash('sha256').update(`${method} ${path}`).digest('hex').slice(0, 12)

const Limit = Type.Integer({ minimum: 1, maximum: 1000, default: 50 })
const Kind = Type.Union([Type.Literal('flow'), Type.Literal('job')])
const statusFilter = '^(error|ok|[1-5]xx|[1-5][0-9][0-9])$'

/** The app's own routes (not internal ones: probes, metrics, docs, the inspector). */
function appRoutes(app: App) {
  return app.describe().routes.filter((r) => !r.internal)
}

const schemaParts = (schema: Record<string, unknown> | undefined) => {
  if (!schema) return {}
  const { params, query, headers, body, response } = schema
  return JSON.parse(JSON.stringify({ params, query, headers, body, response })) as Record<string, unknown>
}

/**
 * The inspector API under `<prefix>/v1`: JSON, versioned in the path, problem+json errors.
 * Reads need the viewer role, actions (retry, discard, relay) the operator role.
 */
export function inspectorRoutes(rt: InspectorRuntime, bodyLimitBytes: number): RouteDefinition[] {
  const viewer = rt.guard('viewer')
  const operator = rt.guard('operator')
  const api = new InternalRoutes(
    { prefix: `${rt.prefix}/v1`, guards: [], tags: ['inspector'] },
    bodyLimitBytes,
  )

  api.get(
    '',
    { summary: 'What this inspector serves', guards: [viewer], response: { 200: IndexSchema } },
    (ctx) => {
      const { service, profile } = rt.app.describe()
      return {
        version: 1 as const,
        service,
        profile,
        role: ctx.principal?.roles[0] ?? 'operator',
        tokenRequired: rt.tokenRequired,
        capture: rt.captureEnabled,
        stallThresholdMs: rt.stallThresholdMs,
        live: { path: `${rt.prefix}/v1/live`, protocol: liveProtocol },
      }
    },
  )

  api.get(
    '/routes',
    {
      summary: 'The app routes with their schemas and live window stats',
      guards: [viewer],
      response: { 200: RouteListSchema },
    },
    () => {
      const now = rt.now()
      return {
        routes: appRoutes(rt.app).map((r) => {
          const schema = r.schema as Record<string, unknown> | undefined
          return {
            id: routeIdOf(r.method, r.path),
            method: r.method,
            path: r.path,
            ...(typeof schema?.summary === 'string' ? { summary: schema.summary } : {}),
            ...(Array.isArray(schema?.tags) ? { tags: schema.tags as string[] } : {}),
            websocket: r.meta?.websocket !== undefined,
            guards: r.guards.map((g) => g.name),
            schema: schemaParts(schema),
            window: rt.routes.get(r.method, r.path, now, { series: true }) ?? emptyWindow(rt, now),
          }
        }),
      }
    },
  )

  api.get(
    '/routes/:id/sample',
    {
      summary: 'A sample request for a route, generated from its schemas',
      guards: [viewer],
      params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{12}$' }) }),
      response: { 200: SampleSchema },
      problems: [404],
    },
    (ctx) => sampleFor(rt, ctx.params.id),
  )

  api.post(
    '/relay',
    {
      summary: 'Sends a request into one of the app routes (sample values fill what is not given)',
      guards: [operator],
      body: Type.Object({
        routeId: Type.String({ pattern: '^[0-9a-f]{12}$' }),
        params: Type.Optional(
          Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
        ),
        query: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        headers: Type.Optional(Type.Record(Type.String(), Type.String())),
        body: Type.Optional(Type.Unknown()),
      }),
      response: { 200: RelayResultSchema },
      problems: [400, 404],
    },
    async (ctx) => {
      const input = ctx.body
      const sample = sampleFor(rt, input.routeId)
      const params = { ...(sample.params as object), ...input.params }
      const query = input.query ?? (sample.query as Record<string, unknown>)
      const body = 'body' in input ? input.body : sample.body
      let url: string
      try {
        url = routeTarget(sample.path, { params, query })
      } catch (error) {
        throw new HttpError(400, 'KEEL_VALIDATION', (error as Error).message)
      }
      const ticket = rt.relays.issue()
      let traceId: string | undefined
      const headers: Record<string, string> = {
        ...(sample.headers as Record<string, string>),
        ...input.headers,
        [relayHeader]: ticket,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      }
      const started = performance.now()
      const res = await rt.app
        .inject({
          method: sample.method as 'GET',
          url,
          headers,
          ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
        })
        .finally(() => {
          traceId = rt.relays.redeem(ticket)
        })
      const durationMs = performance.now() - started
      const responseHeaders: Record<string, string> = {}
      for (const [name, value] of Object.entries(res.headers)) {
        if (value !== undefined)
          responseHeaders[name] = Array.isArray(value) ? value.join(', ') : String(value)
      }
      const requestId = responseHeaders['x-request-id']
      return {
        request: { method: sample.method, url, ...(body === undefined ? {} : { body: redactDeep(body) }) },
        response: {
          status: res.statusCode,
          headers: redactDeep(responseHeaders) as Record<string, string>,
          ...(res.payload === '' ? {} : { body: safeBody(res.payload, 64 * 1024).value }),
        },
        durationMs: Math.round(durationMs * 1000) / 1000,
        ...(requestId ? { requestId } : {}),
        ...(traceId ? { traceId } : {}),
      }
    },
  )

  api.get(
    '/flows',
    {
      summary: 'Flow graphs with per-step window stats',
      guards: [viewer],
      response: { 200: FlowListSchema },
    },
    () => {
      const now = rt.now()
      const steps = rt.steps.list(now)
      const out = []
      for (const module of rt.app.describe().modules) {
        const schematics = module.flows as FlowSchematic[] | undefined
        if (!Array.isArray(schematics)) continue
        for (const schematic of schematics) {
          out.push({
            module: module.name,
            name: schematic.name,
            schematic,
            runs: rt.flows.get(schematic.name, '', now, { series: true }) ?? emptyWindow(rt, now),
            steps: steps.filter((s) => s.labels.flow === schematic.name),
          })
        }
      }
      return { flows: out }
    },
  )

  api.get(
    '/traces',
    {
      summary: 'Recent traces, newest first',
      guards: [viewer],
      query: Type.Object({
        route: Type.Optional(Type.String({ description: 'route template of the root span: /users/:id' })),
        status: Type.Optional(
          Type.String({ pattern: statusFilter, description: 'error, ok, a class (5xx) or a code (404)' }),
        ),
        limit: Type.Optional(Limit),
      }),
      response: { 200: TraceListSchema },
    },
    (ctx) => ({
      traces: rt.store.list({
        ...(ctx.query.route !== undefined ? { route: ctx.query.route } : {}),
        ...(ctx.query.status !== undefined ? { status: ctx.query.status } : {}),
        limit: ctx.query.limit ?? 50,
      }),
      store: rt.store.stats(),
    }),
  )

  api.get(
    '/traces/:traceId',
    {
      summary: 'One trace with its spans, for a waterfall',
      guards: [viewer],
      params: Type.Object({ traceId: Type.String({ pattern: '^[0-9a-f]{32}$' }) }),
      response: { 200: TraceDetailSchema },
      problems: [404],
    },
    (ctx) => {
      const trace = rt.store.get(ctx.params.traceId)
      if (!trace) {
        throw new HttpError(
          404,
          'KEEL_NOT_FOUND',
          `no trace ${ctx.params.traceId} in the store (evicted, or never seen)`,
        )
      }
      const summary = summarize(trace)
      const spans = [...trace.spans]
        .sort((a, b) => a.startMs - b.startMs)
        .map((span) => spanView(span, summary.startMs))
      return { trace: summary, spans, ...(trace.capture ? { capture: trace.capture } : {}) }
    },
  )

  api.get(
    '/metrics',
    {
      summary: 'Sliding windows of every route, flow and step',
      guards: [viewer],
      query: Type.Object({
        series: Type.Optional(Type.Boolean({ description: 'include per-bucket points' })),
      }),
      response: { 200: MetricsSchema },
    },
    (ctx) => metricsOf(rt, { series: ctx.query.series ?? false }),
  )

  api.get(
    '/stalls',
    {
      summary: 'Requests and flow steps running longer than the threshold now',
      guards: [viewer],
      response: { 200: StallListSchema },
    },
    () => ({ thresholdMs: rt.stallThresholdMs, stalls: rt.inFlight.stalls(rt.now(), rt.stallThresholdMs) }),
  )

  api.get(
    '/dead-letters',
    {
      summary: 'Flow runs and jobs that exhausted their retries, newest first',
      guards: [viewer],
      query: Type.Object({ kind: Type.Optional(Kind), limit: Type.Optional(Limit) }),
      response: { 200: DeadLetterListSchema },
    },
    async (ctx) => ({
      sources: rt.desk.sources,
      deadLetters: await rt.desk.list({
        ...(ctx.query.kind ? { kind: ctx.query.kind } : {}),
        limit: ctx.query.limit ?? 50,
      }),
    }),
  )

  for (const action of ['retry', 'discard'] as const) {
    api.post(
      `/dead-letters/:kind/:id/${action}`,
      {
        summary: action === 'retry' ? 'Gives a dead letter another go' : 'Gives a dead letter up for good',
        guards: [operator],
        params: Type.Object({ kind: Kind, id: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 202: ActionResultSchema },
        problems: [404, 409],
      },
      async (ctx) => {
        const { kind, id } = ctx.params
        if (action === 'retry') await rt.desk.retry(kind, id)
        else await rt.desk.discard(kind, id)
        ctx.status = 202
        return { kind, id, action }
      },
    )
  }

  return api.definitions
}

/** The sample request of a route. @throws HttpError 404 for an id that names no app route. */
function sampleFor(rt: InspectorRuntime, id: string) {
  const route = appRoutes(rt.app).find((r) => routeIdOf(r.method, r.path) === id)
  if (!route)
    throw new HttpError(404, 'KEEL_NOT_FOUND', `no app route has id ${id} (see GET ${rt.prefix}/v1/routes)`)
  const schema = (route.schema ?? {}) as Record<string, unknown>
  const pathParams = Object.fromEntries(
    [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => [m[1]!, 'sample']),
  )
  const body = schema.body === undefined ? undefined : sampleOf(schema.body)
  return {
    id,
    method: route.method,
    path: route.path,
    params: { ...pathParams, ...(schema.params ? (sampleOf(schema.params) as object) : {}) },
    query: schema.query ? sampleOf(requiredOnly(schema.query)) : {},
    headers: schema.headers ? sampleOf(requiredOnly(schema.headers)) : {},
    ...(body === undefined ? {} : { body }),
  }
}

/** Query and headers samples keep only what is required: optional filters would narrow the answer. */
function requiredOnly(schema: unknown): unknown {
  const object = schema as { properties?: Record<string, unknown>; required?: string[] }
  if (!object.properties) return schema
  const required = new Set(object.required ?? [])
  return {
    ...object,
    properties: Object.fromEntries(Object.entries(object.properties).filter(([name]) => required.has(name))),
  }
}

/** Every window, for `/v1/metrics` and the live feed. */
export function metricsOf(rt: InspectorRuntime, options: { series: boolean }) {
  const now = rt.now()
  return {
    bucketMs: rt.bucketMs,
    buckets: rt.buckets,
    routes: rt.routes.list(now, options),
    steps: rt.steps.list(now, options),
    flows: rt.flows.list(now, options),
    store: rt.store.stats(),
    live: rt.live.stats(),
    running: rt.inFlight.size,
  }
}

const emptyWindow = (rt: InspectorRuntime, now: number) => {
  const windowMs = rt.bucketMs * rt.buckets
  const newest = Math.floor(now / rt.bucketMs)
  return {
    windowMs,
    count: 0,
    errors: 0,
    errorRate: 0,
    throughputPerSec: 0,
    meanMs: 0,
    p50Ms: 0,
    p95Ms: 0,
    p99Ms: 0,
    maxMs: 0,
    series: Array.from({ length: rt.buckets }, (_, i) => ({
      at: (newest - rt.buckets + 1 + i) * rt.bucketMs,
      count: 0,
      errors: 0,
      p95Ms: 0,
    })),
  }
}
