import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import { Server as NetServer, type Socket } from 'node:net'
import type { Registry } from 'prom-client'
import { KeelError } from '../errors/index.ts'
import { type Logger, redactUrl, runWithContext } from '../log/index.ts'
import type { HttpMetrics, Tracing } from '../telemetry/index.ts'
import { requestLogContext } from '../telemetry/index.ts'
import type { RouteRecorder } from '../telemetry/metrics.ts'
import { answerClientError } from './client-error.ts'
import { Exchange } from './exchange.ts'
import { type Guard, type Handler, withGuards } from './guard.ts'
import { HttpError, isHttpError } from './http-error.ts'
import { KeelResponse } from './keel-response.ts'
import { problemFromError, sendProblem } from './problem.ts'
import { sendBody } from './respond.ts'
import type { RequestContext, RouteDefinition } from './route.ts'
import type { Router } from './router.ts'
import { resolveServerSettings, type ServerSettings } from './server-settings.ts'
import { type SseMetrics, sseMetrics } from './sse-metrics.ts'
import { loadTlsFiles, type TlsFiles } from './tls.ts'

/** What the server needs from the app; getters because tracing exists only once started. */
export interface HttpServerOptions {
  router: Router
  /** Logger for the server's own lines (access log, failures). */
  log: Logger
  /** Logger handed to route handlers as `ctx.log`. */
  handlerLog: Logger
  metrics?: HttpMetrics
  /** The app's registry, for the metrics of SSE streams and WebSockets; none: they report nothing. */
  registry?: Registry
  tracing: () => Tracing
  accessLog: boolean
  keepAliveTimeoutMs: number
  requestTimeoutMs: number
  /** App-wide guards, read when the first request arrives (they are fixed once the app starts). */
  guards?: () => readonly Guard[]
  /** How to find the client's address (trusted proxies); default: the socket's peer. */
  clientIp?: (req: IncomingMessage) => string
  /** Serve HTTPS with these files; they are read and checked by `listen()`, not before. */
  tls?: TlsFiles
}

const socketAddress = (req: IncomingMessage) => req.socket.remoteAddress ?? ''

/**
 * The kernel's HTTP server: routes requests, gives each a request id, trace context and log
 * context, records RED metrics, turns errors into problem details, and drains gracefully.
 */
export class HttpServer {
  readonly server: Server
  readonly #options: HttpServerOptions
  readonly #sockets = new Set<Socket>()
  readonly #prepared = new WeakMap<RouteDefinition, PreparedRoute>()
  #unmatched: Handler | undefined
  /** App-wide guards minus the server-setting ones (requestId, accessLog), and what those set. */
  #appWide: { guards: readonly Guard[]; settings: ServerSettings } | undefined
  #isDraining = false
  readonly #closing = new AbortController()
  readonly #sseMetrics: SseMetrics | undefined

  constructor(options: HttpServerOptions) {
    this.#options = options
    this.#sseMetrics = options.registry ? sseMetrics(options.registry) : undefined
    // The same options and pipeline either way; an HTTPS server gets its certificate in listen().
    const create = (options.tls ? createHttpsServer : createServer) as typeof createServer
    this.server = create(
      {
        ServerResponse: KeelResponse,
        requestTimeout: options.requestTimeoutMs,
        headersTimeout: options.requestTimeoutMs,
        // Node checks those timeouts on this interval (30 s by default), so a short timeout needs
        // a shorter interval to be enforced anywhere near on time.
        connectionsCheckingInterval: Math.max(
          250,
          Math.min(30_000, Math.floor(options.requestTimeoutMs / 4)),
        ),
      },
      this.handle,
    )
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs
    this.server.on('clientError', answerClientError)
    this.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    })
  }

  /** Listens on host:port; a taken port becomes `KEEL_PORT_IN_USE` naming the port. */
  listen(port: number, host: string, what = 'server.port'): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
      if (this.#options.tls) (this.server as HttpsServer).setSecureContext(loadTlsFiles(this.#options.tls))
      const onError = (error: NodeJS.ErrnoException) => {
        this.server.off('listening', onListening)
        if (error.code === 'EADDRINUSE') {
          reject(
            new KeelError('KEEL_PORT_IN_USE', `${what}: port ${port} on ${host} is already in use`, {
              cause: error,
            }),
          )
        } else {
          reject(
            new KeelError(
              'KEEL_LISTEN_FAILED',
              `${what}: cannot listen on ${host}:${port}: ${error.code ?? error.message}`,
              { cause: error },
            ),
          )
        }
      }
      const onListening = () => {
        this.server.off('error', onError)
        const address = this.server.address()
        resolve({ port: typeof address === 'object' && address ? address.port : port, host })
      }
      this.server.once('error', onError)
      this.server.once('listening', onListening)
      this.server.listen(port, host)
    })
  }

  /** From now on every response carries `Connection: close`, so keep-alive clients move away cleanly. */
  beginDrain(): void {
    this.#isDraining = true
  }

  /**
   * Aborts when {@link close} begins, right after the listener stops accepting: long-lived
   * responses (SSE streams, WebSockets) end then, so their clients reconnect to another instance.
   */
  get closing(): AbortSignal {
    return this.#closing.signal
  }

  /** The app's metrics registry, when it gave one. */
  get registry(): Registry | undefined {
    return this.#options.registry
  }

  /** The app's tracing now (disabled until the app starts). */
  get tracing(): Tracing {
    return this.#options.tracing()
  }

  /** True when the server speaks HTTPS (`server.tls`). */
  get isTls(): boolean {
    return this.#options.tls !== undefined
  }

  /**
   * Stops accepting connections and waits for open ones to finish. Unlike `server.close()`, it
   * does not reset idle keep-alive sockets (a client may be sending on one right now); each
   * closes after its next response (which says `Connection: close`) or at the keep-alive timeout.
   * Sockets still open at `deadlineMs` are destroyed; the count is returned.
   */
  async close(deadlineMs: number): Promise<{ forced: number }> {
    this.beginDrain()
    const closed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve()
      NetServer.prototype.close.call(this.server, () => resolve())
    })
    this.#closing.abort()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), deadlineMs)
    })
    const outcome = await Promise.race([closed, deadline])
    clearTimeout(timer)
    if (outcome !== 'deadline') return { forced: 0 }
    const forced = this.#sockets.size
    for (const socket of this.#sockets) socket.destroy()
    await closed
    return { forced }
  }

  /** The request listener: the whole pipeline, usable without a socket (see `app.inject()`). */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => this.#onRequest(req, res)

  get openConnections(): number {
    return this.#sockets.size
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = performance.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const method = req.method ?? 'GET'
    const match = this.#options.router.find(method, path)
    const ids = this.appWide().settings.requestId
    const requestId = ids.idFor(req)
    if (res instanceof KeelResponse) {
      res.idHeader = ids.header
      res.id = requestId
    } else {
      res.setHeader(ids.header, requestId)
    }
    if (this.#isDraining) res.setHeader('connection', 'close')
    const exchange = new Exchange(
      req,
      res,
      method,
      url,
      path,
      match.found ? match.route : undefined,
      match.found ? match.params : {},
      requestId,
      this.#options.handlerLog,
      startedAt,
      this.#options.clientIp ?? socketAddress,
    )
    exchange.serverClosing = this.#closing.signal
    exchange.sseMetrics = this.#sseMetrics

    const tracing = this.#options.tracing()
    const span =
      tracing.enabled && !exchange.definition?.internal
        ? tracing.startServerSpan(method, path, req.headers, method, startedAt)
        : undefined
    exchange.span = span
    const context = requestLogContext(requestId, span, req.headers.traceparent as string | undefined)
    const allowed = match.found ? undefined : match.allowed
    if (span) span.run(this.#dispatchBound, context, exchange, allowed)
    else runWithContext(context, this.#dispatchBound, exchange, allowed)
  }

  readonly #dispatchBound = (exchange: Exchange, allowed: readonly string[] | undefined) =>
    this.#dispatch(exchange, allowed)

  /** Runs the handler; a handler that returns a plain value is answered without a promise. */
  #dispatch(exchange: Exchange, allowed: readonly string[] | undefined): void {
    const route = exchange.definition
    exchange.allowedMethods = allowed
    let handler: Handler
    if (route) {
      const prepared = this.#prepare(route)
      handler = prepared.handler
      // HEAD answered by a GET route is recorded as HEAD, under a recorder of its own.
      exchange.recorder =
        exchange.method === route.method
          ? prepared.recorder
          : this.#options.metrics?.route(exchange.method, route.path)
      // Probes and scrapes would otherwise always see themselves in flight.
      if (!route.internal) this.#options.metrics?.inFlight.inc()
    } else {
      this.#unmatched ??= withGuards(this.appWide().guards, unmatched)
      handler = this.#unmatched
    }
    let result: unknown
    try {
      result = handler(exchange)
    } catch (error) {
      this.#fail(exchange, error)
      return
    }
    if (isThenable(result)) {
      result.then(
        (body) => this.#respond(exchange, body),
        (error) => this.#fail(exchange, error),
      )
    } else {
      this.#respond(exchange, result)
    }
  }

  /**
   * The app-wide guards split into the per-request chain and the server settings
   * (`requestId`, `accessLog`), read once at the first request (they are fixed once the app
   * starts). WebSocket upgrades use the same split.
   */
  appWide(): { guards: readonly Guard[]; settings: ServerSettings } {
    this.#appWide ??= resolveServerSettings(this.#options.guards?.() ?? [])
    return this.#appWide
  }

  /**
   * What a route needs per request, made at its first request: its handler inside its guards
   * and the app-wide guards, and its metrics recorder. Unmatched requests go through the
   * app-wide guards too (a CORS preflight has no route; see #dispatch). Internal routes (probes,
   * metrics) skip app-wide guards, so an IP filter or a rate limit never fails a kubelet's probe;
   * those that set `appGuards` (the OpenAPI document and docs page) run inside them like any route.
   */
  #prepare(route: RouteDefinition): PreparedRoute {
    let prepared = this.#prepared.get(route)
    if (!prepared) {
      const outer = route.internal && !route.appGuards ? [] : this.appWide().guards
      prepared = {
        handler: withGuards([...outer, ...(route.guards ?? [])], route.handler),
        recorder: this.#options.metrics?.route(route.method, route.path),
      }
      this.#prepared.set(route, prepared)
    }
    return prepared
  }

  #respond(exchange: Exchange, body: unknown): void {
    const { res } = exchange
    if (!res.headersSent) {
      try {
        sendBody(res, exchange.status, body, exchange.textType)
      } catch (error) {
        // A body JSON cannot represent (a BigInt, a cycle) is the handler's bug: answer 500.
        this.#fail(exchange, error)
        return
      }
    } else if (!res.writableEnded) {
      // The handler streams the response itself; it is done when the response closes.
      res.once('close', () => this.#done(exchange))
      return
    }
    this.#done(exchange)
  }

  #fail(exchange: Exchange, error: unknown): void {
    exchange.error = error
    const { res } = exchange
    if (!res.headersSent) {
      const details = problemFromError(error)
      details.requestId = exchange.requestId
      // Only an HttpError chooses response headers; other errors (an HTTP client's, carrying
      // an upstream's headers) must not leak theirs.
      sendProblem(res, details, isHttpError(error) ? error.headers : undefined)
    } else {
      res.destroy(error as Error)
    }
    this.#done(exchange)
  }

  #done(exchange: Exchange): void {
    // Counted up only for a matched, non-internal route (see #dispatch); 404s and 405s never were.
    if (exchange.definition && !exchange.definition.internal) this.#options.metrics?.inFlight.dec()
    this.#finish(exchange)
  }

  #finish(exchange: Exchange): void {
    const { res, definition, method, error } = exchange
    const durationMs = performance.now() - exchange.startedAt
    const seconds = durationMs / 1000
    const status = res.statusCode
    if (exchange.recorder) exchange.recorder.observe(status, seconds)
    else if (!definition) {
      this.#options.metrics?.observe(
        method,
        status === 405 ? 'method_not_allowed' : 'not_found',
        status,
        seconds,
      )
    }
    exchange.span?.end(status, definition?.path, error, durationMs)
    const log = this.#options.log
    if (status >= 500 && error !== undefined) {
      log.error(
        { err: error, method, url: redactUrl(exchange.url), route: definition?.path },
        'request failed',
      )
    }
    if (this.#options.accessLog) this.appWide().settings.accessLog.write(exchange, log, status, seconds)
  }
}

/** A route's guarded handler and metrics recorder, made once (see `HttpServer.#prepare`). */
interface PreparedRoute {
  readonly handler: Handler
  readonly recorder: RouteRecorder | undefined
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function'

/** What an unmatched request gets once the app-wide guards let it through: 405 with Allow, or 404. */
function unmatched(ctx: RequestContext): never {
  const allowed = (ctx as Exchange).allowedMethods
  if (allowed && allowed.length > 0) {
    throw new HttpError(
      405,
      'KEEL_METHOD_NOT_ALLOWED',
      `${ctx.method} is not allowed on ${ctx.path}`,
      {},
      { allow: allowed.join(', ') },
    )
  }
  throw new HttpError(404, 'KEEL_NOT_FOUND', `no route for ${ctx.method} ${ctx.path}`)
}
