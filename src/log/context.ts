import { AsyncLocalStorage } from 'node:async_hooks'

/** What every log line inside a request carries. Later capabilities add their own fields. */
export interface RequestContext {
  requestId: string
  traceId?: string
  spanId?: string
}

const storage = new AsyncLocalStorage<RequestContext>()

/** Runs `fn(...args)` with `context` as the current request context (for logs, traces, capabilities). */
export function runWithContext<T, A extends unknown[]>(
  context: RequestContext,
  fn: (...args: A) => T,
  ...args: A
): T {
  return storage.run(context, fn, ...args)
}

let contextSource: (() => RequestContext | undefined) | undefined

/**
 * Where else a request context may live: tracing keeps it inside the OpenTelemetry context, so
 * a traced request enters one AsyncLocalStorage scope instead of two (each scope costs on every
 * async operation the request makes). `undefined` removes the source.
 */
export function setContextSource(source: (() => RequestContext | undefined) | undefined): void {
  contextSource = source
}

/** The trace and span ids of a span, for log lines written under it outside any request. */
export interface SpanIds {
  traceId: string
  spanId: string
}

let spanSource: (() => SpanIds | undefined) | undefined

/**
 * Where the active span's ids come from (tracing sets it): log lines written under a span but
 * outside a request (a job, a flow run the poller claimed) carry `trace_id` and `span_id` too.
 * `undefined` removes the source.
 */
export function setSpanSource(source: (() => SpanIds | undefined) | undefined): void {
  spanSource = source
}

/** The ids of the span active now, if tracing is on and one is. */
export function currentSpanIds(): SpanIds | undefined {
  return spanSource?.()
}

/** The request context of the code running now, if it runs inside a request. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore() ?? contextSource?.()
}
