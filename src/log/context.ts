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

/** The request context of the code running now, if it runs inside a request. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore()
}
