import type { IncomingHttpHeaders } from 'node:http'
import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type TextMapGetter,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { type RequestContext, setContextSource, setSpanSource } from '../log/index.ts'
import { inProcessSampler } from './in-process-sampler.ts'
import {
  admitted,
  isRequestRecorder,
  RequestSpan,
  requestContextOfActive,
  serverSpanOptions,
  spanIdsOfActive,
} from './request-span.ts'
import { acquireGlobals, releaseGlobals } from './tracing-globals.ts'

export { unkeptSpanAttribute } from './in-process-sampler.ts'
export type { ObservedRequest, RequestRecorder } from './request-span.ts'

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
   *
   * When every processor is a {@link RequestRecorder}, a request the exporter does not sample
   * gets a recorded span only if a recorder admits it ({@link RequestRecorder.admitRequest}); the
   * others get a non-recording span (same ids, same `traceparent`) and reach the recorders as an
   * {@link ObservedRequest} alone, which is far cheaper than a span.
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
   * (`WS /rooms/:room` for a WebSocket upgrade). `startedAt` is the caller's `performance.now()`
   * when the request arrived, so in-process recorders time it without reading the clock again.
   */
  startServerSpan(
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    spanName?: string,
    startedAt?: number,
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
  run<A extends unknown[], T>(fn: (...args: A) => T, request?: RequestContext, ...args: A): T
  /** Ends the span; `durationMs`, when the caller measured it already, spares a clock read. */
  end(status: number, route: string | undefined, error?: unknown, durationMs?: number): void
}

const headerGetter: TextMapGetter<IncomingHttpHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
}

/** Read once: `performance.timeOrigin` is a getter that asks the runtime each time. */
const timeOrigin = performance.timeOrigin

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
  // Head decisions only when every processor can take a request without its span.
  const recorders = processors.every(isRequestRecorder) ? processors : []
  for (const recorder of recorders) recorder.observeRequests()
  /** Set while `startServerSpan` makes the span of a request it already admitted. */
  let isAdmitted = false
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
        : inProcessSampler(exporting ? exportSampler : undefined, sdk.SamplingDecision, recorders, () =>
            isAdmitted ? true : admitted(recorders),
          ),
    spanProcessors,
  })
  acquireGlobals('context', () => {
    context.setGlobalContextManager(new hooks.AsyncLocalStorageContextManager().enable())
    trace.setGlobalTracerProvider(provider)
    setContextSource(requestContextOfActive)
    setSpanSource(spanIdsOfActive)
  })
  if (exporting) {
    const { W3CTraceContextPropagator } = await import('@opentelemetry/core')
    acquireGlobals('propagation', () => propagation.setGlobalPropagator(new W3CTraceContextPropagator()))
  }
  const tracer = provider.getTracer('keel', options.serviceVersion)
  // With export off no request has a caller (no traceparent is honoured): the recorders decide.
  const decidesAlone = recorders.length > 0 && !exporting
  let isShutDown = false

  return {
    enabled: true,
    exporting,
    tracer,
    startServerSpan(method, path, headers, spanName = method, startedAt) {
      const userAgent = headers['user-agent']
      // The clock is read only for recorders, and only when the caller did not read it.
      const startMs = recorders.length === 0 ? 0 : (startedAt ?? performance.now())
      let span: Span | undefined
      let parent = ROOT_CONTEXT
      if (decidesAlone) {
        // Export off: the head decision is the recorders' alone, taken here so a request they
        // do not want costs a counter id rather than the SDK's span machinery.
        if (admitted(recorders, timeOrigin + startMs, headers)) {
          isAdmitted = true
          try {
            span = tracer.startSpan(spanName, serverSpanOptions(method, path, userAgent), parent)
          } finally {
            isAdmitted = false
          }
        }
      } else {
        // With export off this app registered no propagator and honours no caller's traceparent.
        if (exporting) parent = propagation.extract(ROOT_CONTEXT, headers, headerGetter)
        span = tracer.startSpan(spanName, serverSpanOptions(method, path, userAgent), parent)
      }
      const request = new RequestSpan(span, parent, method, path, spanName, userAgent, recorders, startMs)
      for (const recorder of recorders) recorder.requestStarted(request)
      return request
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
