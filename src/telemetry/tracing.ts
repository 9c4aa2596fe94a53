import { randomFillSync } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import {
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  type TextMapGetter,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type {
  ReadableSpan,
  Sampler,
  SamplingDecision,
  SamplingResult,
  SpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { type RequestContext, setContextSource } from '../log/index.ts'

/** Where a traced request keeps Keel's request context (request id for the logs) in the OTel context. */
const requestContextKey = createContextKey('keel.request-context')
const requestContextOfActive = () =>
  context.active().getValue(requestContextKey) as RequestContext | undefined

/** Options of {@link createTracing}; the `tracing` config section plus the service identity. */
export interface TracingOptions {
  enabled: boolean
  /** OTLP/HTTP base URL; spans are posted to `<endpoint>/v1/traces`. */
  endpoint: string
  sampleRatio: number
  headers: Record<string, string>
  exportTimeoutMs: number
  serviceName: string
  serviceVersion: string
  /**
   * In-process span processors (the inspector's trace store). They get every span that is
   * recorded, sampled for export or not: a trace the ratio does not sample is still recorded for
   * them, but keeps its unsampled flag, so the exporter skips it and callees see the same
   * `traceparent` as before. With `enabled` false and processors given, spans are made for them
   * alone: nothing is exported and no propagator is registered (what leaves the process is unchanged).
   *
   * When every processor is a {@link RequestRecorder}, a request the exporter does not sample
   * gets a recorded span only if a recorder admits it ({@link RequestRecorder.admitRequest}); the
   * others get a non-recording span (same ids, same `traceparent`) and reach the recorders as an
   * {@link ObservedRequest} alone, which is far cheaper than a span.
   */
  processors?: readonly SpanProcessor[]
}

/** The app's tracer. With tracing off every method is a no-op and nothing is loaded. */
export interface Tracing {
  /** True when spans are made: tracing is enabled, or in-process processors want them. */
  readonly enabled: boolean
  /** True when spans are exported over OTLP (`tracing.enabled`). */
  readonly exporting: boolean
  /** The OpenTelemetry tracer, for capabilities that make their own spans. */
  readonly tracer: Tracer | undefined
  /**
   * Starts the SERVER span of a request, child of the caller's `traceparent` when present. The
   * span is named `<method> <route>` when it ends; `spanName` replaces the method in that name
   * (`WS /rooms/:room` for a WebSocket upgrade).
   */
  startServerSpan(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    spanName?: string,
  ): ServerSpan | undefined
  /** Exports every finished span, then stops the exporter. */
  shutdown(): Promise<void>
}

/** A request's span and the context to run its handler in. */
export interface ServerSpan {
  readonly span: Span
  readonly context: Context
  readonly traceId: string
  readonly spanId: string
  /**
   * Runs `fn` with this span active, so child spans and outgoing calls link to it; `request`
   * rides along in the same context, so `currentContext()` finds it without a second scope.
   */
  run<A extends unknown[], T>(fn: (...args: A) => T, request?: RequestContext, ...args: A): T
  end(status: number, route: string | undefined, error?: unknown): void
}

/**
 * A request (or WebSocket upgrade) as in-process recorders see it, whether or not its span is
 * recorded: what it is when it starts, and its outcome once {@link ServerSpan.end} ran.
 */
export interface ObservedRequest {
  readonly isObservedRequest: true
  readonly method: string
  readonly path: string
  /** The span name's first word: the method, or `WS` for an upgrade. */
  readonly spanName: string
  readonly traceId: string
  readonly spanId: string
  /** The caller's span id, when the request continues a remote trace. */
  readonly remoteParentSpanId: string | undefined
  readonly userAgent: string | undefined
  /** Epoch milliseconds (fractional) when the span started. */
  readonly startMs: number
  /** True when the SDK span is recorded, so its trace reaches the span processors. */
  readonly isRecorded: boolean
  /** Set by `end`: the route template, if one matched. */
  readonly route: string | undefined
  /** Set by `end`: the response status. */
  readonly status: number
  /** Set by `end`. */
  readonly durationMs: number
  /** Set by `end`: what the handler threw, if anything. */
  readonly error: unknown
}

/**
 * A span processor that also watches requests (the inspector's recorder). Given to
 * {@link createTracing} as a processor, it is told of every request the server traces, recorded
 * or not, and decides which requests the exporter would not sample still get a recorded span.
 */
export interface RequestRecorder {
  /** Called once by `createTracing`: from now on requests reach {@link requestStarted} and {@link requestEnded}. */
  observeRequests(): void
  /** Whether a request starting now, not sampled for export, gets a recorded span (its trace kept). */
  admitRequest(): boolean
  requestStarted(request: ObservedRequest): void
  requestEnded(request: ObservedRequest): void
}

const isRequestRecorder = (processor: SpanProcessor): processor is SpanProcessor & RequestRecorder =>
  typeof (processor as Partial<RequestRecorder>).admitRequest === 'function' &&
  typeof (processor as Partial<RequestRecorder>).requestEnded === 'function'

/**
 * Attribute of a flow span recorded inside a trace no recorder keeps (a request not admitted):
 * recorded for the per-step windows and stall tracking, never stored. Such spans are never
 * sampled for export, so the attribute never leaves the process.
 */
export const unkeptSpanAttribute = 'keel.inspector.unkept'

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
}

/** Tracing switched off: every method a no-op. */
export const disabledTracing: Tracing = {
  enabled: false,
  exporting: false,
  tracer: undefined,
  startServerSpan: () => undefined,
  shutdown: async () => {},
}

/**
 * Creates tracing from config. When enabled it loads the OpenTelemetry SDK (lazily, so apps
 * without tracing never load it), exports over OTLP/HTTP with batching, samples parent-based by
 * ratio, and registers the W3C trace-context propagator and an AsyncLocalStorage context manager
 * globally (shared with other traced apps in the process, see {@link acquireGlobals}), so user
 * code calling `trace.getActiveSpan()` sees the request span. With export off but `processors`
 * given (the inspector), spans are recorded for those processors only (see {@link TracingOptions.processors}).
 */
export async function createTracing(options: TracingOptions): Promise<Tracing> {
  const processors = options.processors ?? []
  if (!options.enabled && processors.length === 0) return disabledTracing
  const [sdk, { resourceFromAttributes }, semconv, hooks] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/context-async-hooks'),
  ])
  const exporting = options.enabled
  // At ratio 1 the ratio sampler would hash every trace id only to say yes.
  const exportSampler = new sdk.ParentBasedSampler({
    root:
      options.sampleRatio >= 1
        ? new sdk.AlwaysOnSampler()
        : new sdk.TraceIdRatioBasedSampler(options.sampleRatio),
  })
  // Head decisions only when every processor can take a request without its span.
  const recorders = processors.every(isRequestRecorder) ? processors : []
  for (const recorder of recorders) recorder.observeRequests()
  /** Set while `startServerSpan` makes the span of a request it already admitted. */
  let isAdmitted = false
  const spanProcessors: SpanProcessor[] = [...processors]
  if (exporting) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    const exporter = new OTLPTraceExporter({
      url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
      headers: options.headers,
      timeoutMillis: options.exportTimeoutMs,
    })
    spanProcessors.unshift(new sdk.BatchSpanProcessor(exporter))
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: options.serviceName,
      [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion,
    }),
    sampler:
      processors.length === 0
        ? exportSampler
        : inProcessSampler(exporting ? exportSampler : undefined, sdk.SamplingDecision, recorders, () =>
            isAdmitted ? true : admitted(recorders),
          ),
    spanProcessors,
  })
  acquireGlobals('context', () => {
    context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(provider)
    setContextSource(requestContextOfActive)
  })
  if (exporting) {
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
    acquireGlobals('propagation', () => propagation.setGlobalPropagator(new W3CTraceContextPropagator()))
  }
  const tracer = provider.getTracer('keel', options.serviceVersion)
  let isShutDown = false

  return {
    enabled: true,
    exporting,
    tracer,
    startServerSpan(method, path, headers, spanName = method) {
      const parent = propagation.extract(ROOT_CONTEXT, headers, headerGetter)
      const userAgent = headers['user-agent']
      let span: Span
      if (recorders.length > 0 && !exporting && trace.getSpanContext(parent) === undefined) {
        // Export off and no caller: the head decision is the recorders' alone, taken here so a
        // request they do not want costs two ids rather than the SDK's span machinery.
        if (admitted(recorders)) {
          isAdmitted = true
          try {
            span = tracer.startSpan(spanName, serverSpanOptions(method, path, userAgent), parent)
          } finally {
            isAdmitted = false
          }
        } else {
          const { traceId, spanId } = requestIds()
          span = trace.wrapSpanContext({ traceId, spanId, traceFlags: TraceFlags.NONE })
        }
      } else {
        span = tracer.startSpan(spanName, serverSpanOptions(method, path, userAgent), parent)
      }
      const request = new RequestSpan(span, parent, method, path, spanName, userAgent, recorders)
      for (const recorder of recorders) recorder.requestStarted(request)
      return request
    },
    async shutdown() {
      if (isShutDown) return
      isShutDown = true
      try {
        await provider.shutdown()
      } finally {
        if (exporting) releaseGlobals('propagation')
        releaseGlobals('context')
      }
    },
  }
}

const admitted = (recorders: readonly RequestRecorder[]) => {
  for (const recorder of recorders) if (recorder.admitRequest()) return true
  return false
}

const serverSpanOptions = (method: string, path: string, userAgent: string | undefined): SpanOptions => ({
  kind: SpanKind.SERVER,
  attributes: { 'http.request.method': method, 'url.path': path, 'user_agent.original': userAgent },
})

/**
 * A W3C trace id and span id for a request whose span is not recorded: hex of 24 random bytes
 * drawn from a pool refilled a few KiB at a time, one hex conversion for both (the SDK's
 * generator fills and hex-encodes a buffer per id). An all-zero id is invalid in W3C trace
 * context, so one (odds 2^-64) is drawn again.
 */
const requestIds = (() => {
  const pool = Buffer.allocUnsafe(24 * 256)
  let offset = pool.length
  const zeros = /^0+$/
  return function draw(): { traceId: string; spanId: string } {
    if (offset === pool.length) {
      randomFillSync(pool)
      offset = 0
    }
    const hex = pool.toString('hex', offset, offset + 24)
    offset += 24
    const traceId = hex.slice(0, 32)
    const spanId = hex.slice(32)
    return zeros.test(traceId) || zeros.test(spanId) ? draw() : { traceId, spanId }
  }
})()

/** The key `trace.setSpan` stores a span under (the API makes it with `Symbol.for`). */
const spanKey = Symbol.for('OpenTelemetry Context Key SPAN')
const canHoldSpanInline = (() => {
  const probe = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '1'.repeat(16), traceFlags: 0 })
  return trace.getSpan(ROOT_CONTEXT.setValue(spanKey, probe)) === probe
})()

/**
 * The context a request runs in: its parent's values, plus its span and Keel's request context,
 * held in two fields rather than copied into a new map twice per request as `trace.setSpan` and
 * `setValue` would. Setting or deleting a value (rare, by user code) makes an ordinary context.
 */
class RequestRunContext implements Context {
  readonly #parent: Context
  readonly #span: Span
  readonly #request: RequestContext | undefined

  constructor(parent: Context, span: Span, request: RequestContext | undefined) {
    this.#parent = parent
    this.#span = span
    this.#request = request
  }

  getValue(key: symbol): unknown {
    if (key === spanKey) return this.#span
    if (key === requestContextKey && this.#request !== undefined) return this.#request
    return this.#parent.getValue(key)
  }

  setValue(key: symbol, value: unknown): Context {
    return this.#ordinary().setValue(key, value)
  }

  deleteValue(key: symbol): Context {
    return this.#ordinary().deleteValue(key)
  }

  #ordinary(): Context {
    const withSpan = trace.setSpan(this.#parent, this.#span)
    return this.#request === undefined ? withSpan : withSpan.setValue(requestContextKey, this.#request)
  }
}

const runContext = (parent: Context, span: Span, request?: RequestContext): Context => {
  if (canHoldSpanInline) return new RequestRunContext(parent, span, request)
  const withSpan = trace.setSpan(parent, span)
  return request ? withSpan.setValue(requestContextKey, request) : withSpan
}

/**
 * A request's span, and the request as {@link RequestRecorder}s see it. One object per request
 * with its methods on the prototype: no closures made per request.
 */
class RequestSpan implements ServerSpan, ObservedRequest {
  readonly isObservedRequest = true
  readonly context: Context
  readonly traceId: string
  readonly spanId: string
  readonly isRecorded: boolean
  readonly startMs: number
  route: string | undefined = undefined
  status = 0
  durationMs = 0
  error: unknown = undefined
  readonly userAgent: string | undefined
  readonly #startedAt: number
  readonly #parent: Context
  readonly #recorders: readonly RequestRecorder[]

  constructor(
    readonly span: Span,
    parent: Context,
    readonly method: string,
    readonly path: string,
    readonly spanName: string,
    userAgent: string | undefined,
    recorders: readonly RequestRecorder[],
  ) {
    const spanContext = span.spanContext()
    this.traceId = spanContext.traceId
    this.spanId = spanContext.spanId
    this.context = runContext(parent, span)
    this.isRecorded = span.isRecording()
    this.#parent = parent
    this.#recorders = recorders
    this.userAgent = userAgent
    // The clock is read only for recorders: plain export pays nothing here.
    this.#startedAt = recorders.length > 0 ? performance.now() : 0
    this.startMs = recorders.length > 0 ? performance.timeOrigin + this.#startedAt : 0
  }

  get remoteParentSpanId(): string | undefined {
    const parent = trace.getSpanContext(this.#parent)
    return parent?.isRemote ? parent.spanId : undefined
  }

  run<A extends unknown[], T>(fn: (...args: A) => T, request?: RequestContext, ...args: A): T {
    const active = request ? runContext(this.#parent, this.span, request) : this.context
    return context.with(active, fn, undefined, ...args)
  }

  end(status: number, route: string | undefined, error?: unknown): void {
    const span = this.span
    if (this.isRecorded) {
      if (route) {
        span.updateName(`${this.spanName} ${route}`)
        span.setAttribute('http.route', route)
      }
      span.setAttribute('http.response.status_code', status)
      if (status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR })
        if (error instanceof Error) span.recordException(error)
      }
    }
    span.end()
    if (this.#recorders.length === 0) return
    this.route = route
    this.status = status
    this.error = error
    this.durationMs = performance.now() - this.#startedAt
    for (const recorder of this.#recorders) recorder.requestEnded(this)
  }
}

/**
 * The sampler when in-process processors are present. What the exporter samples is recorded
 * and sampled, unchanged. Anything else is recorded unsampled (flag 0), so processors see it
 * while the exporter, which skips unsampled spans, and callees, which get the same
 * `traceparent` flags, see no change, except where every processor is a
 * {@link RequestRecorder} (`recorders` not empty): then an unsampled request (a SERVER span
 * without a local parent) is recorded only if a recorder admits it, and below a request that
 * is not recorded only flow spans are (marked {@link unkeptSpanAttribute}, for the per-step
 * windows); other roots (flow runs, jobs) are recorded as before.
 */
function inProcessSampler(
  exportSampler: Sampler | undefined,
  decisions: typeof SamplingDecision,
  recorders: readonly RequestRecorder[],
  admitted: () => boolean,
): Sampler {
  const record: SamplingResult = { decision: decisions.RECORD }
  const skip: SamplingResult = { decision: decisions.NOT_RECORD }
  const unkept: SamplingResult = { decision: decisions.RECORD, attributes: { [unkeptSpanAttribute]: true } }
  return {
    shouldSample(context, traceId, spanName, spanKind, attributes, links) {
      const exported = exportSampler?.shouldSample(context, traceId, spanName, spanKind, attributes, links)
      if (exported?.decision === decisions.RECORD_AND_SAMPLED) return exported
      const recorded = exported ? { ...exported, decision: decisions.RECORD } : record
      if (recorders.length === 0) return recorded
      const parent = trace.getSpan(context)
      if (parent && !parent.spanContext().isRemote) {
        const isKept =
          parent.isRecording() && (parent as Partial<ReadableSpan>).attributes?.[unkeptSpanAttribute] !== true
        if (isKept) return recorded
        return typeof attributes['keel.flow'] === 'string' ? unkept : skip
      }
      if (spanKind !== SpanKind.SERVER) return recorded
      return admitted() ? recorded : skip
    },
    toString: () =>
      `InProcess{${exportSampler ?? 'no export'}${recorders.length > 0 ? ', admitted requests' : ''}}`,
  }
}

/**
 * The OpenTelemetry context manager, propagator and tracer provider are process globals, shared
 * by every traced app in the process (tests, or several apps in one server). The first app to
 * start registers them; they are removed only when the last one shuts down, so stopping one app
 * does not break context propagation in the others. The global tracer provider stays the first
 * app's: with several traced apps, use `app.tracing.tracer` rather than `trace.getTracer()`.
 * The propagator is counted apart: apps that only record spans in-process (the inspector with
 * export off) do not register it, so they send no `traceparent` they did not send before.
 * The counts live on globalThis so two copies of the package share them, as the OTel globals do.
 */
const globalsKey = Symbol.for('keel.telemetry.tracingGlobals')
type GlobalsKind = 'context' | 'propagation'
type GlobalsHolder = { [globalsKey]?: Partial<Record<GlobalsKind, number>> }

function acquireGlobals(kind: GlobalsKind, register: () => void): void {
  const holder = globalThis as GlobalsHolder
  holder[globalsKey] ??= {}
  const users = holder[globalsKey]
  const before = users[kind] ?? 0
  users[kind] = before + 1
  if (before === 0) register()
}

function releaseGlobals(kind: GlobalsKind): void {
  const users = (globalThis as GlobalsHolder)[globalsKey]
  const count = users?.[kind] ?? 0
  if (!users || count === 0) return
  users[kind] = count - 1
  if (count > 1) return
  if (kind === 'propagation') {
    propagation.disable()
    return
  }
  trace.disable()
  context.disable()
  setContextSource(undefined)
}
