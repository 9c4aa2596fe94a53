import type { IncomingHttpHeaders } from 'node:http'
import { type Attributes, type Context, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { unkeptSpanAttribute } from '../telemetry/in-process-sampler.ts'
import type { ObservedRequest, RequestRecorder } from '../telemetry/request-span.ts'
import type { InFlight, RunningOperation } from './in-flight.ts'
import type { RelayTickets } from './relay-tickets.ts'
import { hrToMs, storedSpanOf, storedSpanOfRequest } from './stored-span.ts'
import type { StoredTrace, TraceStore } from './trace-store.ts'
import type { WindowSet } from './window-set.ts'

/** Where the recorder puts what it sees. */
export interface SpanRecorderTargets {
  readonly store: TraceStore
  /** Per route: method, then template (`GET /users/:id`). */
  readonly routes: WindowSet
  /** Per flow step: flow, then the step span's name (`step charge`, `compensate charge`). */
  readonly steps: WindowSet
  /** Per flow: whole runs (flow, then `''`). */
  readonly flows: WindowSet
  /** Requests and flow steps running now: their spans, or the requests tracing observes. */
  readonly inFlight: InFlight<Span> | InFlight<Span | ObservedRequest>
  /** Called when a trace's local root span ends (a request answered, a flow run over). */
  readonly onTrace: (trace: StoredTrace) => void
  /**
   * Traces kept per second at most, failed ones aside (always kept); 0: every trace. Windows
   * count every span either way.
   */
  readonly maxTracesPerSecond?: number
  /** Tickets of relayed requests, admitted whatever the budget (see {@link RelayTickets}). */
  readonly relays?: RelayTickets
  /**
   * A clock for tests (epoch ms). Unset, spans read `Date.now` and requests need no clock: they
   * are placed by the start and duration the server measured.
   */
  readonly now?: () => number
}

/**
 * The inspector's OpenTelemetry span processor: every finished span goes to the trace store;
 * flow step spans feed the per-step windows; steps are tracked while they run, for stall
 * detection. It runs on the request path (span end), so it only copies and counts: no
 * serialization, no I/O.
 *
 * Requests reach it as a {@link RequestRecorder} once tracing observes them (see
 * `createTracing`): every request, spanned or not, feeds the per-route windows and the
 * in-flight set from {@link requestEnded} and {@link requestStarted}; a request gets a
 * recorded span only if {@link admitRequest} says so, within `maxTracesPerSecond`; a failed
 * request that got none is stored as its server span alone, built from the request. Used as a
 * plain span processor (not observing requests), SERVER spans feed the route windows and every
 * root is kept or skipped when it ends, by the same budget.
 */
export class SpanRecorder implements SpanProcessor, RequestRecorder {
  readonly #t: SpanRecorderTargets
  readonly #inFlight: InFlight<object>
  readonly #now: () => number
  /** The test's clock, if one was given: then it places requests too. */
  readonly #testClock: (() => number) | undefined
  readonly #maxPerSecond: number
  #observesRequests = false
  /** The second `#keptThisSecond` counts in. */
  #second = 0
  #keptThisSecond = 0

  constructor(targets: SpanRecorderTargets) {
    this.#t = targets
    // Holds spans and observed requests alike; `runningOperationOf` tells them apart.
    this.#inFlight = targets.inFlight as InFlight<object>
    this.#now = targets.now ?? Date.now
    this.#testClock = targets.now
    this.#maxPerSecond = targets.maxTracesPerSecond ?? 0
  }

  observeRequests(): void {
    this.#observesRequests = true
  }

  admitRequest(nowMs?: number, headers?: IncomingHttpHeaders): boolean {
    if (headers !== undefined && this.#t.relays?.admits(headers)) return true
    return this.#mayKeep(this.#testClock?.() ?? nowMs ?? this.#now())
  }

  requestStarted(request: ObservedRequest): void {
    this.#inFlight.start(request)
    this.#t.relays?.started(request)
  }

  requestEnded(request: ObservedRequest): void {
    const t = this.#t
    // Its own end, rather than a clock read: the server timed the request already.
    const now = this.#testClock?.() ?? request.startMs + request.durationMs
    const isFailed = request.status >= 500
    t.routes.record(request.method, request.route ?? '(unmatched)', now, request.durationMs, isFailed)
    // Failed requests are always kept: one that got no span is kept as its server span alone.
    if (isFailed && !request.isRecorded) t.onTrace(t.store.add(storedSpanOfRequest(request), now))
  }

  onStart(span: Span, _parent: Context): void {
    if (span.kind === SpanKind.SERVER ? !this.#observesRequests : isStepSpan(span.attributes)) {
      this.#inFlight.start(span)
    }
  }

  onEnd(span: ReadableSpan): void {
    const t = this.#t
    const attributes = span.attributes
    const isServer = span.kind === SpanKind.SERVER
    const durationMs = hrToMs(span.duration)
    let isFailed = span.status.code === SpanStatusCode.ERROR
    if (isServer) {
      const status = attributes['http.response.status_code']
      if (typeof status === 'number' && status >= 500) isFailed = true
      if (!this.#observesRequests) {
        const method = attributes['http.request.method']
        const route = attributes['http.route']
        t.routes.record(
          typeof method === 'string' ? method : span.name,
          typeof route === 'string' ? route : '(unmatched)',
          this.#now(),
          durationMs,
          isFailed,
        )
      }
    } else if (isStepSpan(attributes)) {
      t.steps.record(String(attributes['keel.flow']), span.name, this.#now(), durationMs, isFailed)
    } else if (typeof attributes['keel.flow'] === 'string' && span.name.startsWith('flow ')) {
      t.flows.record(attributes['keel.flow'], '', this.#now(), durationMs, isFailed)
    }
    // Recorded for the windows only, inside a request whose trace is not kept.
    if (attributes[unkeptSpanAttribute] === true) return
    const now = this.#now()
    const stored = storedSpanOf(span)
    const isRoot = stored.parentSpanId === undefined || stored.parentIsRemote === true
    if (!isRoot) {
      t.store.add(stored, now)
      return
    }
    // The root ends last: now the trace is kept, or forgotten with the children stored so far.
    // A request span recorded unsampled was admitted when it started: its slot is taken.
    const wasAdmitted =
      isServer && this.#observesRequests && (span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0
    if (!isFailed && !wasAdmitted && !this.#mayKeep(now)) {
      t.store.skip(stored.traceId)
      return
    }
    t.onTrace(t.store.add(stored, now))
  }

  /**
   * At most `maxTracesPerSecond` traces a second: under load the store fills with a sample
   * rather than churn (keeping every span of 10 000 requests a second costs more in copying
   * and garbage collection than making the spans does, and holds under two seconds of history).
   */
  #mayKeep(now: number): boolean {
    if (this.#maxPerSecond === 0) return true
    const second = Math.floor(now / 1000)
    if (second !== this.#second) {
      this.#second = second
      this.#keptThisSecond = 0
    }
    if (this.#keptThisSecond >= this.#maxPerSecond) return false
    this.#keptThisSecond++
    return true
  }

  forceFlush(): Promise<void> {
    return Promise.resolve()
  }

  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

/** What a running span or request is, for `/v1/stalls`: a request (SERVER span) or a flow step. */
export function runningOperationOf(span: Span | ObservedRequest): RunningOperation | undefined {
  if ('isObservedRequest' in span) {
    const { traceId, spanId, method, path, startMs } = span
    return { kind: 'request', traceId, spanId, name: `${method} ${path}`, startMs, details: { method, path } }
  }
  const { traceId, spanId } = span.spanContext()
  const attributes = span.attributes
  const startMs = hrToMs(span.startTime)
  if (span.kind === SpanKind.SERVER) {
    const method = String(attributes['http.request.method'] ?? span.name)
    const path = String(attributes['url.path'] ?? '')
    return { kind: 'request', traceId, spanId, name: `${method} ${path}`, startMs, details: { method, path } }
  }
  const step = attributes['keel.flow.step']
  if (typeof step !== 'string') return undefined
  const flow = String(attributes['keel.flow'] ?? '')
  return {
    kind: 'step',
    traceId,
    spanId,
    name: `${flow} / ${step}`,
    startMs,
    details: {
      flow,
      step,
      runId: String(attributes['keel.flow.run_id'] ?? ''),
      attempt: Number(attributes['keel.flow.attempt'] ?? 1),
    },
  }
}

/** Whether a span or request the in-flight set holds has ended (the SDK marks a span before `onEnd`). */
export const hasOperationEnded = (item: Span | ObservedRequest): boolean =>
  'isObservedRequest' in item ? item.hasEnded : item.ended

const isStepSpan = (attributes: Attributes) => typeof attributes['keel.flow.step'] === 'string'
