import type { Static, TSchema } from '@sinclair/typebox'
import type { DestinationStream } from 'pino'
import {
  type ConfigSection,
  type KernelConfig,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
} from '../config/index.ts'
import { KeelError } from '../errors/index.ts'
import { HealthRegistry } from '../health/index.ts'
import { clientIpFromConfig } from '../http/client-ip.ts'
import { type Guard, GuardAttachments, type GuardHost } from '../http/guard.ts'
import { HttpError } from '../http/http-error.ts'
import { HttpServer } from '../http/http-server.ts'
import { createHttpsRedirectServer } from '../http/https-redirect.ts'
import { type InjectOptions, type InjectResponse, injectRequest } from '../http/inject.ts'
import { openApiRoutes } from '../http/openapi/routes.ts'
import type { RouteDefinition } from '../http/route.ts'
import { RouteBuilder, type RouteScope } from '../http/route-builder.ts'
import type { RouteSchema } from '../http/route-schema.ts'
import { Router } from '../http/router.ts'
import {
  type AnyTypedRoute,
  type RouteInput,
  type RouteResponse,
  routeResponse,
  routeTarget,
} from '../http/typed-route-ref.ts'
import { WebSocketEndpoints, type WebSocketHandler, type WebSocketRouteOptions } from '../http/websocket.ts'
import { createLogger, type KeelLogger, type Logger } from '../log/index.ts'
import {
  createMetrics,
  createTracing,
  disabledTracing,
  type KeelMetrics,
  type Tracing,
} from '../telemetry/index.ts'
import { type AppDescription, describeApp } from './describe.ts'
import { createKernelMetrics } from './kernel-metrics.ts'
import { Lifecycle, type LifecycleState, type StateChange } from './lifecycle.ts'
import { hasOwnMetricsPort, metricsRoute, metricsServer } from './metrics-endpoint.ts'
import type { KeelModule } from './module.ts'
import { startOrder } from './module-order.ts'
import { OwnPort } from './own-port.ts'
import { probeRoutes } from './probes.ts'
import { type ShutdownReport, ShutdownSequence } from './shutdown-sequence.ts'

/** Options of {@link createApp}. */
export interface CreateAppOptions extends Omit<LoadConfigOptions, 'sections'> {
  /** Modules (capabilities) to plug in; more can be added with `app.use()` before start. */
  modules?: readonly KeelModule[]
  /** Write logs here instead of the configured destination (tests). */
  logStream?: DestinationStream
}

/** Where a started app listens. */
export interface AppAddress {
  url: string
  host: string
  port: number
  /** Set when metrics are served on their own port. */
  metricsUrl?: string
  /** Set when a plain-HTTP port redirects to HTTPS (`server.redirectHttpPort`). */
  redirectUrl?: string
  /** Base URL of each port of its own a module serves on (`app.ownPort()`), by name. */
  ownPorts?: Record<string, string>
}

type AppConfig = KernelConfig & Record<string, unknown>

/** Options of `app.ws()`: the route options, and whether the route is internal (out of OpenAPI). */
export interface AppWebSocketRouteOptions extends WebSocketRouteOptions {
  /** Keeps the route out of the OpenAPI document and marks it internal in the description. */
  internal?: boolean
}

/**
 * A Keel app: configuration, logger, metrics, tracing, health checks, modules and the HTTP
 * server, with a lifecycle and graceful shutdown. Create one with {@link createApp}.
 */
export class App extends RouteBuilder {
  #config: LoadedConfig<AppConfig>
  readonly #configOptions: CreateAppOptions
  readonly #logger: KeelLogger
  readonly #lifecycle = new Lifecycle()
  readonly #router = new Router()
  readonly #modules: KeelModule[] = []
  readonly #routePaths = new WeakMap<object, string>()
  readonly #guards: Guard[] = []
  /** Every guard registered here (app-wide, group, route, WebSocket) is attached once. */
  readonly #guardAttachments = new GuardAttachments(guardHostOf(this))
  readonly #started: KeelModule[] = []
  readonly #server: HttpServer
  #metricsServer: HttpServer | undefined
  /** The plain-HTTP listener that redirects to HTTPS (`server.redirectHttpPort`). */
  #redirectServer: HttpServer | undefined
  /** WebSocket routes, made with the first `app.ws()`. */
  #webSockets: WebSocketEndpoints | undefined
  /** Listeners of their own that modules serve routes on (the inspector's `inspector.port`). */
  readonly #ownPorts = new Map<string, OwnPort>()
  #tracing: Tracing | undefined
  #address: AppAddress | undefined
  #stopping: Promise<ShutdownReport> | undefined
  /** Modules starting right now (set only during start-up). */
  #startingModules: Promise<void> | undefined
  #shutdownSequence: ShutdownSequence | undefined
  /** The app's metrics registry and HTTP RED metrics. */
  readonly metrics: KeelMetrics
  /** Named health checks behind /ready and /health. */
  readonly health: HealthRegistry
  /**
   * The app logger: lines carry `request_id` and `trace_id` inside requests, `trace_id` and
   * `span_id` under any other active span (a job, a flow run the poller claimed).
   */
  readonly log: Logger

  constructor(options: CreateAppOptions = {}) {
    super()
    this.#configOptions = options
    for (const module of options.modules ?? []) this.#modules.push(module)
    startOrder(this.#modules)
    this.#config = this.#loadConfig()
    const { service, log, metrics, health, profile } = {
      ...this.#config.values,
      profile: this.#config.profile,
    }
    this.#logger = createLogger({
      ...log,
      base: { service: service.name, version: service.version },
      allowPretty: profile !== 'prod',
      stream: options.logStream,
    })
    this.log = this.#logger.root
    this.metrics = createMetrics({ defaultMetrics: metrics.defaultMetrics })
    const kernelMetrics = createKernelMetrics(this.metrics.registry)
    kernelMetrics.setState('created')
    this.health = new HealthRegistry({
      timeoutMs: health.checkTimeoutMs,
      cacheMs: health.cacheMs,
      onResult: (result) => {
        kernelMetrics.recordCheck(result)
        if (result.status === 'fail')
          this.logger('keel:health').warn({ check: result }, 'health check failed')
      },
    })
    this.#lifecycle.onChange(({ from, to }) => {
      kernelMetrics.setState(to)
      this.logger('keel:app').info({ from, to }, `app ${to}`)
    })
    this.#server = this.#httpServer(this.#router, () => this.#guards)
    for (const route of probeRoutes(health, this.#lifecycle, this.health, service)) this.#router.add(route)
    if (metrics.enabled && !this.#metricsOnOwnPort) this.#router.add(metricsRoute(metrics.path, this.metrics))
    // Served from the live description, so every route added before the first request is in it.
    const { openapi } = this.#config.values
    if (openapi.enabled)
      for (const route of openApiRoutes(openapi, () => this.describe())) this.#router.add(route)
    // Last, so mounted modules see a finished app (config, logger, metrics, probes).
    for (const module of startOrder(this.#modules)) module.mount?.(this)
  }

  /** The validated configuration and where each value came from. */
  get config(): LoadedConfig<AppConfig> {
    return this.#config
  }

  /** The typed values of a module's config section. */
  section<S extends TSchema>(section: ConfigSection<S>): Static<S> {
    return this.#config.values[section.name] as Static<S>
  }

  /** The modules plugged in, in start order (dependencies first). */
  get modules(): readonly KeelModule[] {
    return startOrder(this.#modules)
  }

  /** A logger for a module (`keel:http`, `orders`) at the level `log.level` gives it. */
  logger(name: string): Logger {
    return this.#logger.module(name)
  }

  /** Tracing; disabled (all no-ops) until start, or when `tracing.enabled` is false. */
  get tracing(): Tracing {
    return this.#tracing ?? disabledTracing
  }

  get state(): LifecycleState {
    return this.#lifecycle.state
  }

  /**
   * A listener of its own for a module's routes, on `port` (0: any free port): routes and
   * WebSocket routes added through the returned builder are served there and not on the app's
   * port. Same pipeline as the app's server (request ids, problem details, metrics, access log,
   * TLS when `server.tls` is set), without the app-wide guards. It listens after the app's
   * server, drains with it, and shows in `app.describe().ports` under `name`, so the deploy
   * generators open it in the container and the Service but not the Ingress.
   *
   * @param configKey the key the port came from, named when the port cannot be bound
   * @example
   * ```ts
   * const admin = app.ownPort('admin', 9400, 'admin.port')
   * admin.get('/admin/stats', () => stats())
   * ```
   */
  ownPort(name: string, port: number, configKey: string): OwnPort {
    this.#assertState('created', 'add a port')
    if (this.#ownPorts.has(name))
      throw new KeelError('KEEL_ROUTE_INVALID', `own port "${name}" is already declared`)
    const ownPort = new OwnPort({
      name,
      port,
      configKey,
      prepare: (definition) => this.#prepareRoute(definition),
      bodyLimitBytes: this.bodyLimitBytes,
      makeServer: (router) => this.#httpServer(router, () => []),
      makeWebSockets: (server, router) => this.#webSocketEndpoints(server, router),
    })
    this.#ownPorts.set(name, ownPort)
    return ownPort
  }

  /** Calls `listener` on every lifecycle change; returns the unsubscribe function. */
  onStateChange(listener: (change: StateChange) => void): () => void {
    return this.#lifecycle.onChange(listener)
  }

  /** Where the app listens, once started. */
  get address(): AppAddress | undefined {
    return this.#address
  }

  /** Plugs in a module before start; its config section is validated at once. */
  use(module: KeelModule): this {
    this.#assertState('created', 'add a module')
    startOrder([...this.#modules, module])
    this.#modules.push(module)
    const previous = this.#config
    try {
      this.#config = this.#loadConfig()
      module.mount?.(this)
    } catch (error) {
      this.#modules.pop()
      this.#config = previous
      throw error
    }
    return this
  }

  /**
   * A WebSocket route on the app's HTTP server. The upgrade request goes through the app-wide
   * guards and `options.guards` (a guard that throws answers with its status, nothing upgraded);
   * then `handler` gets the connection with the request's params, principal and request id.
   * Connections are pinged (`pingIntervalMs`), limited to `maxPayloadBytes` per message (close
   * 1009), and closed with 1001 when the app shuts down. A plain GET on the path gets 426.
   *
   * @example
   * ```ts
   * const rooms = new Rooms()
   * app.ws('/rooms/:room', { guards: [jwtAuth({ secret })], maxPayloadBytes: 64 * 1024 }, (conn) => {
   *   rooms.join(conn.params.room!, conn)
   *   conn.socket.on('message', (data) => rooms.broadcast(conn.params.room!, String(data)))
   * })
   * ```
   */
  ws(path: string, handler: WebSocketHandler): this
  ws(path: string, options: AppWebSocketRouteOptions, handler: WebSocketHandler): this
  ws(path: string, a: WebSocketHandler | AppWebSocketRouteOptions, b?: WebSocketHandler): this {
    this.#assertState('created', 'add a route')
    const [options, handler] = typeof a === 'function' ? [{}, a] : [a, b]
    if (typeof handler !== 'function') {
      throw new KeelError('KEEL_ROUTE_INVALID', `WebSocket route ${path}: handler must be a function`)
    }
    this.#webSockets ??= this.#webSocketEndpoints(this.#server, this.#router)
    const route = this.#webSockets.route(path, options, handler)
    // An internal WebSocket route (the inspector's live feed) stays out of OpenAPI, as internal HTTP routes do.
    this.addRoute('internal' in options && options.internal ? { ...route, internal: true } : route)
    return this
  }

  /**
   * Adds app-wide guards: they run around every request, unmatched ones included, in the order
   * added; probes and metrics skip them.
   */
  guard(...guards: Guard[]): this {
    this.#assertState('created', 'add a guard')
    this.#guards.push(...guards)
    this.#guardAttachments.add(guards)
    return this
  }

  /** The app-wide guards, in order. */
  get guards(): readonly Guard[] {
    return this.#guards
  }

  protected addRoute(definition: RouteDefinition): void {
    const prepared = this.#prepareRoute(definition)
    if (definition.ref) this.#routePaths.set(definition.ref, definition.path)
    this.#router.add(prepared)
  }

  /** What every route goes through, on the app's port or one of its own. */
  #prepareRoute(definition: RouteDefinition): RouteDefinition {
    this.#assertState('created', 'add a route')
    this.#guardAttachments.add(definition.guards)
    const lifecycle = this.#lifecycle
    const handler = definition.handler
    // Requests that arrive while modules are still starting get 503 instead of a half-built app.
    const guarded: RouteDefinition = definition.internal
      ? definition
      : {
          ...definition,
          handler: (ctx) => {
            if (lifecycle.state === 'starting') {
              throw new HttpError(503, 'KEEL_NOT_READY', 'the app is starting', {}, { 'retry-after': '1' })
            }
            return handler(ctx)
          },
        }
    return guarded
  }

  /** An HTTP server with the app's pipeline on `router` (the app's port, or one of its own). */
  #httpServer(router: Router, guards: () => readonly Guard[]): HttpServer {
    const { server } = this.#config.values
    return new HttpServer({
      router,
      log: this.logger('keel:http'),
      handlerLog: this.log,
      metrics: this.metrics.http,
      registry: this.metrics.registry,
      tracing: () => this.tracing,
      guards,
      clientIp: clientIpFromConfig(this.#config),
      accessLog: true,
      keepAliveTimeoutMs: server.keepAliveTimeoutMs,
      requestTimeoutMs: server.requestTimeoutMs,
      tls:
        server.tls.certFile && server.tls.keyFile
          ? { ...server.tls, certFile: server.tls.certFile, keyFile: server.tls.keyFile }
          : undefined,
    })
  }

  #webSocketEndpoints(server: HttpServer, router: Router): WebSocketEndpoints {
    return new WebSocketEndpoints({
      server,
      router,
      log: this.logger('keel:http'),
      handlerLog: this.log,
      clientIp: clientIpFromConfig(this.#config),
      isStarting: () => this.#lifecycle.state === 'starting',
    })
  }

  protected get scope(): RouteScope {
    return rootScope
  }

  protected get bodyLimitBytes(): number {
    return this.#config.values.http.bodyLimitBytes
  }

  /**
   * Starts the app: tracing, then the HTTP server (probes answer 503 while starting), then
   * modules in dependency order. On failure, whatever started is stopped and the error rethrown.
   */
  async start(): Promise<AppAddress> {
    this.#assertState('created', 'start')
    this.checkConfig()
    this.#lifecycle.moveTo('starting')
    const { server, metrics, service, tracing } = this.#config.values
    try {
      // Modules may record spans in-process (the inspector), even with export off.
      const processors = startOrder(this.#modules).flatMap((m) => m.spanProcessors?.(this) ?? [])
      this.#tracing = await createTracing({
        ...tracing,
        serviceName: service.name,
        serviceVersion: service.version,
        processors,
      })
      const main = await this.#server.listen(server.port, server.host)
      const host = server.host === '0.0.0.0' || server.host === '::' ? 'localhost' : server.host
      const scheme = this.#server.isTls ? 'https' : 'http'
      this.#address = {
        url: `${scheme}://${formatHost(host)}:${main.port}`,
        host: server.host,
        port: main.port,
      }
      if (this.#server.isTls && server.redirectHttpPort !== null) {
        this.#redirectServer = createHttpsRedirectServer({
          httpsPort: main.port,
          fallbackHost: host,
          log: this.logger('keel:http'),
          keepAliveTimeoutMs: server.keepAliveTimeoutMs,
          requestTimeoutMs: server.requestTimeoutMs,
        })
        const bound = await this.#redirectServer.listen(
          server.redirectHttpPort,
          server.host,
          'server.redirectHttpPort',
        )
        this.#address.redirectUrl = `http://${formatHost(host)}:${bound.port}`
      }
      if (metrics.enabled && this.#metricsOnOwnPort) {
        this.#metricsServer = metricsServer(metricsRoute(metrics.path, this.metrics), {
          log: this.logger('keel:metrics'),
          server,
        })
        const bound = await this.#metricsServer.listen(metrics.port!, server.host, 'metrics.port')
        this.#address.metricsUrl = `http://${formatHost(host)}:${bound.port}${metrics.path}`
      }
      for (const ownPort of this.#ownPorts.values()) {
        const bound = await ownPort.server.listen(ownPort.port, server.host, ownPort.configKey)
        this.#address.ownPorts ??= {}
        this.#address.ownPorts[ownPort.name] = `${scheme}://${formatHost(host)}:${bound.port}`
      }
      // A stop that arrives while modules start lets the module being started finish (the
      // shutdown waits for it and then stops it) and starts no more.
      this.#startingModules = (async () => {
        for (const module of startOrder(this.#modules)) {
          if (this.#stopping) return
          try {
            await module.start?.(this)
          } catch (error) {
            throw new KeelError(
              'KEEL_MODULE_START_FAILED',
              `module "${module.name}" failed to start: ${(error as Error)?.message ?? error}`,
              {
                cause: error,
              },
            )
          }
          this.#started.push(module)
        }
      })()
      await this.#startingModules.finally(() => {
        this.#startingModules = undefined
      })
    } catch (error) {
      this.log.fatal({ err: error, code: (error as KeelError).code }, (error as Error).message)
      await this.stop('start-up failed')
      throw error
    }
    if (this.#stopping)
      throw new KeelError('KEEL_APP_STATE', 'start-up interrupted: the app was stopped while starting')
    this.#lifecycle.moveTo('ready')
    this.log.info(
      { url: this.#address.url, metrics: this.#address.metricsUrl, profile: this.#config.profile },
      `listening on ${this.#address.url}`,
    )
    return this.#address
  }

  /**
   * Graceful shutdown: readiness turns 503 at once, responses say `Connection: close`; after
   * `shutdown.drainDelayMs` the listener closes and in-flight requests finish; modules stop in
   * reverse order, each under its deadline; traces and logs are flushed. Safe to call twice.
   */
  stop(reason = 'stop requested'): Promise<ShutdownReport> {
    this.#stopping ??= this.#shutdown(reason)
    return this.#stopping
  }

  /** The phase shutdown is in right now (for the deadline log). */
  get shutdownPhase(): string | undefined {
    return this.#shutdownSequence?.current
  }

  /** True once shutdown overran its total deadline and logged the phase it overran in. */
  get shutdownPastDeadline(): boolean {
    return this.#shutdownSequence?.isPastDeadline ?? false
  }

  /**
   * Sends a request through the app without a socket and resolves with the response; the app
   * need not be started. The whole pipeline runs: guards, validation, errors, logs and metrics.
   *
   * @example
   * ```ts
   * const res = await app.inject({ method: 'POST', url: '/users', payload: { name: 'Ada' } })
   * res.statusCode // 201
   * res.json() // { id: 1, name: 'Ada' }
   * ```
   */
  inject(options: InjectOptions | string): Promise<InjectResponse>
  /**
   * Sends a request to a route registered with `app.route(route)`: `input` (params, query, body,
   * headers) and the response are typed by the route's schemas. Narrow the response with
   * `isDeclared`, then `status`.
   *
   * @example
   * ```ts
   * const res = await app.inject(getUser, { params: { id: 42 } })
   * if (res.isDeclared && res.status === 200) expect(res.body.name).toBe('Ada')
   * ```
   */
  inject<R extends AnyTypedRoute>(
    route: R,
    input: RouteInput<R['schema']>,
  ): Promise<RouteResponse<R['schema']>>
  inject(target: InjectOptions | string | AnyTypedRoute, input?: RouteInput<RouteSchema>): Promise<unknown> {
    if (this.state === 'stopped' || this.state === 'draining') {
      return Promise.reject(
        new KeelError('KEEL_APP_STATE', `cannot inject a request: the app is ${this.state}`),
      )
    }
    if (typeof target === 'string' || !('handler' in target))
      return injectRequest(this.#server.handle, target)
    const route = target
    const path = this.#routePaths.get(route)
    if (path === undefined) {
      return Promise.reject(
        new KeelError(
          'KEEL_ROUTE_INVALID',
          `route ${route.method} ${route.path} is not registered on this app: add it with app.route(route)`,
        ),
      )
    }
    const request = input ?? {}
    const body = (request as { body?: unknown }).body
    let url: string
    try {
      url = routeTarget(path, request)
    } catch (error) {
      return Promise.reject(error)
    }
    return injectRequest(this.#server.handle, {
      method: route.method,
      url,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...request.headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    }).then((res) => routeResponse(route, res.statusCode, stringHeaders(res.headers), res.payload))
  }

  /** Describes the app without starting it; see {@link AppDescription}. */
  describe(): AppDescription {
    return describeApp({
      config: this.#config,
      routes: this.#router.list(),
      ownPorts: [...this.#ownPorts.values()].map((p) => ({ name: p.name, port: p.port, routes: p.routes() })),
      guards: this.#guards,
      healthChecks: this.health.list(),
      modules: startOrder(this.#modules),
      metricsOnOwnPort: this.#metricsOnOwnPort,
    })
  }

  async #shutdown(reason: string): Promise<ShutdownReport> {
    const { shutdown } = this.#config.values
    const log = this.logger('keel:app')
    const sequence = new ShutdownSequence(shutdown.deadlineMs, log)
    this.#shutdownSequence = sequence
    if (this.state === 'created') {
      this.#lifecycle.moveTo('stopped')
      return sequence.report(reason)
    }
    this.#lifecycle.moveTo('draining')
    log.info({ reason, drainDelayMs: shutdown.drainDelayMs }, 'shutdown started')
    this.#server.beginDrain()
    this.#redirectServer?.beginDrain()
    for (const ownPort of this.#ownPorts.values()) ownPort.server.beginDrain()
    if (this.#address && shutdown.drainDelayMs > 0) {
      // A wait, not work that can overrun: bounded only by the total deadline (a timeout equal to
      // the delay would race the delay's own timer and fail the shutdown).
      const wait = Math.min(shutdown.drainDelayMs, sequence.remaining())
      await sequence.run('drain-delay', Number.POSITIVE_INFINITY, () => delay(wait))
    }
    await sequence.run('http', sequence.remaining(), async () => {
      const closeBy = Math.max(0, sequence.remaining() - 100)
      const closed = await Promise.all([
        this.#server.close(closeBy),
        this.#redirectServer?.close(closeBy),
        ...[...this.#ownPorts.values()].map((ownPort) => ownPort.server.close(closeBy)),
      ])
      const forced = closed.reduce((sum, result) => sum + (result?.forced ?? 0), 0)
      if (forced > 0) throw new Error(`${forced} connection(s) still open at the deadline were closed`)
    })
    if (this.#startingModules) {
      // Stopped during start-up: the module being started finishes first, so that it is stopped too.
      const starting = this.#startingModules
      await sequence.run('start', sequence.remaining(), () => starting.catch(() => {}))
    }
    for (const module of [...this.#started].reverse()) {
      if (!module.stop) continue
      const timeoutMs = module.stopTimeoutMs ?? shutdown.moduleTimeoutMs
      await sequence.run(`module:${module.name}`, timeoutMs, (signal) => module.stop!(this, signal))
    }
    this.#started.length = 0
    const metricsServer = this.#metricsServer
    if (metricsServer) {
      await sequence.run('metrics-server', sequence.remaining(), () =>
        metricsServer.close(sequence.remaining()),
      )
    }
    const tracing = this.#tracing
    if (tracing?.enabled) await sequence.run('tracing', sequence.remaining(), () => tracing.shutdown())
    const report = sequence.report(reason)
    this.#lifecycle.moveTo('stopped')
    log.info({ report }, 'shutdown finished')
    await this.#logger.flush()
    return report
  }

  get #metricsOnOwnPort(): boolean {
    return hasOwnMetricsPort(this.#config.values)
  }

  #assertState(state: LifecycleState, action: string): void {
    if (this.state !== state)
      throw new KeelError('KEEL_APP_STATE', `cannot ${action}: the app is ${this.state}`)
  }

  /**
   * Validates the configuration strictly, now that every module has declared its section:
   * a keel.yaml section no module claims is an error. `start()` calls this; so does the CLI.
   */
  checkConfig(): LoadedConfig<AppConfig> {
    this.#config = this.#loadConfig(false)
    return this.#config
  }

  #loadConfig(ignoreUnknownSections = true): LoadedConfig<AppConfig> {
    const sections = this.#modules.flatMap((m) => (m.config ? [m.config] : []))
    return loadConfig<AppConfig>({ ...this.#configOptions, sections, ignoreUnknownSections })
  }
}

const rootScope: RouteScope = { prefix: '', guards: [], tags: [] }
/** What guards get from the app; read lazily, since guards may be attached before tracing exists. */
const guardHostOf = (app: App): GuardHost => ({
  get registry() {
    return app.metrics.registry
  },
  logger: (name) => app.logger(name),
  get tracing() {
    return app.tracing
  },
})
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const formatHost = (host: string) => (host.includes(':') ? `[${host}]` : host)

/**
 * Creates an app: loads and validates configuration (throwing one error that lists every
 * problem), builds the logger, metrics registry and health registry, and registers the probes.
 * Nothing listens until `start()` or `run()`.
 *
 * @example
 * ```ts
 * const app = createApp()
 * app.get('/hello', () => ({ hello: 'world' }))
 * await runApp(app)
 * ```
 */
export function createApp(options: CreateAppOptions = {}): App {
  return new App(options)
}

/** Response headers as strings (light-my-request keeps numbers, such as content-length, as numbers). */
const stringHeaders = (headers: Record<string, unknown>): Record<string, string | string[] | undefined> =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      value === undefined || Array.isArray(value) ? (value as string[] | undefined) : String(value),
    ]),
  )
