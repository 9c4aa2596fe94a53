import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../log/index.ts'
import type { ServerSpan } from '../telemetry/index.ts'
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
  #query: URLSearchParams | undefined

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
  ) {
    this.definition = definition
  }

  get route(): string {
    return this.definition?.path ?? ''
  }

  get query(): URLSearchParams {
    if (!this.#query) {
      const q = this.url.indexOf('?')
      this.#query = new URLSearchParams(q === -1 ? '' : this.url.slice(q + 1))
    }
    return this.#query
  }

  header(name: string, value: string | number | readonly string[]): void {
    this.res.setHeader(name, value)
  }
}
