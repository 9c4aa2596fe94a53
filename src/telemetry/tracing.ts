import type { IncomingHttpHeaders } from 'node:http'
import {
  type Context,
  context,
  createContextKey,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { type RequestContext, setContextSource } from '../log/index.ts'

/** Where a traced request keeps Keel's request context (request id for the logs) in the OTel context. */
const requestContextKey = createContextKey('keel.request-context')
const requestContextOfActive = () =>
  context.active().getValue(requestContextKey) as RequestContext | undefined

/** Options of {@link createTracing}; the `tracing` config section plus the service identity. */
export interface TracingOptions {
  enabled: boolean
  /** OTLP/HTTP base URL; spans are posted to `<endpoint>/v1/traces`. */
  endpoint: string
  sampleRatio: number
  headers: Record<string, string>
  exportTimeoutMs: number
  serviceName: string
  serviceVersion: string
}

/** The app's tracer. With tracing off every method is a no-op and nothing is loaded. */
export interface Tracing {
  readonly enabled: boolean
  /** The OpenTelemetry tracer, for capabilities that make their own spans. */
  readonly tracer: Tracer | undefined
  /** Starts the SERVER span of a request, child of the caller's `traceparent` when present. */
  startServerSpan(method: string, path: string, headers: IncomingHttpHeaders): ServerSpan | undefined
  /** Exports every finished span, then stops the exporter. */
  shutdown(): Promise<void>
}

/** A request's span and the context to run its handler in. */
export interface ServerSpan {
  readonly span: Span
  readonly context: Context
  readonly traceId: string
  readonly spanId: string
  /**
   * Runs `fn` with this span active, so child spans and outgoing calls link to it; `request`
   * rides along in the same context, so `currentContext()` finds it without a second scope.
   */
  run<T>(fn: () => T, request?: RequestContext): T
  end(status: number, route: string | undefined, error?: unknown): void
}

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
}

/** Tracing switched off: every method a no-op. */
export const disabledTracing: Tracing = {
  enabled: false,
  tracer: undefined,
  startServerSpan: () => undefined,
  shutdown: async () => {},
}

/**
 * Creates tracing from config. When enabled it loads the OpenTelemetry SDK (lazily, so apps
 * without tracing never load it), exports over OTLP/HTTP with batching, samples parent-based by
 * ratio, and registers the W3C trace-context propagator and an AsyncLocalStorage context manager
 * globally (shared with other traced apps in the process, see {@link acquireGlobals}), so user
 * code calling `trace.getActiveSpan()` sees the request span.
 */
export async function createTracing(options: TracingOptions): Promise<Tracing> {
  if (!options.enabled) return disabledTracing
  const [
    sdk,
    { OTLPTraceExporter },
    { resourceFromAttributes },
    semconv,
    { W3CTraceContextPropagator },
    hooks,
  ] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/core'),
    import('@opentelemetry/context-async-hooks'),
  ])
  const exporter = new OTLPTraceExporter({
    url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
    headers: options.headers,
    timeoutMillis: options.exportTimeoutMs,
  })
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: options.serviceName,
      [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion,
    }),
    // At ratio 1 the ratio sampler would hash every trace id only to say yes.
    sampler: new sdk.ParentBasedSampler({
      root:
        options.sampleRatio >= 1
          ? new sdk.AlwaysOnSampler()
          : new sdk.TraceIdRatioBasedSampler(options.sampleRatio),
    }),
    spanProcessors: [new sdk.BatchSpanProcessor(exporter)],
  })
  acquireGlobals(() => {
    context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable())
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    trace.setGlobalTracerProvider(provider)
    setContextSource(requestContextOfActive)
  })
  const tracer = provider.getTracer('keel', options.serviceVersion)
  let isShutDown = false

  return {
    enabled: true,
    tracer,
    startServerSpan(method, path, headers) {
      const parent = propagation.extract(ROOT_CONTEXT, headers, headerGetter)
      const span = tracer.startSpan(
        method,
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': method,
            'url.path': path,
            'user_agent.original': headers['user-agent'],
          },
        },
        parent,
      )
      const spanContext = span.spanContext()
      const active = trace.setSpan(parent, span)
      return {
        span,
        context: active,
        traceId: spanContext.traceId,
        spanId: spanContext.spanId,
        run: (fn, request) =>
          context.with(request ? active.setValue(requestContextKey, request) : active, fn),
        end(status, route, error) {
          if (route) {
            span.updateName(`${method} ${route}`)
            span.setAttribute('http.route', route)
          }
          span.setAttribute('http.response.status_code', status)
          if (status >= 500) {
            span.setStatus({ code: SpanStatusCode.ERROR })
            if (error instanceof Error) span.recordException(error)
          }
          span.end()
        },
      }
    },
    async shutdown() {
      if (isShutDown) return
      isShutDown = true
      try {
        await provider.shutdown()
      } finally {
        releaseGlobals()
      }
    },
  }
}

/**
 * The OpenTelemetry context manager, propagator and tracer provider are process globals, shared
 * by every traced app in the process (tests, or several apps in one server). The first app to
 * start registers them; they are removed only when the last one shuts down, so stopping one app
 * does not break context propagation in the others. The global tracer provider stays the first
 * app's: with several traced apps, use `app.tracing.tracer` rather than `trace.getTracer()`.
 * The count lives on globalThis so two copies of the package share it, as the OTel globals do.
 */
const globalsKey = Symbol.for('keel.telemetry.tracingGlobals')
type GlobalsHolder = { [globalsKey]?: { users: number } }

function acquireGlobals(register: () => void): void {
  const holder = globalThis as GlobalsHolder
  holder[globalsKey] ??= { users: 0 }
  if (holder[globalsKey].users++ === 0) register()
}

function releaseGlobals(): void {
  const state = (globalThis as GlobalsHolder)[globalsKey]
  if (!state || state.users === 0) return
  if (--state.users > 0) return
  trace.disable()
  propagation.disable()
  context.disable()
  setContextSource(undefined)
}
