import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../log/index.ts'
import type { ServerSpan } from '../telemetry/index.ts'
import type { Principal } from './principal.ts'
import type { RequestContext, RouteDefinition } from './route.ts'

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
  span: ServerSpan | undefined
  /** What the handler threw, for the log and the span. */
  error: unknown
  body: unknown = undefined
  /** For an unmatched path: the methods it does allow (405), if any. */
  allowedMethods: readonly string[] | undefined
  principal: Principal | undefined = undefined
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
}

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
