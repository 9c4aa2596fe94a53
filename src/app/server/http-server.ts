import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'
import { KeelError } from '../../errors/index.ts'
import { type Logger, redactUrl, runWithContext } from '../../log/index.ts'
import type { HttpMetrics, ServerSpan, Tracing } from '../../telemetry/index.ts'
import { parseTraceparent } from '../../telemetry/index.ts'
import { problem, problemFromError, sendProblem } from './problem.ts'
import { requestIdFrom } from './request-id.ts'
import { sendBody } from './respond.ts'
import type { RequestContext, RouteDefinition } from './route.ts'
import type { Router } from './router.ts'

/** What the server needs from the app; getters because tracing exists only once started. */
export interface HttpServerOptions {
  router: Router
  /** Logger for the server's own lines (access log, failures). */
  log: Logger
  /** Logger handed to route handlers as `ctx.log`. */
  handlerLog: Logger
  metrics?: HttpMetrics
  tracing: () => Tracing
  accessLog: boolean
  keepAliveTimeoutMs: number
  requestTimeoutMs: number
}

/**
 * The kernel's HTTP server: routes requests, gives each a request id, trace context and log
 * context, records RED metrics, turns errors into problem details, and drains gracefully.
 */
export class HttpServer {
  readonly server: Server
  readonly #options: HttpServerOptions
  readonly #sockets = new Set<Socket>()
  #isDraining = false

  constructor(options: HttpServerOptions) {
    this.#options = options
    this.server = createServer({ requestTimeout: options.requestTimeoutMs }, (req, res) =>
      this.#onRequest(req, res),
    )
    this.server.keepAliveTimeout = options.keepAliveTimeoutMs
    this.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
    })
  }

  /** Listens on host:port; a taken port becomes `KEEL_PORT_IN_USE` naming the port. */
  listen(port: number, host: string, what = 'server.port'): Promise<{ port: number; host: string }> {
    return new Promise((resolve, reject) => {
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

  get openConnections(): number {
    return this.#sockets.size
  }

  #onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now()
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const method = req.method ?? 'GET'
    const match = this.#options.router.find(method, path)
    const route = match.found ? match.route : undefined
    const requestId = requestIdFrom(req.headers['x-request-id'])
    res.setHeader('x-request-id', requestId)
    if (this.#isDraining) res.setHeader('connection', 'close')

    const tracing = this.#options.tracing()
    const span =
      tracing.enabled && !route?.internal ? tracing.startServerSpan(method, path, req.headers) : undefined
    const caller = span ? undefined : parseTraceparent(req.headers.traceparent as string | undefined)
    const context = {
      requestId,
      // Without a span or a caller's trace, a fresh W3C-shaped id still ties the request's lines together.
      traceId: span?.traceId ?? caller?.traceId ?? randomUUID().replaceAll('-', ''),
      spanId: span?.spanId ?? caller?.spanId,
    }
    const finish = (error?: unknown) => this.#finish(req, res, { started, method, url, route, span, error })
    runWithContext(context, () => {
      const handle = () => {
        if (!match.found) {
          if (match.allowed.length > 0) {
            sendProblem(res, problem('KEEL_METHOD_NOT_ALLOWED', 405, `${method} is not allowed on ${path}`), {
              allow: match.allowed.join(', '),
            })
          } else {
            sendProblem(res, problem('KEEL_NOT_FOUND', 404, `no route for ${method} ${path}`))
          }
          return finish()
        }
        this.#invoke(
          match.route,
          match.params,
          req,
          res,
          method,
          path,
          q === -1 ? '' : url.slice(q + 1),
          requestId,
        ).then(finish, finish)
      }
      if (span) span.run(handle)
      else handle()
    })
  }

  async #invoke(
    route: RouteDefinition,
    params: Record<string, string | undefined>,
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    search: string,
    requestId: string,
  ): Promise<unknown> {
    let query: URLSearchParams | undefined
    const ctx: RequestContext = {
      req,
      res,
      method,
      path,
      route: route.path,
      params,
      get query() {
        query ??= new URLSearchParams(search)
        return query
      },
      requestId,
      log: this.#options.handlerLog,
      status: 200,
      header: (name, value) => res.setHeader(name, value),
    }
    // Probes and scrapes would otherwise always see themselves in flight.
    const inFlight = route.internal ? undefined : this.#options.metrics?.inFlight
    inFlight?.inc()
    try {
      const body = await route.handler(ctx)
      if (!res.headersSent) sendBody(res, ctx.status, body)
      else if (!res.writableEnded) await new Promise((resolve) => res.once('close', resolve))
      return undefined
    } catch (error) {
      if (!res.headersSent) {
        const details = problemFromError(error)
        details.requestId = requestId
        sendProblem(res, details)
      } else {
        res.destroy(error as Error)
      }
      return error
    } finally {
      inFlight?.dec()
    }
  }

  #finish(
    req: IncomingMessage,
    res: ServerResponse,
    r: {
      started: number
      method: string
      url: string
      route?: RouteDefinition
      span?: ServerSpan
      error?: unknown
    },
  ): void {
    const seconds = (performance.now() - r.started) / 1000
    const status = res.statusCode
    const template = r.route?.path ?? (status === 405 ? 'method_not_allowed' : 'not_found')
    this.#options.metrics?.observe(r.method, template, status, seconds)
    r.span?.end(status, r.route?.path, r.error)
    const log = this.#options.log
    if (status >= 500 && r.error !== undefined) {
      log.error(
        { err: r.error, method: r.method, url: redactUrl(r.url), route: r.route?.path },
        'request failed',
      )
    }
    if (!this.#options.accessLog) return
    const level = r.route?.internal ? 'debug' : 'info'
    if (!log.isLevelEnabled(level)) return
    const fields = {
      method: r.method,
      url: redactUrl(r.url),
      route: r.route?.path,
      status,
      durationMs: Math.round(seconds * 100_000) / 100,
      headers: log.isLevelEnabled('debug') ? req.headers : undefined,
    }
    log[level](fields, 'request completed')
  }
}
