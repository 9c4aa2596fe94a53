import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../log/index.ts'
import type { Guard } from './guard.ts'
import type { Principal } from './principal.ts'
import type { RouteInfo, RouteSchema } from './route-schema.ts'

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const
export type HttpMethod = (typeof httpMethods)[number]

/** What a route handler gets: the raw request/response plus what Keel already knows. */
export interface RequestContext {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly method: string
  /** Path without the query string. */
  readonly path: string
  /** The route template that matched (`/users/:id`). */
  readonly route: string
  readonly params: Readonly<Record<string, string | undefined>>
  /** Query parameters, parsed on first access; a repeated name gives an array. */
  readonly query: Readonly<Record<string, string | string[]>>
  readonly headers: IncomingHttpHeaders
  /** The parsed and validated body of a typed route with a body schema; otherwise undefined. */
  readonly body: unknown
  /** The client's address: the socket's, or the first untrusted hop of X-Forwarded-For when the peer is a trusted proxy. */
  readonly ip: string
  /** Who sent the request, once an auth guard has verified it. */
  principal: Principal | undefined
  readonly requestId: string
  /** The app logger; lines carry `request_id` and `trace_id` automatically. */
  readonly log: Logger
  /**
   * Aborted when the client disconnects before the response is finished, or when a `timeout()`
   * guard gives up on the handler (its `reason` is then the 504 `KEEL_TIMEOUT` error). Pass it to
   * `fetch`, database queries and timers so abandoned work stops. Created on first access.
   */
  readonly signal: AbortSignal
  /** Response status for a returned body. Default 200 (204 when the handler returns nothing). */
  status: number
  /** Sets a response header. */
  header(name: string, value: string | number | readonly string[]): void
}

/**
 * A handler returns the response body: an object or array is sent as JSON, a string as text,
 * a Buffer as bytes, `undefined` as 204 No Content. A handler that writes to `res` itself
 * returns nothing and ends the response.
 */
export type RouteHandler = (ctx: RequestContext) => unknown | Promise<unknown>

/** A route as the router and the app description know it. */
export interface RouteDefinition {
  method: HttpMethod
  path: string
  handler: RouteHandler
  /**
   * Internal routes (probes, metrics, the OpenAPI routes) are not traced, log at debug, are left
   * out of the OpenAPI document, and skip the app-wide guards unless `appGuards` is set.
   */
  internal?: boolean
  /**
   * Run an internal route inside the app-wide guards anyway. Probes and metrics do not (an IP
   * filter or a rate limit must never fail a kubelet's probe or a scrape); the OpenAPI document
   * and docs page do: they show the API, so whatever guards the API guards them.
   */
  appGuards?: boolean
  /** Free-form facts for the app description; capabilities add theirs. */
  meta?: Record<string, unknown>
  /** Guards around this route (group's, then route's); app-wide guards wrap them. */
  guards?: readonly Guard[]
  /** Schemas and docs of a typed route, for OpenAPI and the inspector. */
  schema?: RouteSchema & RouteInfo
  /** The route value it was registered from (`app.route(ref)`), so `app.inject(ref)` finds its path. */
  ref?: object
}
