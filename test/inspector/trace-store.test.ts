import { type StoredSpan, spanBytes, TraceStore } from 'keel/inspector'
import { describe, expect, it } from 'vitest'

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0')

/** A span of trace `t`; span 0 is the root, others its children. */
function span(t: number, s: number, extra: Partial<StoredSpan> = {}): StoredSpan {
  return {
    traceId: hex(t, 32),
    spanId: hex(t * 1000 + s, 16),
    ...(s === 0 ? {} : { parentSpanId: hex(t * 1000, 16) }),
    name: s === 0 ? 'GET /items/:id' : `child ${s}`,
    kind: s === 0 ? 'server' : 'internal',
    startMs: 1_000 + t * 10 + s,
    durationMs: 5,
    status: 'unset',
    attributes:
      s === 0
        ? { 'http.route': '/items/:id', 'http.request.method': 'GET', 'http.response.status_code': 200 }
        : {},
    ...extra,
  }
}

const big = { maxBytes: 1e9, maxSpansPerTrace: 1000 }

describe('TraceStore', () => {
  it('evicts the oldest whole traces once the span count passes maxSpans', () => {
    const store = new TraceStore({ maxSpans: 10, ...big })
    for (let t = 1; t <= 4; t++) for (let s = 3; s >= 0; s--) store.add(span(t, s))
    // 4 traces x 4 spans = 16 > 10: traces 1 and 2 went whole, none was left with holes.
    expect(store.get(hex(1, 32))).toBeUndefined()
    expect(store.get(hex(2, 32))).toBeUndefined()
    expect(store.get(hex(3, 32))?.spans).toHaveLength(4)
    expect(store.get(hex(4, 32))?.spans).toHaveLength(4)
    expect(store.stats()).toMatchObject({ traces: 2, spans: 8, evictedTraces: 2 })
  })

  it('evicts by estimated bytes too, counting captured payloads', () => {
    const one = spanBytes(span(1, 0))
    const store = new TraceStore({ maxSpans: 1000, maxBytes: one * 3 + 10, maxSpansPerTrace: 1000 })
    for (let t = 1; t <= 3; t++) store.add(span(t, 0))
    expect(store.stats().traces).toBe(3)
    store.attachCapture(hex(3, 32), {
      request: { headers: {} },
      response: { status: 200 },
      truncated: false,
      bytes: one,
    })
    // The capture pushed the total past the bound: the oldest trace goes, the captured one stays.
    expect(store.get(hex(1, 32))).toBeUndefined()
    expect(store.get(hex(3, 32))?.capture).toBeDefined()
    expect(store.stats().bytes).toBeLessThanOrEqual(one * 3 + 10)
    expect(store.stats().bytes).toBe(one * 2 + one)
  })

  it('keeps at most maxSpansPerTrace spans of one trace and counts the rest', () => {
    const store = new TraceStore({ maxSpans: 1000, maxBytes: 1e9, maxSpansPerTrace: 3 })
    for (let s = 5; s >= 0; s--) store.add(span(7, s))
    const trace = store.get(hex(7, 32))!
    expect(trace.spans).toHaveLength(3)
    expect(trace.droppedSpans).toBe(3)
    expect(store.stats()).toMatchObject({ spans: 3, droppedSpans: 3 })
  })

  it('drops a single trace larger than the whole bound rather than keep an unbounded one', () => {
    const store = new TraceStore({ maxSpans: 2, maxBytes: 1e9, maxSpansPerTrace: 1000 })
    store.add(span(1, 2))
    store.add(span(1, 1))
    store.add(span(1, 0))
    expect(store.stats()).toMatchObject({ traces: 0, spans: 0, bytes: 0, evictedTraces: 1 })
  })

  it('keeps exactly the newest traces through a long stream of evictions', () => {
    const store = new TraceStore({ maxSpans: 100, ...big })
    for (let t = 1; t <= 20_000; t++) store.add(span(t, 0))
    expect(store.stats()).toMatchObject({ traces: 100, spans: 100, evictedTraces: 19_900 })
    expect(store.get(hex(19_900, 32))).toBeUndefined()
    expect(store.get(hex(19_901, 32))).toBeDefined()
    expect(store.list({ limit: 1000 }).map((t) => t.traceId)).toHaveLength(100)
  })

  it('evicts a growing trace in its turn: spans arriving late do not make it young', () => {
    const store = new TraceStore({ maxSpans: 4, ...big })
    store.add(span(1, 1)) // trace 1 first seen
    store.add(span(2, 0))
    store.add(span(3, 0))
    store.add(span(1, 0)) // trace 1 grows: 4 spans in all
    store.add(span(4, 0)) // 5 > 4: the oldest, trace 1 (2 spans), goes whole
    expect(store.get(hex(1, 32))).toBeUndefined()
    expect([2, 3, 4].map((t) => store.get(hex(t, 32))?.spans.length)).toEqual([1, 1, 1])
  })

  it('forgets a skipped trace with the children stored so far, counting it apart from evictions', () => {
    const store = new TraceStore({ maxSpans: 1000, ...big })
    store.add(span(5, 1))
    store.add(span(5, 2))
    store.skip(hex(5, 32))
    expect(store.get(hex(5, 32))).toBeUndefined()
    expect(store.stats()).toMatchObject({ traces: 0, spans: 0, bytes: 0, evictedTraces: 0, skippedTraces: 1 })
    store.add(span(6, 0)) // the order list still works after a skip
    expect(store.list().map((t) => t.traceId)).toEqual([hex(6, 32)])
    // Many skipped traces, then evictions: only live traces are evicted, in order.
    for (let t = 100; t < 5100; t++) {
      store.add(span(t, 1))
      store.skip(hex(t, 32))
    }
    const small = new TraceStore({ maxSpans: 2, ...big })
    for (let t = 100; t < 3100; t++) {
      small.add(span(t, 1))
      if (t % 2 === 0) small.skip(hex(t, 32))
    }
    expect(small.stats()).toMatchObject({ traces: 2, spans: 2 })
    expect(small.get(hex(3099, 32))).toBeDefined()
    expect(small.get(hex(3097, 32))).toBeDefined()
  })

  it('lists finished traces newest first, filtered by route and by status', () => {
    const store = new TraceStore({ maxSpans: 1000, ...big })
    store.add(span(1, 0))
    store.add(span(2, 0, { attributes: { 'http.route': '/boom', 'http.response.status_code': 500 } }))
    store.add(span(3, 0, { attributes: { 'http.route': '/items/:id', 'http.response.status_code': 404 } }))
    store.add(span(4, 1)) // no root yet: not listed
    expect(store.list().map((t) => t.traceId)).toEqual([hex(3, 32), hex(2, 32), hex(1, 32)])
    expect(store.list({ route: '/items/:id' }).map((t) => t.traceId)).toEqual([hex(3, 32), hex(1, 32)])
    expect(store.list({ status: 'error' }).map((t) => t.traceId)).toEqual([hex(2, 32)])
    expect(store.list({ status: 'ok' }).map((t) => t.traceId)).toEqual([hex(3, 32), hex(1, 32)])
    expect(store.list({ status: '4xx' }).map((t) => t.statusCode)).toEqual([404])
    expect(store.list({ status: '200' }).map((t) => t.traceId)).toEqual([hex(1, 32)])
    expect(store.list({ limit: 1 })).toHaveLength(1)
  })

  it('summarizes a trace from its root: name, route, status, span count and duration', () => {
    const store = new TraceStore({ maxSpans: 1000, ...big })
    store.add(span(9, 1, { startMs: 1_100, durationMs: 20 }))
    store.add(span(9, 0, { startMs: 1_095, durationMs: 30 }))
    expect(store.list()[0]).toEqual({
      traceId: hex(9, 32),
      name: 'GET /items/:id',
      route: '/items/:id',
      method: 'GET',
      statusCode: 200,
      startMs: 1_095,
      durationMs: 30,
      spanCount: 2,
      droppedSpans: 0,
      isError: false,
      hasCapture: false,
    })
  })
})
