import { KeelError } from '../errors/index.ts'
import type { HttpServer } from '../http/http-server.ts'
import type { RouteDefinition } from '../http/route.ts'
import { RouteGroup } from '../http/route-builder.ts'
import { Router } from '../http/router.ts'
import type { WebSocketEndpoints, WebSocketHandler, WebSocketRouteOptions } from '../http/websocket.ts'

/** Options of a WebSocket route on an {@link OwnPort}: as `app.ws()`, internal or not. */
export interface OwnPortWebSocketOptions extends WebSocketRouteOptions {
  internal?: boolean
}

/** What an {@link OwnPort} gets from the app that made it. */
export interface OwnPortParts {
  /** Listener name: the port's name in `app.describe().ports` and Kubernetes manifests. */
  name: string
  port: number
  /** The config key the port came from, named when it cannot be bound. */
  configKey: string
  /** The app's route preparation (state check, guard attachment, 503 while starting). */
  prepare: (definition: RouteDefinition) => RouteDefinition
  bodyLimitBytes: number
  /** A server with the app's pipeline on this port's router. */
  makeServer: (router: Router) => HttpServer
  /** WebSocket endpoints on that server. */
  makeWebSockets: (server: HttpServer, router: Router) => WebSocketEndpoints
}

/**
 * Whether a configured port (`metrics.port`, `inspector.port`) means a listener of its own: set,
 * and not the app's port. 0 asks for any free port, which is never the app's.
 */
export function isOwnPort(port: number | null, appPort: number): port is number {
  return port !== null && (port === 0 || port !== appPort)
}

/** Kubernetes port names: lowercase letters, digits and '-', at most 15 characters. */
const portName = /^[a-z](?:[a-z0-9-]{0,13}[a-z0-9])?$/

/**
 * Routes served on a listener of their own, beside the app's server (see `app.ownPort()`): the
 * same pipeline (request ids, problem details, RED metrics, access log, TLS when configured), but
 * a separate route table, so nothing added here answers on the app's port and nothing of the
 * app's answers here. App-wide guards do not run here.
 */
export class OwnPort extends RouteGroup {
  readonly name: string
  readonly port: number
  readonly configKey: string
  readonly server: HttpServer
  readonly #router: Router
  readonly #parts: OwnPortParts
  #webSockets: WebSocketEndpoints | undefined

  constructor(parts: OwnPortParts) {
    if (!portName.test(parts.name)) {
      throw new KeelError(
        'KEEL_ROUTE_INVALID',
        `own port "${parts.name}": the name must be lowercase letters, digits and "-", at most 15 characters (a Kubernetes port name)`,
      )
    }
    const router = new Router()
    super((definition) => router.add(parts.prepare(definition)), parts.bodyLimitBytes, {
      prefix: '',
      guards: [],
      tags: [],
    })
    this.name = parts.name
    this.port = parts.port
    this.configKey = parts.configKey
    this.#router = router
    this.#parts = parts
    this.server = parts.makeServer(router)
  }

  /** A WebSocket route on this port, as `app.ws()` adds one on the app's. */
  ws(path: string, options: OwnPortWebSocketOptions, handler: WebSocketHandler): this {
    this.#webSockets ??= this.#parts.makeWebSockets(this.server, this.#router)
    const route = this.#webSockets.route(path, options, handler)
    this.route(options.internal ? { ...route, internal: true } : route)
    return this
  }

  /** Its routes, for the app description. */
  routes(): readonly RouteDefinition[] {
    return this.#router.list()
  }
}
