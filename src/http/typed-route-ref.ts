import type { Static, TSchema } from '@sinclair/typebox'
import { KeelError } from '../errors/index.ts'
import type { HttpMethod } from './route.ts'
import type { RouteOptions, RouteSchema, TypedHandler } from './route-schema.ts'

/**
 * A typed route as a value: defined once with {@link defineRoute}, registered with
 * `app.route(route)` (or `group.route(route)`), and called in tests with `app.inject(route,
 * input)`, whose input and response are typed by the route's schemas.
 */
export interface TypedRoute<S extends RouteSchema = RouteSchema> {
  readonly method: HttpMethod
  /** The path as defined; a group adds its prefix when the route is registered there. */
  readonly path: string
  readonly options: RouteOptions<S>
  readonly handler: TypedHandler<S>
  /** The schemas alone (the same object as `options`): what requests and responses are typed by. */
  readonly schema: S
}

/** Any typed route, whatever its schemas. */
// biome-ignore lint/suspicious/noExplicitAny: the schema type is erased on purpose here
export type AnyTypedRoute = TypedRoute<any>

/**
 * Defines a typed route without registering it, so tests can call it by reference.
 *
 * @example
 * ```ts
 * export const getUser = defineRoute('GET', '/users/:id', {
 *   params: Type.Object({ id: Type.Integer() }),
 *   response: { 200: User },
 * }, (ctx) => users.get(ctx.params.id))
 * app.route(getUser)
 * // in a test:
 * const res = await app.inject(getUser, { params: { id: 42 } })
 * if (res.isDeclared && res.status === 200) res.body.name // typed as User['name']
 * ```
 */
export function defineRoute<const S extends RouteSchema>(
  method: HttpMethod,
  path: string,
  options: RouteOptions<S>,
  handler: TypedHandler<S>,
): TypedRoute<S> {
  if (typeof handler !== 'function' || options === null || typeof options !== 'object') {
    throw new KeelError(
      'KEEL_ROUTE_INVALID',
      `route ${method} ${path}: expected (method, path, options, handler)`,
    )
  }
  return Object.freeze({ method, path, options, handler, schema: options })
}

type Part<T, K extends string, Required extends boolean> = T extends TSchema
  ? Required extends true
    ? { readonly [P in K]: Static<T> }
    : { readonly [P in K]?: Static<T> }
  : { readonly [P in K]?: undefined }

/** What {@link TypedRoute} requests carry: params and body are required when the route declares them. */
export type RouteInput<S extends RouteSchema> = Part<S['params'], 'params', true> &
  Part<S['query'], 'query', false> &
  Part<S['body'], 'body', true> & { readonly headers?: Readonly<Record<string, string>> }

/** A response with a status the route declares, its body typed by that status's schema. */
export type DeclaredResponse<S extends RouteSchema> = S['response'] extends infer R extends {
  readonly [status: number]: TSchema
}
  ? {
      [K in keyof R & number]: {
        readonly isDeclared: true
        readonly status: K
        readonly headers: Readonly<Record<string, string | string[] | undefined>>
        readonly body: Static<R[K]>
      }
    }[keyof R & number]
  : never

/** Any other response: an error as problem details, or a status the route does not declare. */
export interface UndeclaredResponse {
  readonly isDeclared: false
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  /** Parsed JSON (problem details for errors), text, or undefined when empty. */
  readonly body: unknown
}

/** The response of a typed request; narrow with `isDeclared`, then `status`. */
export type RouteResponse<S extends RouteSchema> = DeclaredResponse<S> | UndeclaredResponse

/** The request target of `route` at `path` (its registered path) with `input`'s params and query. */
export function routeTarget(path: string, input: { params?: unknown; query?: unknown }): string {
  const params = (input.params ?? {}) as Record<string, unknown>
  const filled = path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const value = params[name]
    if (value === undefined || value === null) {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `${path}: the request has no value for path parameter "${name}"`,
      )
    }
    return encodeURIComponent(String(value))
  })
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries((input.query ?? {}) as Record<string, unknown>)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) query.append(name, String(item))
  }
  const search = query.toString()
  return search ? `${filled}?${search}` : filled
}

/** A response as {@link RouteResponse}: declared when the route's schema names its status. */
export function routeResponse<S extends RouteSchema>(
  route: { readonly options: RouteOptions<S> },
  status: number,
  headers: Readonly<Record<string, string | string[] | undefined>>,
  text: string,
): RouteResponse<S> {
  const type = String(headers['content-type'] ?? '')
  const body = text === '' ? undefined : /json/.test(type) ? JSON.parse(text) : text
  const isDeclared = route.options.response !== undefined && status in route.options.response
  return { isDeclared, status, headers, body } as RouteResponse<S>
}

/**
 * Calls a typed route of a listening app over HTTP (`fetch`), with the same typed input and
 * response as `app.inject(route, input)`. `prefix` is the group prefix the route was registered
 * under, if any.
 */
export async function requestRoute<R extends AnyTypedRoute>(
  baseUrl: string,
  route: R,
  input: RouteInput<R['schema']>,
  options: { prefix?: string; signal?: AbortSignal } = {},
): Promise<RouteResponse<R['schema']>> {
  const hasBody = (input as { body?: unknown }).body !== undefined
  const response = await fetch(new URL(routeTarget((options.prefix ?? '') + route.path, input), baseUrl), {
    method: route.method,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...input.headers },
    ...(hasBody ? { body: JSON.stringify((input as { body: unknown }).body) } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return routeResponse<R['schema']>(
    route,
    response.status,
    Object.fromEntries(response.headers),
    await response.text(),
  )
}
