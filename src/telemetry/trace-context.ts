import { randomBytes } from 'node:crypto'

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

/**
 * The log context of a request with neither a span nor a caller's trace. Its local trace id is
 * made when a log line first reads it, so a request that logs nothing never makes one.
 */
export class LocalTraceContext {
  readonly spanId = undefined
  #traceId: string | undefined

  constructor(readonly requestId: string) {}

  get traceId(): string {
    this.#traceId ??= localTraceIdOf(localSpanId())
    return this.#traceId
  }
}

/**
 * The log context of a request with a span: the ids are read from the span when a log line asks,
 * so a span whose ids are made on demand (an unrecorded request's) makes them only then.
 */
export class SpanTraceContext {
  readonly #span: { readonly traceId: string; readonly spanId: string }

  constructor(
    readonly requestId: string,
    span: { readonly traceId: string; readonly spanId: string },
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
