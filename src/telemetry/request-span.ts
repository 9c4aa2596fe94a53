import {
  type Context,
  context,
  createContextKey,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { RequestContext } from '../log/index.ts'
import type { ServerSpan } from './tracing.ts'

/** Where a traced request keeps Keel's request context (request id for the logs) in the OTel context. */
const requestContextKey = createContextKey('keel.request-context')

/** Keel's request context of the active OTel context: the log context's source while tracing runs. */
export const requestContextOfActive = () =>
  context.active().getValue(requestContextKey) as RequestContext | undefined

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

export const isRequestRecorder = (processor: SpanProcessor): processor is SpanProcessor & RequestRecorder =>
  typeof (processor as Partial<RequestRecorder>).admitRequest === 'function' &&
  typeof (processor as Partial<RequestRecorder>).requestEnded === 'function'

export const admitted = (recorders: readonly RequestRecorder[]) => {
  for (const recorder of recorders) if (recorder.admitRequest()) return true
  return false
}

export const serverSpanOptions = (
  method: string,
  path: string,
  userAgent: string | undefined,
): SpanOptions => ({
  kind: SpanKind.SERVER,
  attributes: { 'http.request.method': method, 'url.path': path, 'user_agent.original': userAgent },
})

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
export class RequestSpan implements ServerSpan, ObservedRequest {
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
