import type { Span } from '@opentelemetry/sdk-trace-base'
import { type App, isOwnPort, type KeelModule, type ModuleDescription } from '../app/index.ts'
import { ConfigError } from '../config/index.ts'
import type { FlowsModule } from '../flow/index.ts'
import { gateInMemoryRuns } from '../flow/step-gates.ts'
import type { JobsModule } from '../jobs/index.ts'
import { markSecretKey } from '../log/index.ts'
import { type InspectorRuntime, inspectorRoutes, metricsOf } from './api-routes.ts'
import { breakpointRoutes } from './breakpoint-routes.ts'
import { Breakpoints } from './breakpoints.ts'
import { DeadLetterDesk } from './dead-letter-desk.ts'
import { InFlight } from './in-flight.ts'
import { inspectorAccess, liveProtocol } from './inspector-access.ts'
import { inspectorSection } from './inspector-section.ts'
import { LiveFeed } from './live-feed.ts'
import { payloadCapture } from './payload-capture.ts'
import { RelayTickets } from './relay-tickets.ts'
import { hasOperationEnded, runningOperationOf, SpanRecorder } from './span-recorder.ts'
import { summarize, TraceStore } from './trace-store.ts'
import { inspectorUiRoutes } from './ui-routes.ts'
import { WindowSet } from './window-set.ts'

/** Options of {@link inspector}. */
export interface InspectorOptions {
  /** Flows modules whose dead runs the inspector lists, retries and discards. */
  readonly flows?: readonly FlowsModule[]
  /** Jobs modules whose dead letters the inspector lists, retries and discards. */
  readonly jobs?: readonly JobsModule[]
  /** Clock, for tests. Default `Date.now`. */
  readonly now?: () => number
}

/** What the inspector says in `app.describe()`: `keel check` reads `tokenRequired`. */
export interface InspectorDescription {
  readonly enabled: boolean
  readonly path: string
  /** The port of its own it is served on (`inspector.port`); null: the app's port. */
  readonly port: number | null
  readonly tokenRequired: boolean
  readonly tokensConfigured: { readonly viewer: number; readonly operator: number }
  readonly capture: boolean
}

/** The inspector module; `store` and friends exist once it is mounted and enabled. */
export interface InspectorModule extends KeelModule {
  readonly name: 'inspector'
  readonly config: typeof inspectorSection
  /** The running parts, when enabled (after `createApp`). */
  readonly runtime: InspectorRuntime | undefined
  describe(): ModuleDescription & { inspector: InspectorDescription }
}

const developmentProfiles = new Set(['dev', 'test'])

/** Why the inspector will not mount as configured: `key` is what to fix, located where `setBy` was set. */
function refusal(app: App, key: string, setBy: string, message: string): ConfigError {
  const source = app.config.sourceOf(setBy) ?? { kind: 'default' as const, profile: app.config.profile }
  return new ConfigError([{ code: 'KEEL_CONFIG_INVALID', key, message, source }])
}

/**
 * The inspector: a bounded in-memory store of the app's own traces, sliding windows per route,
 * flow and step, stall detection, dead letters of flows and jobs with retry and discard, a relay
 * that sends sample requests into routes, and opt-in redacted payload capture — served as a
 * versioned JSON API under `inspector.path` (`/_keel/inspector/v1/...`) and a WebSocket live
 * feed (`.../v1/live`).
 *
 * On by default in the dev and test profiles, off elsewhere unless `inspector.enabled` is set.
 * Outside dev and test every call needs a bearer token (`inspector.tokens.viewer` reads,
 * `inspector.tokens.operator` also acts); enabling it there without any token, or with
 * `inspector.requireToken: false`, fails at `createApp()` with a config error naming that key.
 * Spans are recorded for it even when `tracing.enabled` is off (nothing is exported then),
 * without changing what is exported when it is on.
 *
 * @example
 * ```ts
 * const data = database()
 * const orders = flows({ database: data, flows: [orderFlow] })
 * const app = createApp({ modules: [data, orders, inspector({ flows: [orders] })] })
 * // GET /_keel/inspector/v1/traces, /v1/routes, /v1/flows, /v1/metrics, /v1/stalls, /v1/dead-letters
 * ```
 */
export function inspector(options: InspectorOptions = {}): InspectorModule {
  const flowModules = options.flows ?? []
  const jobModules = options.jobs ?? []
  const now = options.now ?? Date.now
  let runtime: InspectorRuntime | undefined
  let recorder: SpanRecorder | undefined
  let breakpoints: Breakpoints | undefined
  let letGoHeldRuns: (() => void) | undefined
  let description: InspectorDescription = {
    enabled: false,
    path: '/_keel/inspector',
    port: null,
    tokenRequired: true,
    tokensConfigured: { viewer: 0, operator: 0 },
    capture: false,
  }

  const module: InspectorModule = {
    name: 'inspector',
    config: inspectorSection,
    // Dead letters are read through these modules: they start first and stop after.
    dependsOn: [...flowModules, ...jobModules].map((m) => m.name),
    get runtime() {
      return runtime
    },
    mount(app: App) {
      if (runtime) return
      const settings = app.section(inspectorSection)
      const profile = app.config.profile
      const isDevelopment = developmentProfiles.has(profile)
      const enabled = settings.enabled ?? isDevelopment
      const ownPort = isOwnPort(settings.port, app.config.values.server.port) ? settings.port : null
      const tokenRequired = settings.requireToken ?? !isDevelopment
      const tokens = {
        viewer: settings.tokens.viewer.filter((t) => t !== ''),
        operator: settings.tokens.operator.filter((t) => t !== ''),
      }
      description = {
        enabled,
        path: settings.path,
        // The same number as server.port is the app port: keel check must not call it one of its own.
        port: ownPort,
        tokenRequired,
        tokensConfigured: { viewer: tokens.viewer.length, operator: tokens.operator.length },
        capture: settings.capture.enabled,
      }
      if (!enabled) return
      if (!isDevelopment && settings.requireToken === false) {
        // An open inspector reads payloads and retries dead letters for anyone: development only.
        throw refusal(
          app,
          'inspector.requireToken',
          'inspector.requireToken',
          `the inspector is enabled in profile "${profile}" with requireToken false, which only the dev and test profiles allow: anyone who reaches it could read traces and payloads and retry or discard dead letters; remove inspector.requireToken (or set it to true) and list secrets under inspector.tokens.operator, or set inspector.enabled: false`,
        )
      }
      if (tokenRequired && tokens.viewer.length + tokens.operator.length === 0) {
        // Secure by default: an inspector nobody can open must not be an inspector anyone can open.
        throw refusal(
          app,
          'inspector.tokens',
          'inspector.enabled',
          `the inspector is enabled in profile "${profile}", where it needs a bearer token, and no token is configured: list secrets under inspector.tokens.operator (and .viewer), e.g. "- \${INSPECTOR_TOKEN}", or set inspector.enabled: false`,
        )
      }
      // The live feed's token may ride in this header; debug logs of request headers must not show it.
      markSecretKey('sec-websocket-protocol')
      const windows = { bucketMs: settings.windows.bucketMs, buckets: settings.windows.buckets }
      const { maxTracesPerSecond, ...storeBounds } = settings.store
      const store = new TraceStore(storeBounds)
      const maxSeries = settings.windows.maxSeries
      const routes = new WindowSet({
        ...windows,
        maxSeries,
        describe: (method, route) => ({ key: `${method} ${route}`, labels: { method, route } }),
      })
      const steps = new WindowSet({
        ...windows,
        maxSeries,
        describe: (flow, spanName) => {
          const isCompensation = spanName.startsWith('compensate ')
          const step = spanName.slice(spanName.indexOf(' ') + 1)
          const phase = isCompensation ? 'compensate' : 'run'
          return { key: `${flow}/${step}/${phase}`, labels: { flow, step, phase } }
        },
      })
      const flowWindows = new WindowSet({
        ...windows,
        maxSeries,
        describe: (flow) => ({ key: flow, labels: { flow } }),
      })
      const inFlight = new InFlight<Span>(runningOperationOf, hasOperationEnded)
      const guard = inspectorAccess({ requireToken: tokenRequired, tokens })
      const started: InspectorRuntime = {
        app,
        prefix: settings.path,
        store,
        routes,
        steps,
        flows: flowWindows,
        inFlight,
        live: new LiveFeed({
          maxBufferBytes: settings.live.maxBufferBytes,
          intervalMs: settings.live.metricsIntervalMs,
          periodic: () => metricsOf(started, { series: false }),
        }),
        desk: new DeadLetterDesk(flowModules, jobModules),
        guard,
        tokenRequired,
        captureEnabled: settings.capture.enabled,
        stallThresholdMs: settings.stallThresholdMs,
        bucketMs: windows.bucketMs,
        buckets: windows.buckets,
        now,
        relays: new RelayTickets(),
      }
      runtime = started
      recorder = new SpanRecorder({
        store,
        routes,
        steps,
        flows: flowWindows,
        inFlight,
        relays: started.relays,
        // Only a test's clock: left unset, requests are placed by the times the server took.
        ...(options.now ? { now: options.now } : {}),
        maxTracesPerSecond,
        onTrace: (trace) => {
          if (started.live.hasClients) started.live.publish({ type: 'trace', trace: summarize(trace) })
        },
      })
      // On a port of its own, nothing of the inspector answers on the app's port (and the reverse).
      const host = ownPort === null ? app : app.ownPort('inspector', ownPort, 'inspector.port')
      for (const route of inspectorRoutes(started, app.config.values.http.bodyLimitBytes)) host.route(route)
      // Breakpoints hold runs (durable ones with their worker slots, in-memory ones with their
      // callers): development profiles only.
      if (isDevelopment && flowModules.length > 0) {
        breakpoints = new Breakpoints({
          now,
          onPause: (run) => {
            if (started.live.hasClients) started.live.publish({ type: 'paused', run })
          },
        })
        const routes = breakpointRoutes({
          prefix: settings.path,
          breakpoints,
          flows: flowModules,
          operator: guard('operator'),
          bodyLimitBytes: app.config.values.http.bodyLimitBytes,
        })
        for (const route of routes) host.route(route)
      }
      // The web UI: open pages (they hold no data) that call the API above with the token.
      const title = () => app.describe().service.name
      for (const route of inspectorUiRoutes({ prefix: settings.path, title })) host.route(route)
      host.ws(
        `${settings.path}/v1/live`,
        { internal: true, guards: [guard('viewer')], maxPayloadBytes: 4096 },
        (connection) => {
          connection.socket.on('message', () => {}) // the feed is one-way; what a client sends is ignored
          started.live.add(connection.socket, {
            role: connection.principal?.roles[0] ?? 'operator',
            bucketMs: windows.bucketMs,
            buckets: windows.buckets,
            protocol: liveProtocol,
          })
        },
      )
      if (settings.capture.enabled) {
        app.guard(
          payloadCapture({
            maxBytes: settings.capture.maxBytes,
            keep: (traceId, capture) => store.attachCapture(traceId, capture, now()),
          }),
        )
      }
    },
    spanProcessors() {
      return recorder ? [recorder] : []
    },
    start(app: App) {
      if (!runtime) return
      if (breakpoints) letGoHeldRuns = gateRuns(app, breakpoints, flowModules)
      app
        .logger('keel:inspector')
        .info(
          { path: description.path, tokenRequired: description.tokenRequired, capture: description.capture },
          `inspector on ${description.path}/v1`,
        )
    },
    stop() {
      letGoHeldRuns?.() // done at the drain already; here for a stop that did not drain
      letGoHeldRuns = undefined
      runtime?.live.close()
    },
    describe() {
      return { inspector: description }
    },
  }
  return module
}

/**
 * Puts the breakpoints in front of every step of the flows modules' runners and of the `runFlow`
 * runs of this process; returns what removes them and lets every held run go. That happens as
 * soon as the app starts to drain: an in-memory run held in a request would otherwise keep the
 * server from closing until the shutdown deadline. Held runs go on: they finish, or the flows
 * module's drain parks them.
 */
function gateRuns(app: App, breakpoints: Breakpoints, flowModules: readonly FlowsModule[]): () => void {
  for (const flowsModule of flowModules) flowsModule.runner.gateSteps(breakpoints.gate)
  const ungateInMemoryRuns = gateInMemoryRuns(breakpoints.gate)
  let isGating = true
  const letGo = () => {
    if (!isGating) return
    isGating = false
    stopWatching()
    for (const flowsModule of flowModules) flowsModule.runner.gateSteps(undefined)
    ungateInMemoryRuns()
    breakpoints.clear()
  }
  const stopWatching = app.onStateChange(({ to }) => {
    if (to === 'draining' || to === 'stopped') letGo()
  })
  return letGo
}
