import { type HrTime, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { isSecretKey, REDACTED, redactUrl } from '../log/index.ts'
import type { ObservedRequest } from '../telemetry/request-span.ts'

/** An attribute value as the API shows it. */
export type AttributeValue = string | number | boolean | ReadonlyArray<string | number | boolean | null>

/**
 * One span as the store keeps it: copied cheaply at span end (on the request path), with the
 * span's own attributes and events objects referenced, not copied. Secrets are redacted when the
 * span is served ({@link spanView}), never on the request path; the store is process memory.
 */
export interface StoredSpan {
  readonly traceId: string
  readonly spanId: string
  /** Absent on a root span. */
  readonly parentSpanId?: string
  /** True when the parent lives in another process (the caller's `traceparent`). */
  readonly parentIsRemote?: boolean
  readonly name: string
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer'
  /** Start, epoch milliseconds (fractional). */
  readonly startMs: number
  readonly durationMs: number
  readonly status: 'unset' | 'ok' | 'error'
  readonly statusMessage?: string
  /** The span's attributes as recorded (unredacted: see {@link spanView}). */
  readonly attributes: Readonly<Record<string, unknown>>
  /** The span's events as recorded (exceptions among them). */
  readonly events?: ReadonlyArray<{
    readonly name: string
    readonly time: HrTime
    readonly attributes?: Readonly<Record<string, unknown>>
  }>
}

/** A span as the API serves it: attributes redacted, events as offsets from the span start. */
export interface SpanView extends Omit<StoredSpan, 'attributes' | 'events' | 'traceId'> {
  /** Start, from the trace's start. */
  readonly offsetMs: number
  readonly attributes: Readonly<Record<string, AttributeValue>>
  readonly events?: ReadonlyArray<{
    readonly name: string
    readonly offsetMs: number
    readonly attributes?: Readonly<Record<string, AttributeValue>>
  }>
}

const kinds: Record<SpanKind, StoredSpan['kind']> = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
}

const statuses: Record<SpanStatusCode, StoredSpan['status']> = {
  [SpanStatusCode.UNSET]: 'unset',
  [SpanStatusCode.OK]: 'ok',
  [SpanStatusCode.ERROR]: 'error',
}

/** Epoch milliseconds of an OpenTelemetry time. */
export const hrToMs = (time: HrTime): number => time[0] * 1000 + time[1] / 1e6

/** Longest attribute string kept; a longer one (a SQL statement, a stack) is cut. */
const maxAttributeChars = 2048

/**
 * Attributes safe to show: a secret-named key (`http.request.header.authorization`,
 * `db.password`) is redacted, a URL loses its credentials and secret query values, a long
 * string is cut. Keel's own log redaction rules decide what is secret.
 */
export function redactAttributes(
  attributes: Readonly<Record<string, unknown>>,
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {}
  for (const key in attributes) {
    const value = attributes[key]
    if (value === undefined) continue
    const kind = kindOf(key)
    if (kind === SECRET) {
      out[key] = REDACTED
    } else if (typeof value === 'string') {
      const text =
        kind === QUERY ? redactUrl(`?${value}`).slice(1) : kind === URL_LIKE ? redactUrl(value) : value
      out[key] = text.length > maxAttributeChars ? `${text.slice(0, maxAttributeChars)}…` : text
    } else if (typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value)) {
      out[key] = value as AttributeValue
    }
  }
  return out
}

const PLAIN = 0
const SECRET = 1
const QUERY = 2
const URL_LIKE = 3
/**
 * What an attribute key is, computed once per key: spans repeat the same few dozen keys, and
 * classifying one (lowercasing, regexes) on every span was a visible share of the inspector's
 * cost. Bounded, so keys made from data cannot grow it without limit.
 */
const keyKinds = new Map<string, number>()
function kindOf(key: string): number {
  let kind = keyKinds.get(key)
  if (kind === undefined) {
    kind =
      isSecretKey(key) || isSecretKey(key.slice(key.lastIndexOf('.') + 1))
        ? SECRET
        : /query$/i.test(key)
          ? QUERY
          : /url|uri|target|path/i.test(key)
            ? URL_LIKE
            : PLAIN
    if (keyKinds.size >= 1024) keyKinds.clear()
    keyKinds.set(key, kind)
  }
  return kind
}

/** The inspector's copy of a finished span: a handful of fields, nothing redacted or converted yet. */
export function storedSpanOf(span: ReadableSpan): StoredSpan {
  const context = span.spanContext()
  const parent = span.parentSpanContext
  return {
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: parent?.spanId,
    parentIsRemote: parent?.isRemote,
    name: span.name,
    kind: kinds[span.kind] ?? 'internal',
    startMs: hrToMs(span.startTime),
    durationMs: hrToMs(span.duration),
    status: statuses[span.status.code] ?? 'unset',
    statusMessage: span.status.message,
    attributes: span.attributes,
    events: span.events.length > 0 ? span.events : undefined,
  }
}

/** Attribute of a request's server span stored without its children, which were never made. */
export const rootOnlyAttribute = 'keel.inspector.root_only'

/**
 * The server span of a failed request whose span was not recorded (the inspector did not admit
 * it), built from what tracing observed: the attributes, status and exception event the
 * recorded span would have had, marked {@link rootOnlyAttribute}.
 */
export function storedSpanOfRequest(request: ObservedRequest): StoredSpan {
  const attributes: Record<string, unknown> = {
    'http.request.method': request.method,
    'url.path': request.path,
    ...(request.userAgent === undefined ? {} : { 'user_agent.original': request.userAgent }),
    ...(request.route === undefined ? {} : { 'http.route': request.route }),
    'http.response.status_code': request.status,
    [rootOnlyAttribute]: true,
  }
  const error = request.error
  const endMs = request.startMs + request.durationMs
  const parentSpanId = request.remoteParentSpanId
  return {
    traceId: request.traceId,
    spanId: request.spanId,
    ...(parentSpanId === undefined ? {} : { parentSpanId, parentIsRemote: true }),
    name: request.route ? `${request.spanName} ${request.route}` : request.spanName,
    kind: 'server',
    startMs: request.startMs,
    durationMs: request.durationMs,
    status: request.status >= 500 ? 'error' : 'unset',
    attributes,
    events: error instanceof Error ? [exceptionEvent(error, endMs)] : undefined,
  }
}

/** The event `span.recordException` would have added (same attribute names as the SDK's). */
function exceptionEvent(error: Error, atMs: number): NonNullable<StoredSpan['events']>[number] {
  const code = (error as { code?: unknown }).code
  const attributes: Record<string, unknown> = {}
  if (code !== undefined && code !== null) attributes['exception.type'] = String(code)
  else if (error.name) attributes['exception.type'] = error.name
  if (error.message) attributes['exception.message'] = error.message
  if (error.stack) attributes['exception.stacktrace'] = error.stack
  const seconds = Math.floor(atMs / 1000)
  return { name: 'exception', time: [seconds, Math.round((atMs - seconds * 1000) * 1e6)], attributes }
}

/** A stored span as the API serves it, `offsetMs` from `traceStartMs`, secrets redacted. */
export function spanView(span: StoredSpan, traceStartMs: number): SpanView {
  const events = span.events?.map((event) => ({
    name: event.name,
    offsetMs: round(hrToMs(event.time) - span.startMs),
    ...(event.attributes ? { attributes: redactAttributes(event.attributes) } : {}),
  }))
  return {
    spanId: span.spanId,
    ...(span.parentSpanId === undefined ? {} : { parentSpanId: span.parentSpanId }),
    ...(span.parentIsRemote ? { parentIsRemote: true } : {}),
    name: span.name,
    kind: span.kind,
    startMs: span.startMs,
    offsetMs: round(span.startMs - traceStartMs),
    durationMs: round(span.durationMs),
    status: span.status,
    ...(span.statusMessage ? { statusMessage: span.statusMessage } : {}),
    attributes: redactAttributes(span.attributes),
    ...(events ? { events } : {}),
  }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000

/** Fixed cost of a stored span (ids, times, object overhead) in the byte estimate. */
const spanOverheadBytes = 256

/**
 * Estimated bytes a stored span holds: a fixed overhead plus its strings. An estimate (no
 * serialization on the hot path), close to its JSON size, which is what the byte bound is about.
 */
export function spanBytes(span: StoredSpan): number {
  let bytes = spanOverheadBytes + span.name.length + (span.statusMessage?.length ?? 0)
  bytes += attributeBytes(span.attributes)
  if (span.events) {
    for (const event of span.events) {
      bytes += 64 + event.name.length + (event.attributes ? attributeBytes(event.attributes) : 0)
    }
  }
  return bytes
}

function attributeBytes(attributes: Readonly<Record<string, unknown>>): number {
  let bytes = 0
  for (const key in attributes) {
    const value = attributes[key]
    bytes += key.length + 6
    if (typeof value === 'string') bytes += value.length
    else if (Array.isArray(value))
      for (const item of value) bytes += typeof item === 'string' ? item.length + 3 : 8
    else bytes += 8
  }
  return bytes
}
