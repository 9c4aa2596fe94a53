import { type Context, SpanKind } from '@opentelemetry/api'
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { InFlight, RunningOperation } from './in-flight.ts'
import { hrToMs, storedSpanOf } from './stored-span.ts'
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
  /** Requests and flow steps running now: their spans. */
  readonly inFlight: InFlight<Span>
  /** Called when a trace's local root span ends (a request answered, a flow run over). */
  readonly onTrace: (trace: StoredTrace) => void
  /**
   * Traces kept per second at most, failed ones aside (always kept); 0: every trace. Windows
   * count every span either way.
   */
  readonly maxTracesPerSecond?: number
  readonly now?: () => number
}

/**
 * The inspector's OpenTelemetry span processor: every finished span goes to the trace store;
 * SERVER spans feed the per-route windows, flow step spans the per-step windows; requests and
 * steps are tracked while they run, for stall detection. It runs on the request path (span end),
 * so it only copies and counts: no serialization, no I/O.
 */
export class SpanRecorder implements SpanProcessor {
  readonly #t: SpanRecorderTargets
  readonly #now: () => number
  readonly #maxPerSecond: number
  /** The second `#keptThisSecond` counts in. */
  #second = 0
  #keptThisSecond = 0

  constructor(targets: SpanRecorderTargets) {
    this.#t = targets
    this.#now = targets.now ?? Date.now
    this.#maxPerSecond = targets.maxTracesPerSecond ?? 0
  }

  onStart(span: Span, _parent: Context): void {
    if (span.kind === SpanKind.SERVER || typeof span.attributes['keel.flow.step'] === 'string') {
      this.#t.inFlight.start(span)
    }
  }

  onEnd(span: ReadableSpan): void {
    const t = this.#t
    t.inFlight.end(span as Span) // the SDK hands the same span object to onStart and onEnd
    const stored = storedSpanOf(span)
    const attributes = span.attributes
    const now = this.#now()
    let isFailed = stored.status === 'error'
    if (span.kind === SpanKind.SERVER) {
      const method = attributes['http.request.method']
      const route = attributes['http.route']
      const status = attributes['http.response.status_code']
      if (typeof status === 'number' && status >= 500) isFailed = true
      t.routes.record(
        typeof method === 'string' ? method : span.name,
        typeof route === 'string' ? route : '(unmatched)',
        now,
        stored.durationMs,
        isFailed,
      )
    } else if (typeof attributes['keel.flow.step'] === 'string') {
      t.steps.record(String(attributes['keel.flow']), span.name, now, stored.durationMs, isFailed)
    } else if (typeof attributes['keel.flow'] === 'string' && span.name.startsWith('flow ')) {
      t.flows.record(attributes['keel.flow'], '', now, stored.durationMs, isFailed)
    }
    const isRoot = stored.parentSpanId === undefined || stored.parentIsRemote === true
    if (!isRoot) {
      t.store.add(stored, now)
      return
    }
    // The root ends last: now the trace is kept, or forgotten with the children stored so far.
    if (!isFailed && !this.#mayKeep(now)) {
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

/** What a running span is, for `/v1/stalls`: a request (SERVER span) or a flow step. */
export function runningOperationOf(span: Span): RunningOperation | undefined {
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
