import { type StoredSpan, spanBytes } from './stored-span.ts'

/** A captured request/response pair (see `payload-capture.ts`), already redacted and capped. */
export interface CapturedPayload {
  readonly request: { readonly headers: Readonly<Record<string, unknown>>; readonly body?: unknown }
  readonly response: { readonly status: number; readonly body?: unknown }
  /** True when a body was cut to `inspector.capture.maxBytes`. */
  readonly truncated: boolean
  /** Estimated bytes, counted against the store's byte bound. */
  readonly bytes: number
}

/** One trace in the store: its spans so far and what its root says. */
export interface StoredTrace {
  readonly traceId: string
  readonly spans: StoredSpan[]
  bytes: number
  /** Spans past `maxSpansPerTrace`, not kept. */
  droppedSpans: number
  /** The span with no local parent, once it ended (a request's SERVER span, a flow run's span). */
  root?: StoredSpan
  capture?: CapturedPayload
  /** When the store first saw the trace (eviction goes oldest first). */
  readonly firstSeenMs: number
}

/** A trace in a list: what its root says, without the spans. */
export interface TraceSummary {
  readonly traceId: string
  readonly name: string
  readonly route?: string
  readonly method?: string
  readonly statusCode?: number
  /** Epoch ms of the earliest span. */
  readonly startMs: number
  /** From the earliest start to the latest end. */
  readonly durationMs: number
  readonly spanCount: number
  readonly droppedSpans: number
  readonly isError: boolean
  readonly hasCapture: boolean
}

/** Options of {@link TraceStore}. */
export interface TraceStoreOptions {
  readonly maxSpans: number
  readonly maxBytes: number
  readonly maxSpansPerTrace: number
}

/** Filter of {@link TraceStore.list}. */
export interface TraceFilter {
  /** Route template (`/users/:id`) of the root span. */
  readonly route?: string
  /** `error`, `ok`, a status class (`5xx`) or a status code (`404`). */
  readonly status?: string
  /** At most this many, newest first. */
  readonly limit?: number
}

/** Counters of the store, for `/v1/metrics`. */
export interface TraceStoreStats {
  readonly traces: number
  readonly spans: number
  readonly bytes: number
  readonly evictedTraces: number
  readonly droppedSpans: number
  /** Traces not kept because `store.maxTracesPerSecond` was reached (their windows still count them). */
  readonly skippedTraces: number
}

/**
 * The inspector's bounded in-memory trace store. Spans are grouped by trace; past `maxSpans`
 * spans or `maxBytes` estimated bytes (spans and captured payloads), the oldest whole traces are
 * evicted, so a trace is never shown with holes from eviction. One trace keeps at most
 * `maxSpansPerTrace` spans; later ones are only counted.
 */
export class TraceStore {
  readonly #options: TraceStoreOptions
  readonly #traces = new Map<string, StoredTrace>()
  /**
   * Traces in first-seen order, oldest at `#head`: eviction pops from here. Not the Map's own
   * order: iterating a Map from its start after many deletes walks their holes until V8 rehashes
   * the table, which made each eviction O(store size) under load.
   */
  #order: StoredTrace[] = []
  #head = 0
  #spans = 0
  #bytes = 0
  #evicted = 0
  #dropped = 0
  #skipped = 0

  constructor(options: TraceStoreOptions) {
    this.#options = options
  }

  /** Adds a finished span; returns its trace (which may be evicted already if it alone is too big). */
  add(span: StoredSpan, nowMs = Date.now()): StoredTrace {
    const trace = this.#traceFor(span.traceId, nowMs)
    if (trace.spans.length >= this.#options.maxSpansPerTrace) {
      trace.droppedSpans++
      this.#dropped++
      return trace
    }
    const bytes = spanBytes(span)
    trace.spans.push(span)
    trace.bytes += bytes
    this.#spans++
    this.#bytes += bytes
    if (span.parentSpanId === undefined || span.parentIsRemote) trace.root = span
    this.#evict(trace)
    return trace
  }

  /** Keeps a captured payload with its trace (counted in the byte bound). */
  attachCapture(traceId: string, capture: CapturedPayload, nowMs = Date.now()): void {
    const trace = this.#traceFor(traceId, nowMs)
    if (trace.capture) this.#bytes -= trace.capture.bytes
    trace.capture = capture
    trace.bytes += capture.bytes
    this.#bytes += capture.bytes
    this.#evict(trace)
  }

  /** Forgets a trace the recorder decided not to keep (its spans so far go with it). */
  skip(traceId: string): void {
    this.#skipped++
    const trace = this.#traces.get(traceId)
    if (!trace) return
    this.#traces.delete(traceId)
    this.#spans -= trace.spans.length
    this.#bytes -= trace.bytes
  }

  get(traceId: string): StoredTrace | undefined {
    return this.#traces.get(traceId)
  }

  /** Traces whose root span ended, newest first, filtered. */
  list(filter: TraceFilter = {}): TraceSummary[] {
    const limit = filter.limit ?? 50
    const matches = statusMatcher(filter.status)
    const out: TraceSummary[] = []
    const all = [...this.#traces.values()]
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) {
      const trace = all[i]!
      if (!trace.root) continue
      const summary = summarize(trace)
      if (filter.route !== undefined && summary.route !== filter.route) continue
      if (!matches(summary)) continue
      out.push(summary)
    }
    return out
  }

  stats(): TraceStoreStats {
    return {
      traces: this.#traces.size,
      spans: this.#spans,
      bytes: this.#bytes,
      evictedTraces: this.#evicted,
      droppedSpans: this.#dropped,
      skippedTraces: this.#skipped,
    }
  }

  #traceFor(traceId: string, nowMs: number): StoredTrace {
    let trace = this.#traces.get(traceId)
    if (!trace) {
      trace = { traceId, spans: [], bytes: 0, droppedSpans: 0, firstSeenMs: nowMs }
      this.#traces.set(traceId, trace)
      this.#order.push(trace)
      // Skipped traces leave entries behind; sweep them once they outnumber the live ones.
      if (this.#order.length - this.#head > 2 * this.#traces.size + 1024) {
        this.#order = this.#order.slice(this.#head).filter((t) => this.#traces.get(t.traceId) === t)
        this.#head = 0
      }
    }
    return trace
  }

  /** Evicts oldest traces until both bounds hold; `current` goes last, and only if it alone is too big. */
  #evict(current: StoredTrace): void {
    const { maxSpans, maxBytes } = this.#options
    let keepCurrent = false
    while ((this.#spans > maxSpans || this.#bytes > maxBytes) && this.#head < this.#order.length) {
      const oldest = this.#order[this.#head++]!
      // Entries of traces already gone (the current one evicted out of turn) are skipped.
      if (this.#traces.get(oldest.traceId) !== oldest) continue
      if (oldest === current) {
        keepCurrent = true
        continue
      }
      this.#remove(oldest)
    }
    if (this.#spans > maxSpans || this.#bytes > maxBytes) this.#remove(current)
    else if (keepCurrent) this.#order[--this.#head] = current // back in front: the oldest left
    this.#compactOrder()
  }

  #remove(trace: StoredTrace): void {
    this.#traces.delete(trace.traceId)
    this.#spans -= trace.spans.length
    this.#bytes -= trace.bytes
    this.#evicted++
  }

  /** Drops the popped prefix of `#order` now and then (amortized O(1)). */
  #compactOrder(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head)
      this.#head = 0
    }
  }
}

/** A trace's list entry, from its root span (a request's method, route and status). */
export function summarize(trace: StoredTrace): TraceSummary {
  let startMs = Infinity
  let endMs = 0
  let isError = false
  for (const span of trace.spans) {
    if (span.startMs < startMs) startMs = span.startMs
    if (span.startMs + span.durationMs > endMs) endMs = span.startMs + span.durationMs
    if (span.status === 'error') isError = true
  }
  const root = trace.root
  const attributes = root?.attributes ?? {}
  const statusCode = attributes['http.response.status_code']
  const route = attributes['http.route']
  const method = attributes['http.request.method']
  if (typeof statusCode === 'number' && statusCode >= 500) isError = true
  return {
    traceId: trace.traceId,
    name: root?.name ?? trace.spans[0]?.name ?? '',
    ...(typeof route === 'string' ? { route } : {}),
    ...(typeof method === 'string' ? { method } : {}),
    ...(typeof statusCode === 'number' ? { statusCode } : {}),
    startMs: startMs === Infinity ? trace.firstSeenMs : startMs,
    durationMs: Math.max(0, endMs - (startMs === Infinity ? endMs : startMs)),
    spanCount: trace.spans.length,
    droppedSpans: trace.droppedSpans,
    isError,
    hasCapture: trace.capture !== undefined,
  }
}

function statusMatcher(status: string | undefined): (summary: TraceSummary) => boolean {
  if (status === undefined || status === '') return () => true
  if (status === 'error') return (s) => s.isError
  if (status === 'ok') return (s) => !s.isError
  const klass = /^([1-5])xx$/i.exec(status)
  if (klass) {
    const first = Number(klass[1])
    return (s) => s.statusCode !== undefined && Math.floor(s.statusCode / 100) === first
  }
  const code = Number(status)
  return (s) => s.statusCode === code
}
