import FindMyWay from 'find-my-way'
import { KeelError } from '../errors/index.ts'
import { type HttpMethod, httpMethods, type RouteDefinition } from './route.ts'

/** A matched route, or the methods the path allows when the method did not match. */
export type RouteMatch =
  | { found: true; route: RouteDefinition; params: Record<string, string | undefined> }
  | { found: false; allowed: HttpMethod[] }

/** Route table on find-my-way (a radix tree): templates with `:params` and `*` wildcards. */
export class Router {
  readonly #tree = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 500 })
  readonly #routes: RouteDefinition[] = []

  add(route: RouteDefinition): void {
    if (!httpMethods.includes(route.method)) {
      throw new KeelError('KEEL_ROUTE_INVALID', `route ${route.path}: unknown method "${route.method}"`)
    }
    if (typeof route.path !== 'string' || !route.path.startsWith('/')) {
      throw new KeelError('KEEL_ROUTE_INVALID', `route ${String(route.path)}: path must start with "/"`)
    }
    if (typeof route.handler !== 'function') {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `route ${route.method} ${route.path}: handler must be a function`,
      )
    }
    if (this.#tree.hasRoute(route.method, route.path)) {
      throw new KeelError('KEEL_ROUTE_INVALID', `route ${route.method} ${route.path} is already defined`)
    }
    this.#tree.on(route.method, route.path, () => {}, route)
    this.#routes.push(route)
  }

  find(method: string, path: string): RouteMatch {
    const hit = this.#tree.find(method as HttpMethod, path)
    if (hit) return { found: true, route: hit.store as RouteDefinition, params: hit.params }
    if (method === 'HEAD') {
      const get = this.#tree.find('GET', path)
      if (get) return { found: true, route: get.store as RouteDefinition, params: get.params }
    }
    const allowed = httpMethods.filter((m) => m !== method && this.#tree.find(m, path))
    return { found: false, allowed }
  }

  /** Every route, in the order added. */
  list(): readonly RouteDefinition[] {
    return this.#routes
  }
}
