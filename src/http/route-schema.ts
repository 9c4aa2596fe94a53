import type { IncomingHttpHeaders } from 'node:http'
import type { Static, TObject, TSchema } from '@sinclair/typebox'
import type { Guard } from './guard.ts'
import type { RequestContext } from './route.ts'

/** The schemas of a typed route. Every part is optional; a declared part is validated. */
export interface RouteSchema {
  /** Path parameters (`/users/:id` → `{ id }`); strings coerced to the declared types. */
  params?: TObject
  /** Query parameters; unknown ones are rejected unless `allowUnknown.query`. */
  query?: TObject
  /** Request headers, named in lower case; other headers pass. */
  headers?: TObject
  /** The JSON body; unknown fields are rejected unless `allowUnknown.body`. */
  body?: TSchema
  /** Response bodies by status; fields a schema does not declare are never sent. */
  response?: { readonly [status: number]: TSchema }
}

/** What a route says about itself besides schemas: docs, guards and relaxations. */
export interface RouteInfo {
  summary?: string
  description?: string
  tags?: readonly string[]
  operationId?: string
  deprecated?: boolean
  /** Guards for this route, after the app's and the group's. */
  guards?: readonly Guard[]
  /**
   * Accept undeclared query parameters or body fields (fail closed by default). Without a `body`
   * schema, `body: true` also lets a request carry a body for the handler to read from `ctx.req`.
   */
  allowUnknown?: { query?: boolean; body?: boolean }
  /** Largest accepted body. Default: `http.bodyLimitBytes`. */
  bodyLimitBytes?: number
  /**
   * Error statuses the handler itself answers (by throwing an `HttpError`), for OpenAPI: each is
   * documented as problem details. Keel documents on its own what validation, guards and path
   * parameters answer.
   */
  problems?: readonly DocumentedProblemStatus[]
}

/** Statuses a route can declare in `problems`. */
export type DocumentedProblemStatus = 400 | 401 | 403 | 404 | 409 | 410 | 422 | 429 | 503

/** Options of a typed route: its schemas and its info. */
export type RouteOptions<S extends RouteSchema = RouteSchema> = S & RouteInfo

type StaticOr<T, Otherwise> = T extends TSchema ? Static<T> : Otherwise

/** The body a handler may return: any declared response, or nothing (204). */
export type ResponseBody<S extends RouteSchema> = S['response'] extends infer R extends {
  readonly [status: number]: TSchema
}
  ? { [K in keyof R]: R[K] extends TSchema ? Static<R[K]> : never }[keyof R]
  : unknown

/** The context of a typed route: params, query, headers and body typed by its schemas. */
export interface TypedContext<S extends RouteSchema>
  extends Omit<RequestContext, 'params' | 'query' | 'headers' | 'body'> {
  readonly params: StaticOr<S['params'], Readonly<Record<string, string | undefined>>>
  readonly query: StaticOr<S['query'], Readonly<Record<string, string | string[]>>>
  readonly headers: StaticOr<S['headers'], IncomingHttpHeaders>
  readonly body: StaticOr<S['body'], undefined>
}

/** A typed route's handler; returns a declared response body (or nothing). */
export type TypedHandler<S extends RouteSchema> = (
  ctx: TypedContext<S>,
) => ResponseBody<S> | undefined | Promise<ResponseBody<S> | undefined>
