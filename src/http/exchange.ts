import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../log/index.ts'
import type { ServerSpan } from '../telemetry/index.ts'
import type { RouteRecorder } from '../telemetry/metrics.ts'
import type { Principal } from './principal.ts'
import type { RequestContext, RouteDefinition } from './route.ts'
import type { SseMetrics } from './sse-metrics.ts'

/**
 * One request and its response as the server handles it. Handlers see it as their
 * {@link RequestContext}; the server keeps its own bookkeeping (start time, span, error) on the
 * same object, so a request costs one allocation here rather than several closures.
 */
export class Exchange implements RequestContext {
  status = 200
  /** The route that matched, if any. */
  readonly definition: RouteDefinition | undefined
  /** The request's server span, when traced. */
  span: ServerSpan | undefined = undefined
  /** Where the server records this request's RED metrics (its route's, bound once). */
  recorder: RouteRecorder | undefined = undefined
  /** What the handler threw, for the log and the span. */
  error: unknown
  body: unknown = undefined
  /** For an unmatched path: the methods it does allow (405), if any. */
  allowedMethods: readonly string[] | undefined
  principal: Principal | undefined = undefined
  /** Aborts when the server starts closing (shutdown's `http` phase); `sse()` streams end then. */
  serverClosing: AbortSignal | undefined = undefined
  /** The app's SSE metrics, for `sse()` streams opened on this request. */
  sseMetrics: SseMetrics | undefined = undefined
  /**
   * The largest request body this request may send, set by `bodyLimit()` guards (the smallest
   * limit on the way wins). Typed routes bound their body reading by it; undefined without a guard.
   */
  bodyLimitBytes: number | undefined = undefined
  /**
   * The content type of a string body when no `content-type` header names one (see
   * `setTextType`): typed routes answer JSON text this way, so a response without other headers
   * goes out with one `writeHead` instead of through Node's per-header path.
   */
  textType: string | undefined = undefined
  #abort: AbortController | undefined
  #abortReason: unknown
  #isAborted = false
  #query: Record<string, string | string[]> | undefined
  #ip: string | undefined
  #headers: IncomingHttpHeaders | undefined
  readonly #clientIp: (req: IncomingMessage) => string

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly method: string,
    /** The raw request target, query included. */
    readonly url: string,
    readonly path: string,
    definition: RouteDefinition | undefined,
    readonly params: Readonly<Record<string, string | undefined>>,
    readonly requestId: string,
    readonly log: Logger,
    /** `performance.now()` when the request arrived. */
    readonly startedAt: number,
    clientIp: (req: IncomingMessage) => string,
  ) {
    this.definition = definition
    this.#clientIp = clientIp
  }

  get headers(): IncomingHttpHeaders {
    return this.#headers ?? this.req.headers
  }

  /** Typed routes replace the raw headers with the validated (coerced) ones. */
  set headers(value: IncomingHttpHeaders) {
    this.#headers = value
  }

  get ip(): string {
    this.#ip ??= this.#clientIp(this.req)
    return this.#ip
  }

  get route(): string {
    return this.definition?.path ?? ''
  }

  get query(): Record<string, string | string[]> {
    this.#query ??= parseQuery(this.url)
    return this.#query
  }

  /** Typed routes replace the raw query with the validated one. */
  set query(value: Record<string, string | string[]>) {
    this.#query = value
  }

  header(name: string, value: string | number | readonly string[]): void {
    this.res.setHeader(name, value)
  }

  /**
   * Aborted when the client goes away before the response is finished, or by {@link abort}.
   * Made on first access, so requests whose handlers never look at it pay nothing.
   */
  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController()
      const { res } = this
      if (this.#isAborted) this.#abort.abort(this.#abortReason)
      else if (res.destroyed && !res.writableEnded) this.abort(clientGone())
      else
        res.once('close', () => {
          if (!res.writableEnded) this.abort(clientGone())
        })
    }
    return this.#abort.signal
  }

  /** Aborts {@link signal} with `reason` (the `timeout()` guard does); only the first call counts. */
  abort(reason: unknown): void {
    if (this.#isAborted) return
    this.#isAborted = true
    this.#abortReason = reason
    this.#abort?.abort(reason)
  }
}

const clientGone = () => new DOMException('the client closed the connection', 'AbortError')

/** The query string as an object without a prototype (so `__proto__` is just a name); repeated names become arrays. */
function parseQuery(url: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null)
  const q = url.indexOf('?')
  if (q === -1) return query
  for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
    const existing = query[name]
    query[name] =
      existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
  }
  return query
}
