import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AlwaysOnSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base'
import {
  InFlight,
  runningOperationOf,
  SpanRecorder,
  type StoredTrace,
  TraceStore,
  WindowSet,
} from 'keel/inspector'
import { describe, expect, it } from 'vitest'

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
    inFlight: new InFlight(runningOperationOf),
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
    const inFlight = new InFlight(runningOperationOf)
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
