import type { IncomingHttpHeaders } from 'node:http'
import {
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { RequestContext, SpanIds } from '../log/index.ts'
import { localSpanId, localTraceIdOf } from './trace-context.ts'
import type { ServerSpan } from './tracing.ts'

/** Where a traced request keeps Keel's request context (request id for the logs) in the OTel context. */
const requestContextKey = createContextKey('keel.request-context')

/** Keel's request context of the active OTel context: the log context's source while tracing runs. */
export const requestContextOfActive = () =>
  context.active().getValue(requestContextKey) as RequestContext | undefined

/** The active span's ids when one is valid: the log's span source outside requests. */
export function spanIdsOfActive(): SpanIds | undefined {
  const spanContext = trace.getSpan(context.active())?.spanContext()
  return spanContext && isSpanContextValid(spanContext)
    ? { traceId: spanContext.traceId, spanId: spanContext.spanId }
    : undefined
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
  /** True once `end` ran (before recorders hear of it). */
  readonly hasEnded: boolean
}

/**
 * A span processor that also watches requests (the inspector's recorder). Given to
 * {@link createTracing} as a processor, it is told of every request the server traces, recorded
 * or not, and decides which requests the exporter would not sample still get a recorded span.
 */
export interface RequestRecorder {
  /** Called once by `createTracing`: from now on requests reach {@link requestStarted} and {@link requestEnded}. */
  observeRequests(): void
  /**
   * Whether a request starting now, not sampled for export, gets a recorded span (its trace
   * kept). `nowMs` is its start in epoch ms when known; unset, the recorder reads its clock.
   * `headers` are the request's, when a request (not another root span) is asked about.
   */
  admitRequest(nowMs?: number, headers?: IncomingHttpHeaders): boolean
  requestStarted(request: ObservedRequest): void
  /** The request ended: its end is `startMs + durationMs`, no clock needed. */
  requestEnded(request: ObservedRequest): void
}

export const isRequestRecorder = (processor: SpanProcessor): processor is SpanProcessor & RequestRecorder =>
  typeof (processor as Partial<RequestRecorder>).admitRequest === 'function' &&
  typeof (processor as Partial<RequestRecorder>).requestEnded === 'function'

export const admitted = (
  recorders: readonly RequestRecorder[],
  nowMs?: number,
  headers?: IncomingHttpHeaders,
) => {
  for (const recorder of recorders) if (recorder.admitRequest(nowMs, headers)) return true
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

/** Read once: `performance.timeOrigin` is a getter that asks the runtime each time. */
const timeOrigin = performance.timeOrigin

/** The key `trace.setSpan` stores a span under (the API makes it with `Symbol.for`). */
const spanKey = Symbol.for('OpenTelemetry Context Key SPAN')
const canHoldSpanInline = (() => {
  const probe = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '1'.repeat(16), traceFlags: 0 })
  return trace.getSpan(ROOT_CONTEXT.setValue(spanKey, probe)) === probe
})()

/** The context `trace.setSpan` and `setValue` make: the fallback where a span cannot be held inline. */
const ordinaryContext = (parent: Context, span: Span, request: RequestContext | undefined): Context => {
  const withSpan = trace.setSpan(parent, span)
  return request === undefined ? withSpan : withSpan.setValue(requestContextKey, request)
}

/**
 * A request's span, the request as {@link RequestRecorder}s see it, and the context its handler
 * runs in: one object per request, methods on the prototype, no closures. As a context it holds
 * its parent's values plus its span and Keel's request context, rather than copying them into a
 * new map twice as `trace.setSpan` and `setValue` would; setting or deleting a value (rare, by
 * user code) makes an ordinary context.
 *
 * A request no span is recorded for (`span` not given: the inspector did not admit it, export
 * off) gets its non-recording span only when something asks for it (`span`,
 * `trace.getActiveSpan()`, a child span): most never do, and it costs two objects.
 */
export class RequestSpan implements ServerSpan, ObservedRequest, Context {
  readonly isObservedRequest = true
  readonly isRecorded: boolean
  route: string | undefined = undefined
  status = 0
  durationMs = 0
  error: unknown = undefined
  hasEnded = false
  #span: Span | undefined
  #traceId: string | undefined = undefined
  #spanId: string | undefined = undefined
  #request: RequestContext | undefined = undefined
  readonly #startedAt: number
  readonly #parent: Context
  readonly #recorders: readonly RequestRecorder[]

  constructor(
    span: Span | undefined,
    parent: Context,
    readonly method: string,
    readonly path: string,
    readonly spanName: string,
    readonly userAgent: string | undefined,
    recorders: readonly RequestRecorder[],
    startedAt: number,
  ) {
    this.#span = span
    if (span !== undefined) {
      const ids = span.spanContext()
      this.#traceId = ids.traceId
      this.#spanId = ids.spanId
    }
    this.isRecorded = span?.isRecording() === true
    this.#parent = parent
    this.#recorders = recorders
    this.#startedAt = startedAt
  }

  /** The span's ids; without a span, local ids made when first read (most requests never are). */
  get spanId(): string {
    this.#spanId ??= localSpanId()
    return this.#spanId
  }

  get traceId(): string {
    this.#traceId ??= localTraceIdOf(this.spanId)
    return this.#traceId
  }

  get startMs(): number {
    return this.#startedAt === 0 ? 0 : timeOrigin + this.#startedAt
  }

  get span(): Span {
    this.#span ??= trace.wrapSpanContext({
      traceId: this.traceId,
      spanId: this.spanId,
      traceFlags: TraceFlags.NONE,
    })
    return this.#span
  }

  /** The context to run the request in (with Keel's request context once {@link run} gave it one). */
  get context(): Context {
    return canHoldSpanInline ? this : ordinaryContext(this.#parent, this.span, this.#request)
  }

  get remoteParentSpanId(): string | undefined {
    const parent = trace.getSpanContext(this.#parent)
    return parent?.isRemote ? parent.spanId : undefined
  }

  run<A extends unknown[], T>(fn: (...args: A) => T, request?: RequestContext, ...args: A): T {
    let active: Context = this
    if (!canHoldSpanInline) active = ordinaryContext(this.#parent, this.span, request)
    else if (request !== undefined && request !== this.#request) {
      // A second run with another request context (not done by Keel) must not change the first's.
      if (this.#request === undefined) this.#request = request
      else active = ordinaryContext(this.#parent, this.span, request)
    }
    return context.with(active, fn, undefined, ...args)
  }

  end(status: number, route: string | undefined, error?: unknown, durationMs?: number): void {
    const span = this.#span
    if (span !== undefined) {
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
    }
    this.hasEnded = true
    if (this.#recorders.length === 0) return
    this.route = route
    this.status = status
    this.error = error
    this.durationMs = durationMs ?? performance.now() - this.#startedAt
    for (const recorder of this.#recorders) recorder.requestEnded(this)
  }

  getValue(key: symbol): unknown {
    if (key === spanKey) return this.span
    if (key === requestContextKey && this.#request !== undefined) return this.#request
    return this.#parent.getValue(key)
  }

  setValue(key: symbol, value: unknown): Context {
    return ordinaryContext(this.#parent, this.span, this.#request).setValue(key, value)
  }

  deleteValue(key: symbol): Context {
    return ordinaryContext(this.#parent, this.span, this.#request).deleteValue(key)
  }
}
