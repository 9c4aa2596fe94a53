import { type IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { type Server, type WebSocket, WebSocketServer } from 'ws'
import { type Logger, runWithContext } from '../log/index.ts'
import { requestLogContext } from '../telemetry/index.ts'
import { Exchange } from './exchange.ts'
import { type Guard, type Handler, withGuards } from './guard.ts'
import { HttpError, isHttpError } from './http-error.ts'
import type { HttpServer } from './http-server.ts'
import { MeteredWebSocket } from './metered-websocket.ts'
import { type ProblemDetails, problem, problemFromError } from './problem.ts'
import type { RouteDefinition } from './route.ts'
import type { Router } from './router.ts'
import { isWebSocketUpgrade, refuseUpgrade } from './upgrade-refusal.ts'
import { WebSocketConnection } from './websocket-connection.ts'
import {
  NOT_FOUND_ROUTE,
  upgradeRefusal,
  type WebSocketRouteMetrics,
  webSocketRouteMetrics,
} from './websocket-metrics.ts'

/** Options of a WebSocket route. */
export interface WebSocketRouteOptions {
  /** Guards run on the upgrade request, after the app-wide ones; one that throws refuses the upgrade. */
  guards?: readonly Guard[]
  /** Largest message accepted; a larger one closes the connection with 1009. Default 1 MiB. */
  maxPayloadBytes?: number
  /**
   * Pings every this many ms; a peer that did not answer the previous ping is terminated.
   * Default 30 000; 0 turns liveness checks off.
   */
  pingIntervalMs?: number
}

/** Runs once per accepted connection; a throw or rejection closes it with 1011. */
export type WebSocketHandler = (connection: WebSocketConnection) => void | Promise<void>

/** What {@link WebSocketEndpoints} needs from the app. */
export interface WebSocketEndpointsOptions {
  /** The server whose `upgrade` events it answers and whose closing it follows. */
  server: HttpServer
  /** The app's route table: WebSocket routes are GET routes in it, so paths, params and 404s agree. */
  router: Router
  /** Logger for connection lines (opened, refused, closed). */
  log: Logger
  /** Logger handed to guards and, bound to the request id, to connections. */
  handlerLog: Logger
  clientIp?: (req: IncomingMessage) => string
  /** While true (the app is starting), upgrades are refused with 503, as HTTP routes are. */
  isStarting?: () => boolean
}

interface Endpoint {
  handler: WebSocketHandler
  wss: Server<typeof MeteredWebSocket>
  pingIntervalMs: number
  metrics: WebSocketRouteMetrics
}

export const DEFAULT_WS_MAX_PAYLOAD_BYTES = 1_048_576
const DEFAULT_PING_INTERVAL_MS = 30_000
/** What the innermost "handler" of an upgrade's guard chain returns: every guard said yes. */
const ACCEPTED = Symbol('accepted')
const accept: Handler = () => ACCEPTED

/**
 * The WebSocket routes of one HTTP server. It answers the server's `upgrade` events: the path is
 * matched in the app's router (an unknown path is a 404 problem and the socket closes), the
 * app-wide and route guards run on the upgrade request (an {@link HttpError} becomes that status
 * and the socket closes, nothing upgraded), then `ws` completes the handshake with the route's
 * payload limit. Open connections are pinged, and closed with 1001 (going away) when the
 * server starts closing in the shutdown's `http` phase.
 *
 * Each upgrade gets a SERVER span `WS <route>` (when tracing is on) that ends when the upgrade
 * is accepted (status 101) or refused, with `keel.websocket.outcome`. The `keel_ws_*` metrics
 * count open connections, messages each way and refusals by reason, per route.
 *
 * Upgrade requests for other protocols (`h2c`) are served as ordinary HTTP/1.1 requests.
 */
export class WebSocketEndpoints {
  readonly #options: WebSocketEndpointsOptions
  readonly #endpoints = new Map<string, Endpoint>()
  readonly #chains = new WeakMap<RouteDefinition, Handler>()
  readonly #open = new Set<WebSocket>()
  readonly #requestIds = new WeakMap<IncomingMessage, string>()
  /** Refusals of paths no WebSocket route matches. */
  readonly #unmatched: WebSocketRouteMetrics

  constructor(options: WebSocketEndpointsOptions) {
    this.#options = options
    this.#unmatched = webSocketRouteMetrics(options.server.registry, NOT_FOUND_ROUTE)
    options.server.server.on('upgrade', this.#onUpgrade)
    options.server.closing.addEventListener('abort', () => this.#goAway(), { once: true })
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.#open.size
  }

  /**
   * The route to add for a WebSocket endpoint: a GET route (so it appears in the app description
   * and a plain GET gets 426 Upgrade Required) whose upgrades this object answers.
   */
  route(path: string, options: WebSocketRouteOptions, handler: WebSocketHandler): RouteDefinition {
    const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_WS_MAX_PAYLOAD_BYTES
    const pingIntervalMs = options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS
    const wss = new WebSocketServer({
      WebSocket: MeteredWebSocket,
      noServer: true,
      clientTracking: false,
      maxPayload: maxPayloadBytes,
      perMessageDeflate: false,
    })
    wss.on('headers', (headers, req) => {
      const requestId = this.#requestIds.get(req)
      const header = this.#options.server.appWide().settings.requestId.header
      if (requestId && header) headers.push(`${header}: ${requestId}`)
    })
    const metrics = webSocketRouteMetrics(this.#options.server.registry, path)
    this.#endpoints.set(path, { handler, wss, pingIntervalMs, metrics })
    return {
      method: 'GET',
      path,
      handler: upgradeRequired,
      guards: options.guards ?? [],
      meta: { websocket: { maxPayloadBytes, pingIntervalMs } },
    }
  }

  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // Node leaves an upgrading socket without an error listener; a reset must not crash the process.
    const onError = () => socket.destroy()
    socket.on('error', onError)
    if (isWebSocketUpgrade(req)) this.#upgrade(req, socket, head, onError)
    else this.#serveAsHttp(req, socket)
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, onError: () => void): void {
    const ids = this.#options.server.appWide().settings.requestId
    const requestId = ids.idFor(req)
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const match = this.#options.router.find('GET', path)
    const endpoint = match.found ? this.#endpoints.get(match.route.path) : undefined
    const route = endpoint && match.found ? match.route.path : undefined
    const metrics = endpoint?.metrics ?? this.#unmatched
    // One SERVER span per upgrade, ended as soon as the upgrade is accepted or refused. The
    // connection's lifetime is deliberately not a span: it may last hours, a span is exported
    // only when it ends (so a crash loses it), and a span that long would dwarf every other in
    // its trace. Its life is in the keel_ws_* metrics and the "websocket closed" log line.
    const tracing = this.#options.server.tracing
    // Internal routes (the inspector's live feed) are not traced, as internal HTTP routes are not.
    const isInternal = match.found && match.route.internal === true
    const span =
      tracing.enabled && !isInternal ? tracing.startServerSpan('GET', path, req.headers, 'WS') : undefined
    let isSettled = false
    const settle = (status: number, outcome: string, error?: unknown) => {
      if (isSettled) return
      isSettled = true
      span?.span.setAttribute('keel.websocket.outcome', outcome)
      span?.end(status, route, error)
    }
    const refuse = (details: ProblemDetails, headers?: OutgoingHttpHeaders, error?: unknown) => {
      const reason = upgradeRefusal(details.status)
      metrics.refused.count(reason)
      settle(details.status, reason, error)
      details.requestId = requestId
      this.#options.log.info(
        { path, status: details.status, reason, request_id: requestId },
        'websocket upgrade refused',
      )
      refuseUpgrade(socket, details, { [ids.header]: requestId, ...headers })
    }
    const retry = { 'retry-after': '1' }
    if (this.#options.server.closing.aborted) {
      refuse(shuttingDown(), retry)
      return
    }
    if (this.#options.isStarting?.()) {
      refuse(problem('KEEL_NOT_READY', 503, 'the app is starting'), retry)
      return
    }
    if (!match.found || !endpoint) {
      refuse(problem('KEEL_NOT_FOUND', 404, `no WebSocket route for ${path}`))
      return
    }
    const exchange = new Exchange(
      req,
      new ServerResponse(req),
      'GET',
      url,
      path,
      match.route,
      match.params,
      requestId,
      this.#options.handlerLog,
      performance.now(),
      this.#options.clientIp ?? ((r) => r.socket.remoteAddress ?? ''),
    )
    exchange.span = span
    const chain = this.#chainFor(match.route)
    const context = requestLogContext(requestId, span, req.headers.traceparent as string | undefined)
    const completeHandshake = () => {
      this.#requestIds.set(req, requestId)
      socket.off('error', onError)
      let isAccepted = false
      endpoint.wss.handleUpgrade(req, socket, head, (ws) => {
        isAccepted = true
        settle(101, 'accepted')
        this.#accepted(endpoint, exchange, ws, context.traceId)
      })
      // Without verifyClient, ws completes or aborts a handshake synchronously: no call back means
      // it answered 400 itself (a malformed handshake) or the client was already gone.
      if (!isAccepted) {
        metrics.refused.count('client_error')
        settle(400, 'client_error')
      }
    }
    // The guards, the acceptance and the handler's synchronous part run in the upgrade's context
    // (the span, and the request id and trace id of log lines).
    const run = () =>
      Promise.resolve()
        .then(() => chain(exchange))
        .then(
          (outcome) => {
            if (socket.destroyed) {
              // The client left while the guards ran: nothing to answer (499 as nginx logs it).
              settle(499, 'client_gone')
              return
            }
            if (outcome !== ACCEPTED) {
              // A guard answered without calling next(): it did not let the upgrade through.
              refuse(problem('KEEL_FORBIDDEN', 403, 'a guard refused the upgrade'), exchange.res.getHeaders())
            } else if (this.#options.server.closing.aborted) {
              refuse(shuttingDown(), retry)
            } else {
              completeHandshake()
            }
          },
          (error) => {
            const details = problemFromError(error)
            if (details.status >= 500) {
              this.#options.log.error({ err: error, path, request_id: requestId }, 'websocket upgrade failed')
            }
            const own = isHttpError(error) ? error.headers : undefined
            refuse(details, { ...exchange.res.getHeaders(), ...own }, error)
          },
        )
    const upgrade = span ? span.run(run, context) : runWithContext(context, run)
    upgrade.catch((error: unknown) => {
      // Refusing or upgrading can itself fail (the socket died meanwhile): never let it escape.
      this.#options.log.error({ err: error, path, request_id: requestId }, 'websocket upgrade failed')
      settle(500, 'error', error)
      socket.destroy()
    })
  }

  /** App-wide guards, then the route's, around the acceptance; composed once per route. */
  #chainFor(route: RouteDefinition): Handler {
    let chain = this.#chains.get(route)
    if (!chain) {
      chain = withGuards([...this.#options.server.appWide().guards, ...(route.guards ?? [])], accept)
      this.#chains.set(route, chain)
    }
    return chain
  }

  #accepted(endpoint: Endpoint, upgrade: Exchange, ws: MeteredWebSocket, traceId: string): void {
    const { requestId, route } = upgrade
    // Socket events run outside the upgrade's context: the ids ride on the logger instead.
    const log = this.#options.handlerLog.child({ request_id: requestId, trace_id: traceId })
    const connection = new WebSocketConnection(ws, upgrade, log)
    const openedAt = performance.now()
    const { metrics } = endpoint
    this.#open.add(ws)
    metrics.open.inc()
    ws.sentCounter = metrics.sent
    ws.on('message', () => metrics.received.inc())
    let timer: NodeJS.Timeout | undefined
    if (endpoint.pingIntervalMs > 0) {
      let isAlive = true
      ws.on('pong', () => {
        isAlive = true
      })
      timer = setInterval(() => {
        if (!isAlive) {
          this.#options.log.info({ route, request_id: requestId }, 'websocket peer did not answer ping')
          ws.terminate()
          return
        }
        isAlive = false
        ws.ping()
      }, endpoint.pingIntervalMs)
      timer.unref()
    }
    // ws reports protocol errors (a message over maxPayload, bad frames) here, then closes.
    ws.on('error', (error) => log.info({ err: error }, 'websocket error'))
    ws.once('close', (code, reason) => {
      clearInterval(timer)
      this.#open.delete(ws)
      metrics.open.inc(-1)
      this.#options.log.info(
        {
          route,
          request_id: requestId,
          code,
          reason: reason.toString(),
          durationMs: Math.round(performance.now() - openedAt),
        },
        'websocket closed',
      )
    })
    this.#options.log.info({ route, path: upgrade.path, request_id: requestId }, 'websocket opened')
    const fail = (error: unknown) => {
      log.error({ err: error, route }, 'websocket handler failed')
      if (connection.isOpen) ws.close(1011, 'internal error')
    }
    try {
      const result = endpoint.handler(connection)
      if (result instanceof Promise) result.catch(fail)
    } catch (error) {
      fail(error)
    }
  }

  /** The server is closing: every connection is told the server is going away. */
  #goAway(): void {
    for (const ws of this.#open) ws.close(1001, 'server shutting down')
  }

  /**
   * Node hands every Upgrade request to the `upgrade` listener once there is one. One that is not
   * for WebSocket (curl's `--http2` sends `Upgrade: h2c`) is answered as plain HTTP/1.1 through the
   * normal pipeline, on a response bound to the socket, which then closes. Its body cannot be
   * read (the parser is gone), so requests that carry one are refused with 400.
   */
  #serveAsHttp(req: IncomingMessage, socket: Duplex): void {
    const length = req.headers['content-length']
    if ((length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined) {
      refuseUpgrade(
        socket,
        problem('KEEL_BAD_REQUEST', 400, `cannot upgrade to ${req.headers.upgrade} with a request body`),
      )
      return
    }
    const res = new ServerResponse(req)
    res.shouldKeepAlive = false
    // assignSocket/detachSocket are what node:http itself uses to bind a response to a socket.
    res.assignSocket(socket as never)
    res.once('finish', () => {
      res.detachSocket(socket as never)
      socket.end()
    })
    this.#options.server.handle(req, res)
  }
}

const shuttingDown = () => problem('KEEL_NOT_READY', 503, 'the server is shutting down')

/** A plain GET on a WebSocket route. */
function upgradeRequired(): never {
  throw new HttpError(
    426,
    'KEEL_UPGRADE_REQUIRED',
    'this path speaks WebSocket: send the request with Upgrade: websocket',
    { title: 'Upgrade Required' },
    { upgrade: 'websocket' },
  )
}
