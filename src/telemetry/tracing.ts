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
import type { Sampler, SamplingDecision, SpanProcessor } from '@opentelemetry/sdk-trace-base'
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
  /**
   * In-process span processors (the inspector's trace store). They get every span that is
   * recorded, sampled for export or not: a trace the ratio does not sample is still recorded for
   * them, but keeps its unsampled flag, so the exporter skips it and callees see the same
   * `traceparent` as before. With `enabled` false and processors given, spans are made for them
   * alone: nothing is exported and no propagator is registered (what leaves the process is unchanged).
   */
  processors?: readonly SpanProcessor[]
}

/** The app's tracer. With tracing off every method is a no-op and nothing is loaded. */
export interface Tracing {
  /** True when spans are made: tracing is enabled, or in-process processors want them. */
  readonly enabled: boolean
  /** True when spans are exported over OTLP (`tracing.enabled`). */
  readonly exporting: boolean
  /** The OpenTelemetry tracer, for capabilities that make their own spans. */
  readonly tracer: Tracer | undefined
  /**
   * Starts the SERVER span of a request, child of the caller's `traceparent` when present. The
   * span is named `<method> <route>` when it ends; `spanName` replaces the method in that name
   * (`WS /rooms/:room` for a WebSocket upgrade).
   */
  startServerSpan(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    spanName?: string,
  ): ServerSpan | undefined
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
  exporting: false,
  tracer: undefined,
  startServerSpan: () => undefined,
  shutdown: async () => {},
}

/**
 * Creates tracing from config. When enabled it loads the OpenTelemetry SDK (lazily, so apps
 * without tracing never load it), exports over OTLP/HTTP with batching, samples parent-based by
 * ratio, and registers the W3C trace-context propagator and an AsyncLocalStorage context manager
 * globally (shared with other traced apps in the process, see {@link acquireGlobals}), so user
 * code calling `trace.getActiveSpan()` sees the request span. With export off but `processors`
 * given (the inspector), spans are recorded for those processors only (see {@link TracingOptions.processors}).
 */
export async function createTracing(options: TracingOptions): Promise<Tracing> {
  const processors = options.processors ?? []
  if (!options.enabled && processors.length === 0) return disabledTracing
  const [sdk, { resourceFromAttributes }, semconv, hooks] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/semantic-conventions'),
    import('@opentelemetry/context-async-hooks'),
  ])
  const exporting = options.enabled
  // At ratio 1 the ratio sampler would hash every trace id only to say yes.
  const exportSampler = new sdk.ParentBasedSampler({
    root:
      options.sampleRatio >= 1
        ? new sdk.AlwaysOnSampler()
        : new sdk.TraceIdRatioBasedSampler(options.sampleRatio),
  })
  const spanProcessors: SpanProcessor[] = [...processors]
  if (exporting) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    const exporter = new OTLPTraceExporter({
      url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces`,
      headers: options.headers,
      timeoutMillis: options.exportTimeoutMs,
    })
    spanProcessors.unshift(new sdk.BatchSpanProcessor(exporter))
  }
  const provider = new sdk.BasicTracerProvider({
    resource: resourceFromAttributes({
      [semconv.ATTR_SERVICE_NAME]: options.serviceName,
      [semconv.ATTR_SERVICE_VERSION]: options.serviceVersion,
    }),
    sampler:
      processors.length === 0
        ? exportSampler
        : recordingEverything(exporting ? exportSampler : undefined, sdk.SamplingDecision),
    spanProcessors,
  })
  acquireGlobals('context', () => {
    context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(provider)
    setContextSource(requestContextOfActive)
  })
  if (exporting) {
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
    acquireGlobals('propagation', () => propagation.setGlobalPropagator(new W3CTraceContextPropagator()))
  }
  const tracer = provider.getTracer('keel', options.serviceVersion)
  let isShutDown = false

  return {
    enabled: true,
    exporting,
    tracer,
    startServerSpan(method, path, headers, spanName = method) {
      const parent = propagation.extract(ROOT_CONTEXT, headers, headerGetter)
      const span = tracer.startSpan(
        spanName,
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
            span.updateName(`${spanName} ${route}`)
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
        if (exporting) releaseGlobals('propagation')
        releaseGlobals('context')
      }
    },
  }
}

/**
 * A sampler for in-process processors: where `exportSampler` would drop a span, the span is
 * recorded anyway, unsampled (flag 0), so processors see it while the exporter, which skips
 * unsampled spans, and callees, which get the same `traceparent` flags, see no change. Without an
 * export sampler (export off) every span is recorded unsampled.
 */
function recordingEverything(
  exportSampler: Sampler | undefined,
  decisions: typeof SamplingDecision,
): Sampler {
  const recordOnly = { decision: decisions.RECORD }
  return {
    shouldSample(...args) {
      if (!exportSampler) return recordOnly
      const result = exportSampler.shouldSample(...args)
      return result.decision === decisions.NOT_RECORD ? { ...result, decision: decisions.RECORD } : result
    },
    toString: () => `RecordingEverything{${exportSampler ?? 'no export'}}`,
  }
}

/**
 * The OpenTelemetry context manager, propagator and tracer provider are process globals, shared
 * by every traced app in the process (tests, or several apps in one server). The first app to
 * start registers them; they are removed only when the last one shuts down, so stopping one app
 * does not break context propagation in the others. The global tracer provider stays the first
 * app's: with several traced apps, use `app.tracing.tracer` rather than `trace.getTracer()`.
 * The propagator is counted apart: apps that only record spans in-process (the inspector with
 * export off) do not register it, so they send no `traceparent` they did not send before.
 * The counts live on globalThis so two copies of the package share them, as the OTel globals do.
 */
const globalsKey = Symbol.for('keel.telemetry.tracingGlobals')
type GlobalsKind = 'context' | 'propagation'
type GlobalsHolder = { [globalsKey]?: Partial<Record<GlobalsKind, number>> }

function acquireGlobals(kind: GlobalsKind, register: () => void): void {
  const holder = globalThis as GlobalsHolder
  holder[globalsKey] ??= {}
  const users = holder[globalsKey]
  const before = users[kind] ?? 0
  users[kind] = before + 1
  if (before === 0) register()
}

function releaseGlobals(kind: GlobalsKind): void {
  const users = (globalThis as GlobalsHolder)[globalsKey]
  const count = users?.[kind] ?? 0
  if (!users || count === 0) return
  users[kind] = count - 1
  if (count > 1) return
  if (kind === 'propagation') {
    propagation.disable()
    return
  }
  trace.disable()
  context.disable()
  setContextSource(undefined)
}
