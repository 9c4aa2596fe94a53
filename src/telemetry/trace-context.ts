import { randomBytes } from 'node:crypto'
import type { RequestContext } from '../log/index.ts'

const traceparentPattern = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/

/**
 * The trace and parent span ids of a W3C `traceparent` header, or undefined when it is absent or
 * malformed (all-zero ids are invalid per the spec). Used to echo the caller's trace id in logs
 * even when tracing is off.
 */
export function parseTraceparent(
  header: string | undefined,
): { traceId: string; spanId: string } | undefined {
  if (!header) return undefined
  const match = traceparentPattern.exec(header.trim().toLowerCase())
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined
  return { traceId: match[1]!, spanId: match[2]! }
}

/**
 * A W3C trace id and span id made in this process, for a request no span is recorded for (the
 * inspector's unadmitted requests with export off) or that runs without tracing (the trace id of
 * its log lines). Such ids are never propagated nor exported: they tie a request's log lines and
 * inspector entries together, so they must be unique, not unpredictable. A
 * random 64-bit prefix drawn once per process and a counter give that for one number-to-hex
 * conversion per request, where random bytes cost a fill, a hex encoding and two slices. The
 * traceparent flags stay unset (no W3C "random" claim). The counter starts at 1: an all-zero id is
 * invalid.
 */
const localPrefix = randomBytes(8).toString('hex')
let localCounter = 0

/** A span id of {@link localTraceIds} alone; its trace id is {@link localTraceIdOf} it. */
export function localSpanId(): string {
  localCounter = localCounter === Number.MAX_SAFE_INTEGER ? 1 : localCounter + 1
  return localCounter.toString(16).padStart(16, '0')
}

/** The trace id {@link localTraceIds} pairs with a {@link localSpanId}. */
export const localTraceIdOf = (spanId: string): string => localPrefix + spanId

export function localTraceIds(): { traceId: string; spanId: string } {
  const spanId = localSpanId()
  return { traceId: localPrefix + spanId, spanId }
}

/** A span's ids as {@link requestLogContext} reads them: a request's server span. */
interface SpanIds {
  readonly traceId: string
  readonly spanId: string
}

/**
 * The log context (`request_id`, `trace_id`, `span_id`) of a request: the span's ids when it has
 * one, else the caller's from `traceparent` (tracing off), else a local trace id that still ties
 * the request's lines together. The span's and the local ids are read when a log line first asks,
 * so a request that logs nothing never formats them. HTTP requests and WebSocket upgrades alike.
 */
export function requestLogContext(
  requestId: string,
  span: SpanIds | undefined,
  traceparent: string | undefined,
): RequestContext & { readonly traceId: string } {
  if (span) return new SpanTraceContext(requestId, span)
  const caller = parseTraceparent(traceparent)
  return caller
    ? { requestId, traceId: caller.traceId, spanId: caller.spanId }
    : new LocalTraceContext(requestId)
}

class LocalTraceContext implements RequestContext {
  readonly spanId = undefined
  #traceId: string | undefined

  constructor(readonly requestId: string) {}

  get traceId(): string {
    this.#traceId ??= localTraceIdOf(localSpanId())
    return this.#traceId
  }
}

class SpanTraceContext implements RequestContext {
  readonly #span: SpanIds

  constructor(
    readonly requestId: string,
    span: SpanIds,
  ) {
    this.#span = span
  }

  get traceId(): string {
    return this.#span.traceId
  }

  get spanId(): string {
    return this.#span.spanId
  }
}
