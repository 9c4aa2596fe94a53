import { context, createContextKey, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { AlwaysOnSampler, BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import {
  hasOperationEnded,
  InFlight,
  runningOperationOf,
  SpanRecorder,
  type StoredTrace,
  TraceStore,
  WindowSet,
} from 'keel/inspector'
import { currentContext } from 'keel/log'
import { createTracing } from 'keel/telemetry'
import { afterEach, describe, expect, it } from 'vitest'

const describeSeries = (a: string, b: string) => ({ key: `${a} ${b}`, labels: { a, b } })

function recorderAt(clock: { now: number }, maxTracesPerSecond: number) {
  const windows = { bucketMs: 1000, buckets: 60, maxSeries: 100, describe: describeSeries }
  const store = new TraceStore({ maxSpans: 1000, maxBytes: 1e9, maxSpansPerTrace: 100 })
  const routes = new WindowSet(windows)
  const announced: StoredTrace[] = []
  const recorder = new SpanRecorder({
    store,
    routes,
    steps: new WindowSet(windows),
    flows: new WindowSet(windows),
    inFlight: new InFlight(runningOperationOf, hasOperationEnded),
    onTrace: (trace) => announced.push(trace),
    maxTracesPerSecond,
    now: () => clock.now,
  })
  const tracer = new BasicTracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [recorder],
  }).getTracer('t')
  const request = (status: number) => {
    const root = tracer.startSpan('GET', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET' },
    })
    root.setAttribute('http.route', '/r')
    root.setAttribute('http.response.status_code', status)
    if (status >= 500) root.setStatus({ code: SpanStatusCode.ERROR })
    root.end()
  }
  return { store, routes, announced, request }
}

describe('SpanRecorder', () => {
  it('keeps at most maxTracesPerSecond traces a second, failed ones always, while windows count all', () => {
    const clock = { now: 1_700_000_000_000 }
    const { store, routes, announced, request } = recorderAt(clock, 2)
    for (let i = 0; i < 5; i++) request(200)
    request(500)
    expect(store.list().map((t) => t.statusCode)).toEqual([500, 200, 200])
    expect(store.stats()).toMatchObject({ traces: 3, skippedTraces: 3 })
    expect(announced).toHaveLength(3)
    expect(routes.get('GET', '/r', clock.now)).toMatchObject({ count: 6, errors: 1 })
    clock.now += 1000
    request(200)
    expect(store.stats()).toMatchObject({ traces: 4, skippedTraces: 3 })
  })

  it('keeps every trace with maxTracesPerSecond 0', () => {
    const clock = { now: 1_700_000_000_000 }
    const { store, request } = recorderAt(clock, 0)
    for (let i = 0; i < 50; i++) request(200)
    expect(store.stats()).toMatchObject({ traces: 50, skippedTraces: 0 })
  })

  it('tracks a running request for stalls from span start to end', () => {
    const inFlight = new InFlight(runningOperationOf, hasOperationEnded)
    const windows = { bucketMs: 1000, buckets: 60, maxSeries: 100, describe: describeSeries }
    const recorder = new SpanRecorder({
      store: new TraceStore({ maxSpans: 100, maxBytes: 1e9, maxSpansPerTrace: 100 }),
      routes: new WindowSet(windows),
      steps: new WindowSet(windows),
      flows: new WindowSet(windows),
      inFlight,
      onTrace: () => {},
    })
    const tracer = new BasicTracerProvider({ spanProcessors: [recorder] }).getTracer('t')
    const span = tracer.startSpan('POST', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'POST', 'url.path': '/orders' },
    })
    const later = Date.now() + 10_000
    expect(inFlight.stalls(later, 5000)).toEqual([
      expect.objectContaining({
        kind: 'request',
        name: 'POST /orders',
        details: { method: 'POST', path: '/orders' },
      }),
    ])
    expect(inFlight.stalls(Date.now(), 5000)).toEqual([])
    span.end()
    expect(inFlight.size).toBe(0)
  })
})

describe('SpanRecorder observing requests through tracing (head decisions, export off)', () => {
  const tracingOptions = {
    enabled: false,
    endpoint: 'http://127.0.0.1:1',
    sampleRatio: 1,
    headers: {},
    exportTimeoutMs: 1000,
    serviceName: 'recorder-test',
    serviceVersion: '0.0.0',
  }

  async function observed(maxTracesPerSecond: number, { withClock = true } = {}) {
    const clock = { now: 1_700_000_000_000 }
    const windows = { bucketMs: 1000, buckets: 60, maxSeries: 100, describe: describeSeries }
    const store = new TraceStore({ maxSpans: 1000, maxBytes: 1e9, maxSpansPerTrace: 100 })
    const routes = new WindowSet(windows)
    const steps = new WindowSet(windows)
    const inFlight = new InFlight(runningOperationOf, hasOperationEnded)
    const announced: StoredTrace[] = []
    const recorder = new SpanRecorder({
      store,
      routes,
      steps,
      flows: new WindowSet(windows),
      inFlight,
      onTrace: (trace) => announced.push(trace),
      maxTracesPerSecond,
      ...(withClock ? { now: () => clock.now } : {}),
    })
    const tracing = await createTracing({ ...tracingOptions, processors: [recorder] })
    const start = (path = '/r/1') => tracing.startServerSpan('GET', path, { 'user-agent': 'test' })!
    return { tracing, clock, store, routes, steps, inFlight, announced, start }
  }

  let shutdown: (() => Promise<void>) | undefined
  afterEach(async () => {
    await shutdown?.()
    shutdown = undefined
  })

  it('records spans only for admitted requests, while the route windows count every request', async () => {
    const { tracing, store, routes, clock, start } = await observed(2)
    shutdown = () => tracing.shutdown()
    const requests = Array.from({ length: 5 }, () => start())
    expect(requests.map((r) => r.span.isRecording())).toEqual([true, true, false, false, false])
    for (const request of requests) request.end(200, '/r/:id')
    expect(store.list().map((t) => t.name)).toEqual(['GET /r/:id', 'GET /r/:id'])
    expect(routes.get('GET', '/r/:id', clock.now)).toMatchObject({ count: 5, errors: 0 })
    // A request without a recorded span still has ids for logs and callees, unsampled.
    const unrecorded = requests[4]!.span.spanContext()
    expect(unrecorded.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(unrecorded.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(unrecorded.traceFlags).toBe(0)
    // Next second, a new budget.
    clock.now += 1000
    expect(start().span.isRecording()).toBe(true)
  })

  it('keeps a failed request that got no span as its server span alone, with the exception', async () => {
    const { tracing, store, routes, clock, announced, start } = await observed(1)
    shutdown = () => tracing.shutdown()
    start().end(200, '/r/:id')
    const failed = start('/r/2')
    expect(failed.span.isRecording()).toBe(false)
    failed.end(500, '/r/:id', new TypeError('kaboom'))
    expect(routes.get('GET', '/r/:id', clock.now)).toMatchObject({ count: 2, errors: 1 })
    const [summary] = store.list({ status: 'error' })
    expect(summary).toMatchObject({
      traceId: failed.traceId,
      name: 'GET /r/:id',
      route: '/r/:id',
      statusCode: 500,
      spanCount: 1,
      isError: true,
    })
    expect(announced.map((t) => t.traceId)).toContain(failed.traceId)
    const [root] = store.get(failed.traceId)!.spans
    expect(root).toMatchObject({
      spanId: failed.spanId,
      kind: 'server',
      status: 'error',
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/r/2',
        'user_agent.original': 'test',
        'http.route': '/r/:id',
        'http.response.status_code': 500,
        'keel.inspector.root_only': true,
      },
    })
    expect(root!.parentSpanId).toBeUndefined()
    expect(root!.durationMs).toBeGreaterThanOrEqual(0)
    expect(root!.events).toEqual([
      expect.objectContaining({
        name: 'exception',
        attributes: expect.objectContaining({ 'exception.type': 'TypeError', 'exception.message': 'kaboom' }),
      }),
    ])
  })

  it('without a test clock, admits and places a request by the start and duration the server measured', async () => {
    const { tracing, routes, store } = await observed(1, { withClock: false })
    shutdown = () => tracing.shutdown()
    const headers = { 'user-agent': 'test' }
    // Two requests in one second: the budget of 1 admits the first alone.
    const sameSecond = [1, 2].map(() => tracing.startServerSpan('GET', '/r/1', headers)!)
    expect(sameSecond.map((r) => r.span.isRecording())).toEqual([true, false])
    // One that arrived three seconds ago falls in that second's budget, not this one's.
    const arrivedAt = performance.now() - 3000
    const earlier = tracing.startServerSpan('GET', '/r/1', headers, 'GET', arrivedAt)!
    expect(earlier.span.isRecording()).toBe(true)
    // The request record (what recorders see) starts when the server says it arrived.
    expect((earlier as unknown as { startMs: number }).startMs).toBeCloseTo(
      performance.timeOrigin + arrivedAt,
      3,
    )
    for (const request of sameSecond) request.end(200, '/r/:id')
    // Its window bucket is the one of its own end (arrival + the 40 ms measured), with that duration.
    earlier.end(200, '/r/:id', undefined, 40)
    const stats = routes.get('GET', '/r/:id', Date.now(), { series: true })!
    expect(stats.count).toBe(3)
    expect(stats.maxMs).toBe(40)
    const endedAt = performance.timeOrigin + arrivedAt + 40
    const bucket = stats.series!.find(
      (point) => point.count > 0 && point.at <= endedAt && endedAt < point.at + 1000,
    )
    expect(bucket).toMatchObject({ count: 1, p95Ms: 40 })
    expect(store.list()).toHaveLength(2)
  })

  it('does not store a failed request twice when its span was recorded', async () => {
    const { tracing, store, start } = await observed(1)
    shutdown = () => tracing.shutdown()
    const failed = start()
    expect(failed.span.isRecording()).toBe(true)
    failed.end(503, '/r/:id')
    expect(store.get(failed.traceId)!.spans).toHaveLength(1)
    expect(store.get(failed.traceId)!.spans[0]!.attributes['keel.inspector.root_only']).toBeUndefined()
  })

  it('under a request it did not admit, records flow steps for their windows only, and nothing else', async () => {
    const { tracing, store, steps, clock, inFlight, start } = await observed(1)
    shutdown = () => tracing.shutdown()
    start().end(200, '/r/:id')
    const request = start()
    const tracer = tracing.tracer!
    const { step, other } = request.run(() => ({
      step: tracer.startSpan('step charge', {
        attributes: { 'keel.flow': 'order', 'keel.flow.step': 'charge', 'keel.flow.attempt': 1 },
      }),
      other: tracer.startSpan('select orders'),
    }))
    expect(step.isRecording()).toBe(true)
    expect(other.isRecording()).toBe(false)
    expect(step.spanContext().traceId).toBe(request.traceId)
    // A running step is watched for stalls, like the request itself.
    expect(
      inFlight
        .stalls(Date.now() + 60_000, 1000)
        .map((s) => s.kind)
        .sort(),
    ).toEqual(['request', 'step'])
    // A child of that step is not recorded either: the trace is not kept.
    const grandchild = tracer.startSpan('charge card', {}, trace.setSpan(request.context, step))
    expect(grandchild.isRecording()).toBe(false)
    step.end()
    other.end()
    request.end(200, '/r/:id')
    expect(steps.get('order', 'step charge', clock.now)).toMatchObject({ count: 1 })
    expect(store.get(request.traceId)).toBeUndefined()
    expect(store.stats().traces).toBe(1)
    expect(inFlight.size).toBe(0)
  })

  it('runs a request it did not admit with its ids as the active span and its request context for logs', async () => {
    const { tracing, start } = await observed(1)
    shutdown = () => tracing.shutdown()
    start().end(200, '/r/:id')
    const request = start()
    const key = createContextKey('test.value')
    const seen = request.run(
      (n: number) => {
        const withValue = context.active().setValue(key, n)
        return {
          active: trace.getActiveSpan(),
          log: currentContext(),
          spanOfDerived: trace.getSpan(withValue),
          value: withValue.getValue(key),
        }
      },
      { requestId: 'req-7', traceId: request.traceId, spanId: request.spanId },
      7,
    )
    expect(seen.active).toBe(request.span)
    expect(seen.active!.isRecording()).toBe(false)
    expect(seen.active!.spanContext()).toMatchObject({
      traceId: request.traceId,
      spanId: request.spanId,
      traceFlags: 0,
    })
    expect(seen.log).toEqual({ requestId: 'req-7', traceId: request.traceId, spanId: request.spanId })
    // A context derived from the request's keeps its span.
    expect(seen.spanOfDerived).toBe(request.span)
    expect(seen.value).toBe(7)
    expect(trace.getActiveSpan()).toBeUndefined()
    request.end(200, '/r/:id')
  })

  it('tracks a request it did not admit for stalls from start to end', async () => {
    const { tracing, inFlight, start } = await observed(1)
    shutdown = () => tracing.shutdown()
    start().end(200, '/r/:id')
    const request = start('/r/9')
    expect(request.span.isRecording()).toBe(false)
    expect(inFlight.stalls(Date.now() + 60_000, 1000)).toEqual([
      expect.objectContaining({
        kind: 'request',
        traceId: request.traceId,
        spanId: request.spanId,
        name: 'GET /r/9',
        details: { method: 'GET', path: '/r/9' },
      }),
    ])
    request.end(200, '/r/:id')
    expect(inFlight.size).toBe(0)
  })

  it('records every request when another processor is given beside the recorder', async () => {
    const windows = { bucketMs: 1000, buckets: 60, maxSeries: 100, describe: describeSeries }
    const store = new TraceStore({ maxSpans: 1000, maxBytes: 1e9, maxSpansPerTrace: 100 })
    const routes = new WindowSet(windows)
    const recorder = new SpanRecorder({
      store,
      routes,
      steps: new WindowSet(windows),
      flows: new WindowSet(windows),
      inFlight: new InFlight(runningOperationOf, hasOperationEnded),
      onTrace: () => {},
      maxTracesPerSecond: 1,
    })
    const ended: string[] = []
    const other: SpanProcessor = {
      onStart: () => {},
      onEnd: (span) => ended.push(span.name),
      forceFlush: async () => {},
      shutdown: async () => {},
    }
    const tracing = await createTracing({ ...tracingOptions, processors: [recorder, other] })
    shutdown = () => tracing.shutdown()
    for (let i = 0; i < 3; i++) tracing.startServerSpan('GET', '/x', {})!.end(200, '/x')
    expect(ended).toEqual(['GET /x', 'GET /x', 'GET /x'])
    expect(routes.get('GET', '/x', Date.now())).toMatchObject({ count: 3 })
    expect(store.stats()).toMatchObject({ traces: 1, skippedTraces: 2 })
  })
})
