import { KeelError } from '../errors/index.ts'
import type { Guard } from './guard.ts'
import type { HttpMethod, RouteDefinition, RouteHandler } from './route.ts'
import type { RouteOptions, RouteSchema, TypedHandler } from './route-schema.ts'
import { typedHandler } from './typed-route.ts'
import type { TypedRoute } from './typed-route-ref.ts'

/** Options of a route group: what every route in it shares. */
export interface GroupOptions {
  guards?: readonly Guard[]
  tags?: readonly string[]
}

/** What routes added through a builder inherit. */
export interface RouteScope {
  prefix: string
  guards: readonly Guard[]
  tags: readonly string[]
}

/**
 * The route verbs shared by the app and its groups. A route is untyped (`get(path, handler)`)
 * or typed (`get(path, { params, query, headers, body, response, ... }, handler)`), in which case
 * its inputs are validated and its output serialized through its schemas.
 */
export abstract class RouteBuilder {
  /** Registers a finished route definition. */
  protected abstract addRoute(definition: RouteDefinition): void
  /** The scope routes added here inherit. */
  protected abstract get scope(): RouteScope
  /** Largest JSON body when a route does not set its own. */
  protected abstract get bodyLimitBytes(): number

  get(path: string, handler: RouteHandler): this
  get<const S extends RouteSchema>(path: string, options: RouteOptions<S>, handler: TypedHandler<S>): this
  get(path: string, a: RouteHandler | RouteOptions, b?: unknown): this {
    return this.#verb('GET', path, a, b)
  }

  post(path: string, handler: RouteHandler): this
  post<const S extends RouteSchema>(path: string, options: RouteOptions<S>, handler: TypedHandler<S>): this
  post(path: string, a: RouteHandler | RouteOptions, b?: unknown): this {
    return this.#verb('POST', path, a, b)
  }

  put(path: string, handler: RouteHandler): this
  put<const S extends RouteSchema>(path: string, options: RouteOptions<S>, handler: TypedHandler<S>): this
  put(path: string, a: RouteHandler | RouteOptions, b?: unknown): this {
    return this.#verb('PUT', path, a, b)
  }

  patch(path: string, handler: RouteHandler): this
  patch<const S extends RouteSchema>(path: string, options: RouteOptions<S>, handler: TypedHandler<S>): this
  patch(path: string, a: RouteHandler | RouteOptions, b?: unknown): this {
    return this.#verb('PATCH', path, a, b)
  }

  delete(path: string, handler: RouteHandler): this
  delete<const S extends RouteSchema>(path: string, options: RouteOptions<S>, handler: TypedHandler<S>): this
  delete(path: string, a: RouteHandler | RouteOptions, b?: unknown): this {
    return this.#verb('DELETE', path, a, b)
  }

  /** Adds a route definition as is (no prefix, no guards added). The verbs and groups build on this. */
  route(definition: RouteDefinition): this
  /** Registers a route defined with `defineRoute`, under this builder's prefix and guards. */
  route<S extends RouteSchema>(route: TypedRoute<S>): this
  route(definition: RouteDefinition | TypedRoute): this {
    if ('options' in definition) {
      return this.#verb(
        definition.method,
        definition.path,
        definition.options as RouteOptions,
        definition.handler,
        definition,
      )
    }
    this.addRoute(definition)
    return this
  }

  /**
   * Routes under a common prefix sharing guards and tags.
   *
   * @example
   * ```ts
   * app.group('/api/v1', { guards: [auth.required()] }, (api) => {
   *   api.get('/me', (ctx) => ({ id: ctx.principal?.id }))
   * })
   * ```
   */
  group(prefix: string, options: GroupOptions, define: (group: RouteGroup) => void): this {
    if (!prefix.startsWith('/') || prefix.endsWith('/')) {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `group prefix "${prefix}" must start with "/" and not end with one`,
      )
    }
    const outer = this.scope
    define(new RouteGroup((definition) => this.addRoute(definition), this.bodyLimitBytes, {
      prefix: outer.prefix + prefix,
      guards: [...outer.guards, ...(options.guards ?? [])],
      tags: [...outer.tags, ...(options.tags ?? [])],
    }))
    return this
  }

  #verb(method: HttpMethod, path: string, a: RouteHandler | RouteOptions, b: unknown, ref?: object): this {
    const scope = this.scope
    const fullPath = scope.prefix + path
    if (typeof a === 'function') {
      const schema = scope.tags.length > 0 ? { tags: scope.tags } : undefined
      this.addRoute({ method, path: fullPath, handler: a, guards: scope.guards, schema })
      return this
    }
    if (a === null || typeof a !== 'object' || typeof b !== 'function') {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `route ${method} ${fullPath}: expected (path, handler) or (path, options, handler)`,
      )
    }
    const options: RouteOptions = { ...a, tags: [...scope.tags, ...(a.tags ?? [])] }
    this.addRoute({
      method,
      path: fullPath,
      handler: typedHandler(options, b as (ctx: never) => unknown, this.bodyLimitBytes),
      guards: [...scope.guards, ...(options.guards ?? [])],
      schema: options,
      ...(ref ? { ref } : {}),
    })
    return this
  }
}

/** Routes defined inside `app.group()`. */
export class RouteGroup extends RouteBuilder {
  readonly #add: (definition: RouteDefinition) => void
  readonly #bodyLimitBytes: number
  readonly #scope: RouteScope

  constructor(add: (definition: RouteDefinition) => void, bodyLimitBytes: number, scope: RouteScope) {
    super()
    this.#add = add
    this.#bodyLimitBytes = bodyLimitBytes
    this.#scope = scope
  }

  protected addRoute(definition: RouteDefinition): void {
    this.#add(definition)
  }

  protected get scope(): RouteScope {
    return this.#scope
  }

  protected get bodyLimitBytes(): number {
    return this.#bodyLimitBytes
  }
}
