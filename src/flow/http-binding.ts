import { type TSchema, Type } from '@sinclair/typebox'
import { isKeelError, KeelError } from '../errors/index.ts'
import type { Guard } from '../http/guard.ts'
import { HttpError } from '../http/http-error.ts'
import type { RequestContext } from '../http/route.ts'
import type { RouteBuilder } from '../http/route-builder.ts'
import type { Bus } from './bus.ts'
import type { FlowRunner } from './durable/runner.ts'
import type { RunInfo, RunStatus } from './durable/store.ts'
import type { Flow } from './flow.ts'
import { drainSignalOf, type FlowsModule } from './flows-module.ts'
import type { TimelineEvent } from './journal.ts'

/** Options of {@link serveFlow}. */
export interface ServeFlowOptions {
  /** Where runs start (`POST <path>`); their status is at `GET <path>/runs/:runId`. */
  readonly path: string
  /**
   * `async` (default): answer 202 at once with where to poll. `sync`: wait up to `timeoutMs` for
   * the run to end and answer with its outcome (202 as in async when it is still going).
   */
  readonly mode?: 'sync' | 'async'
  /** How long a `sync` request waits for the run. Default 10 000 ms. */
  readonly timeoutMs?: number
  /** Guards on the three routes, after the app's and the group's. */
  readonly guards?: readonly Guard[]
  /** JSON Schema of the flow's output: the body of a `sync` 200 and `output` in the status. */
  readonly response?: TSchema
  /** OpenAPI summary of the POST route. Default: the flow's description. */
  readonly summary?: string
  /** Run-scoped bus values from the request (tenant, principal); keys with `persist: true` survive a resume. */
  readonly bus?: (ctx: RequestContext) => Bus | Promise<Bus>
}

const runStatuses: readonly RunStatus[] = [
  'pending',
  'running',
  'sleeping',
  'compensating',
  'completed',
  'compensated',
  'discarded',
  'dead',
]

const RunStatusSchema = Type.Union(
  runStatuses.map((s) => Type.Literal(s)),
  { description: 'pending, running, sleeping, compensating; final: completed, compensated, discarded, dead' },
)

/** The body of a 202: the run exists and is going on (or already ended: see `status`). */
export const FlowRunAccepted = Type.Object(
  {
    runId: Type.String(),
    status: RunStatusSchema,
    statusUrl: Type.String({ description: 'GET it for the run status (also in Location)' }),
  },
  { $id: 'FlowRunAccepted', description: 'The run was accepted; its status is at statusUrl (and Location).' },
)

const FaultSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
})

/** The public status of a run: never its input or context. */
const runStatusSchema = (output: TSchema) =>
  Type.Object(
    {
      runId: Type.String(),
      flow: Type.String(),
      status: RunStatusSchema,
      createdAt: Type.String({ format: 'date-time' }),
      updatedAt: Type.String({ format: 'date-time' }),
      finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
      wakeAt: Type.Optional(Type.String({ format: 'date-time', description: 'when a sleeping run wakes' })),
      output: Type.Optional(output),
      fault: Type.Optional(FaultSchema),
      error: Type.Optional(
        Type.Object(
          {
            step: Type.String(),
            phase: Type.Union([Type.Literal('forward'), Type.Literal('compensation')]),
          },
          { description: 'where a dead run gave up (why is for operators: the log and the dead letters)' },
        ),
      ),
    },
    { description: 'The run: output when completed, fault when compensated, error when dead.' },
  )

const TimelineSchema = Type.Object({
  runId: Type.String(),
  events: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      at: Type.Integer({ description: 'epoch ms' }),
      type: Type.String(),
      step: Type.Optional(Type.String()),
      attempt: Type.Optional(Type.Integer()),
      durationMs: Type.Optional(Type.Number()),
      error: Type.Optional(
        Type.Object({ name: Type.String(), message: Type.String(), code: Type.Optional(Type.String()) }),
      ),
      data: Type.Optional(Type.Unknown()),
    }),
  ),
})

const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'Starts at most one run per key: a repeated request gets the same run.',
    }),
  ),
})

const RunParams = Type.Object({ runId: Type.String({ minLength: 1, maxLength: 512 }) })

/**
 * Serves a flow over HTTP on the app (or a group), through typed routes, so the flow's input
 * schema validates the body (400 problem with JSON pointers) and OpenAPI lists the routes:
 *
 * - `POST <path>` starts a run. An `Idempotency-Key` header names the run (`<flow>:<key>`): the
 *   same key gets the same run and never starts a second (another body with it: 422). `async`
 *   answers 202 with `Location`; `sync` waits and answers 200 with the output, 422
 *   `KEEL_FLOW_FAULT` with the fault, 500 `KEEL_FLOW_DEAD` with the run id, or 202 when the run
 *   is still going at `timeoutMs` (or the app starts draining).
 * - `GET <path>/runs/:runId`: the run's status (404 for runs of other flows).
 * - `GET <path>/runs/:runId/timeline`: what happened in the run, in order.
 *
 * Call it before the app starts; the runner is looked up per request.
 *
 * @example
 * ```ts
 * const orders = flows({ database: data, flows: [orderFlow] })
 * const app = createApp({ modules: [data, orders] })
 * serveFlow(app, orders, orderFlow, { path: '/orders', mode: 'sync', response: OrderResult, guards: [auth] })
 * // POST /orders {…} → 200 {…output} | 202 { runId, status, statusUrl } | 422 problem (fault)
 * ```
 */
export function serveFlow<I, O>(
  routes: RouteBuilder,
  module: FlowsModule,
  flow: Flow<I, O>,
  options: ServeFlowOptions,
): void {
  const path = options.path
  if (!path.startsWith('/') || (path.length > 1 && path.endsWith('/'))) {
    throw new KeelError(
      'KEEL_ROUTE_INVALID',
      `serveFlow ${flow.name}: path "${path}" must start with "/" and not end with one`,
    )
  }
  if (!module.flows.some((f) => f.name === flow.name)) {
    throw new KeelError(
      'KEEL_FLOW_UNKNOWN',
      `serveFlow: module "${module.name}" does not run flow "${flow.name}"; add it to flows({ flows })`,
    )
  }
  const mode = options.mode ?? 'async'
  const timeoutMs = options.timeoutMs ?? 10_000
  if (!(timeoutMs > 0)) {
    throw new KeelError(
      'KEEL_ROUTE_INVALID',
      `serveFlow ${flow.name}: timeoutMs must be > 0 (got ${timeoutMs})`,
    )
  }
  const output = options.response ?? Type.Unknown({ description: `the output of flow "${flow.name}"` })
  const guards = options.guards ?? []
  const base = path === '/' ? '' : path

  const start = async (ctx: RequestContext) => {
    const runner = module.runner
    const key = ctx.headers['idempotency-key'] as string | undefined
    const bus = options.bus ? await options.bus(ctx) : undefined
    const { runId, created } = await runner.submit(flow as Flow<unknown, unknown>, ctx.body, {
      ...(key === undefined ? {} : { runId: `${flow.name}:${key}` }),
      ...(bus ? { bus } : {}),
    })
    if (!created) await assertSameInput(runner, runId, ctx.body, key!)
    const statusUrl = `${trimSlash(ctx.path)}/runs/${encodeURIComponent(runId)}`
    if (mode === 'async') return accepted(ctx, runner, runId, statusUrl)
    const run = await settle(runner, runId, timeoutMs, [ctx.signal, drainSignalOf(module)])
    if (!run) return accepted(ctx, runner, runId, statusUrl)
    return outcome(ctx, run)
  }

  routes.post(
    base || '/',
    {
      body: flow.input ?? Type.Unknown(),
      headers: IdempotencyHeaders,
      response: mode === 'sync' ? { 200: output, 202: FlowRunAccepted } : { 202: FlowRunAccepted },
      // A run that ends with a typed fault answers 422 (sync only); a dead run is the 500 every route has.
      problems: mode === 'sync' ? [422] : [],
      summary: options.summary ?? flow.description ?? `Start a ${flow.name} run`,
      description:
        mode === 'sync'
          ? `Runs flow "${flow.name}" and waits up to ${timeoutMs} ms: 200 with its output, 422 KEEL_FLOW_FAULT with its fault, 500 KEEL_FLOW_DEAD, or 202 while it goes on.`
          : `Starts a run of flow "${flow.name}": 202 with the status URL in Location.`,
      guards,
    },
    start as never,
  )

  routes.get(
    `${base}/runs/:runId`,
    {
      params: RunParams,
      response: { 200: runStatusSchema(output) },
      summary: `The status of a ${flow.name} run`,
      guards,
    },
    (async (ctx: RequestContext & { params: { runId: string } }) => {
      return publicStatus(await runOf(module.runner, flow.name, ctx.params.runId))
    }) as never,
  )

  routes.get(
    `${base}/runs/:runId/timeline`,
    {
      params: RunParams,
      response: { 200: TimelineSchema },
      summary: `What happened in a ${flow.name} run`,
      guards,
    },
    (async (ctx: RequestContext & { params: { runId: string } }) => {
      const run = await runOf(module.runner, flow.name, ctx.params.runId)
      return { runId: run.id, events: (await module.runner.timeline(run.id)).map(withoutWorker) }
    }) as never,
  )
}

/** The run if it exists and belongs to this flow (other flows' runs are not found here). */
async function runOf(runner: FlowRunner, flow: string, runId: string): Promise<RunInfo> {
  const run = await runner.get(runId)
  if (!run || run.flow !== flow) {
    throw new HttpError(404, 'KEEL_FLOW_RUN_NOT_FOUND', `no ${flow} run has id "${runId}"`)
  }
  return run
}

/** A replayed Idempotency-Key must come with the body it was first used with. */
async function assertSameInput(runner: FlowRunner, runId: string, body: unknown, key: string): Promise<void> {
  const run = await runner.get(runId)
  if (run && canonical(run.input) !== canonical(body)) {
    throw new HttpError(
      422,
      'KEEL_UNPROCESSABLE',
      `the Idempotency-Key "${key}" was already used with another request body`,
      { runId },
    )
  }
}

async function accepted(
  ctx: RequestContext,
  runner: FlowRunner,
  runId: string,
  statusUrl: string,
): Promise<unknown> {
  const run = await runner.get(runId)
  ctx.status = 202
  ctx.header('location', statusUrl)
  return { runId, status: run?.status ?? 'pending', statusUrl }
}

/**
 * Waits for the run to end; undefined when it is still going at the deadline, or when waiting
 * stopped making sense (the client left, the app is draining).
 */
async function settle(
  runner: FlowRunner,
  runId: string,
  timeoutMs: number,
  signals: ReadonlyArray<AbortSignal | undefined>,
): Promise<RunInfo | undefined> {
  const live = signals.filter((s): s is AbortSignal => s !== undefined)
  if (live.some((s) => s.aborted)) return undefined
  // One signal for the runner, so it stops polling as soon as the client or the app goes away.
  const stop = new AbortController()
  const onAbort = () => stop.abort()
  for (const s of live) s.addEventListener('abort', onAbort, { once: true })
  try {
    return await runner.wait(runId, { timeoutMs, signal: stop.signal })
  } catch (error) {
    if (stop.signal.aborted || (isKeelError(error) && error.code === 'KEEL_TIMEOUT')) return undefined
    throw error
  } finally {
    for (const s of live) s.removeEventListener('abort', onAbort)
  }
}

/** The response of a sync run that ended. */
function outcome(ctx: RequestContext, run: RunInfo): unknown {
  switch (run.status) {
    case 'completed': {
      ctx.status = 200
      const value = run.output ?? null
      if (typeof value === 'object' && value !== null) return value
      // Scalars would go out as text; send them as the JSON they are.
      ctx.header('content-type', 'application/json; charset=utf-8')
      return JSON.stringify(value)
    }
    case 'compensated':
    case 'discarded': {
      const fault = run.fault ?? { code: run.status, message: `the run was ${run.status}` }
      throw new HttpError(422, 'KEEL_FLOW_FAULT', fault.message, {
        runId: run.id,
        fault: fault.details === undefined ? { code: fault.code, message: fault.message } : fault,
      })
    }
    case 'dead':
      // Nothing about the failure itself: that is for operators (logs, the timeline, dead letters).
      throw new HttpError(
        500,
        'KEEL_FLOW_DEAD',
        `the ${run.flow} run failed and was set aside for an operator`,
        { runId: run.id },
      )
    default:
      throw new KeelError('KEEL_INTERNAL', `run ${run.id} is ${run.status}, not final`)
  }
}

/** What a client may see of a run. */
function publicStatus(run: RunInfo): Record<string, unknown> {
  const status: Record<string, unknown> = {
    runId: run.id,
    flow: run.flow,
    status: run.status,
    createdAt: run.createdAt.toISOString(),
    updatedAt: run.updatedAt.toISOString(),
  }
  if (run.finishedAt) status.finishedAt = run.finishedAt.toISOString()
  if (run.wakeAt && run.status === 'sleeping') status.wakeAt = run.wakeAt.toISOString()
  if (run.status === 'completed') status.output = run.output ?? null
  if ((run.status === 'compensated' || run.status === 'discarded') && run.fault) status.fault = run.fault
  if (run.status === 'dead' && run.error) {
    // Where it stopped, not why: the error message is for operators (logs, timeline, dead letters).
    status.error = { step: run.error.step, phase: run.error.phase }
  }
  return status
}

/** The request path as a base for `/runs/…`: `/orders/` and `/` lose their trailing slash. */
const trimSlash = (path: string) => (path.endsWith('/') ? path.slice(0, -1) : path)

/** JSON with sorted keys: stored jsonb does not keep key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, node: unknown) => {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return node
    return Object.fromEntries(Object.entries(node).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  })
}

/** Timeline events for clients: which host and process ran the run is the operator's business. */
function withoutWorker(event: TimelineEvent): TimelineEvent {
  const data = event.data as Record<string, unknown> | undefined
  if (!data || typeof data !== 'object' || !('worker' in data)) return event
  const { worker: _worker, ...rest } = data
  return { ...event, data: rest }
}
