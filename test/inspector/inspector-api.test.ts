import type { App } from 'keel/app'
import type { InspectorModule, StoredSpan, TraceSummary, WindowStats } from 'keel/inspector'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { fixtureApp, inspectorPath, json, type Latch, liveClient, problemOf } from './support/fixture-app.ts'

interface RouteEntry {
  id: string
  method: string
  path: string
  schema: { body?: unknown; params?: unknown }
  window: WindowStats
}

describe('inspector API (dev profile, no token)', () => {
  let app: App
  let module: InspectorModule
  let slow: Latch
  let url: string
  const api = (path: string, init?: RequestInit) => fetch(`${url}${inspectorPath}${path}`, init)

  beforeAll(async () => {
    ;({ app, module, slow } = fixtureApp({ yaml: 'inspector:\n  stallThresholdMs: 50\n' }))
    url = (await app.start()).url
  })
  afterAll(async () => {
    slow.open()
    await app.stop()
  })

  it('records a request with its spans even though tracing export is off', async () => {
    expect(app.config.values.tracing.enabled).toBe(false)
    expect(app.tracing).toMatchObject({ enabled: true, exporting: false })
    expect((await fetch(`${url}/items/7`)).status).toBe(200)
    const { traces } = await eventually(async () => {
      const body = await json<{ traces: TraceSummary[] }>(await api('/traces?route=/items/:id'))
      expect(body.traces).toHaveLength(1)
      return body
    })
    expect(traces[0]).toMatchObject({
      name: 'GET /items/:id',
      route: '/items/:id',
      method: 'GET',
      statusCode: 200,
      spanCount: 2,
      isError: false,
    })
    const detail = await json<{ trace: TraceSummary; spans: Array<StoredSpan & { offsetMs: number }> }>(
      await api(`/traces/${traces[0]!.traceId}`),
    )
    const [server, child] = detail.spans
    expect(server).toMatchObject({ name: 'GET /items/:id', kind: 'server', offsetMs: 0, status: 'unset' })
    expect(server!.parentSpanId).toBeUndefined()
    expect(child).toMatchObject({ name: 'load item', kind: 'internal', parentSpanId: server!.spanId })
    expect(child!.offsetMs).toBeGreaterThanOrEqual(0)
    expect(child!.durationMs).toBeGreaterThan(0)
    expect(server!.durationMs).toBeGreaterThanOrEqual(child!.durationMs)
    // Secrets never reach the inspector: by key name, and inside URLs.
    expect(child!.attributes['db.password']).toBe('[REDACTED]')
    expect(child!.attributes['url.full']).toBe('https://api.example.com/x?token=[REDACTED]&page=2')
  })

  it('shows the route with its schemas and live window stats, errors counted', async () => {
    await fetch(`${url}/boom`)
    await fetch(`${url}/boom`)
    await fetch(`${url}/teapot`)
    const { routes } = await json<{ routes: RouteEntry[] }>(await api('/routes'))
    const byPath = (method: string, path: string) =>
      routes.find((r) => r.method === method && r.path === path)!
    expect(byPath('GET', '/items/:id').window).toMatchObject({ count: 1, errors: 0, errorRate: 0 })
    expect(byPath('GET', '/items/:id').window.series).toHaveLength(60)
    expect(byPath('GET', '/items/:id').schema.params).toMatchObject({
      properties: { id: { type: 'integer' } },
    })
    expect(byPath('GET', '/boom').window).toMatchObject({ count: 2, errors: 2, errorRate: 1 })
    // A 409 is the client's problem, not the server's: not an error in the window.
    expect(byPath('GET', '/teapot').window).toMatchObject({ count: 1, errors: 0 })
    expect(byPath('POST', '/orders').window.count).toBe(0)
    // Internal routes (probes, the inspector itself) are not the app's routes.
    expect(routes.some((r) => r.path.startsWith('/_keel') || r.path === '/ready')).toBe(false)
  })

  it('filters traces by status and refuses a malformed filter with problem+json', async () => {
    const errors = await json<{ traces: TraceSummary[] }>(await api('/traces?status=error'))
    expect(errors.traces.length).toBeGreaterThanOrEqual(2)
    expect(errors.traces.every((t) => t.route === '/boom' && t.statusCode === 500 && t.isError)).toBe(true)
    const conflicts = await json<{ traces: TraceSummary[] }>(await api('/traces?status=4xx'))
    expect(conflicts.traces.map((t) => t.route)).toEqual(['/teapot'])
    const limited = await json<{ traces: TraceSummary[] }>(await api('/traces?limit=1'))
    expect(limited.traces).toHaveLength(1)
    expect((await problemOf(await api('/traces?status=teapot'), 400)).code).toBe('KEEL_VALIDATION')
    expect((await problemOf(await api('/traces?limit=0'), 400)).code).toBe('KEEL_VALIDATION')
    expect((await problemOf(await api('/traces?colour=red'), 400)).code).toBe('KEEL_VALIDATION')
  })

  it('answers 404 problem+json for a trace it does not have, 400 for a malformed id', async () => {
    const missing = await problemOf(await api(`/traces/${'a'.repeat(32)}`), 404)
    expect(missing.code).toBe('KEEL_NOT_FOUND')
    expect((await problemOf(await api('/traces/not-a-trace'), 400)).code).toBe('KEEL_VALIDATION')
  })

  it('does not trace its own API calls, and keeps out of the OpenAPI document', async () => {
    await api('/metrics')
    const { traces } = await json<{ traces: TraceSummary[] }>(await api('/traces?limit=1000'))
    expect(traces.some((t) => (t.route ?? '').startsWith('/_keel'))).toBe(false)
    const described = app.describe().routes.filter((r) => r.path.startsWith('/_keel/inspector/v1'))
    expect(described.length).toBeGreaterThanOrEqual(10)
    expect(described.every((r) => r.internal)).toBe(true)
    const openapi = await json<{ paths: Record<string, unknown> }>(await fetch(`${url}/openapi.json`))
    expect(Object.keys(openapi.paths).some((p) => p.startsWith('/_keel'))).toBe(false)
    expect(Object.keys(openapi.paths)).toContain('/orders')
  })

  it('serves every window in /v1/metrics, with store and live counters', async () => {
    const metrics = await json<{
      bucketMs: number
      buckets: number
      routes: Array<{ key: string; labels: Record<string, string>; window: WindowStats }>
      store: { traces: number; spans: number; bytes: number }
    }>(await api('/metrics?series=true'))
    expect(metrics).toMatchObject({ bucketMs: 1000, buckets: 60 })
    const items = metrics.routes.find((r) => r.key === 'GET /items/:id')!
    expect(items.labels).toEqual({ method: 'GET', route: '/items/:id' })
    expect(items.window.series).toHaveLength(60)
    expect(metrics.store.spans).toBeGreaterThanOrEqual(5)
    expect(metrics.store.bytes).toBeGreaterThan(0)
  })

  it('lists a request running past the stall threshold until it finishes', async () => {
    const pending = fetch(`${url}/slow`)
    const stall = await eventually(async () => {
      const { stalls } = await json<{ stalls: Array<Record<string, unknown>> }>(await api('/stalls'))
      const found = stalls.find((s) => s.name === 'GET /slow')
      expect(found).toBeDefined()
      return found!
    })
    expect(stall).toMatchObject({ kind: 'request', details: { method: 'GET', path: '/slow' } })
    expect(stall.runningMs as number).toBeGreaterThan(50)
    slow.open()
    expect((await pending).status).toBe(200)
    // The request leaves the in-flight set when its response has finished on the server side,
    // which may come a moment after the client has read it.
    await eventually(async () => {
      const { stalls } = await json<{ stalls: unknown[] }>(await api('/stalls'))
      expect(stalls).toEqual([])
    })
  })

  it('generates a sample from a route schema, and relays it through the route’s validation', async () => {
    const { routes } = await json<{ routes: RouteEntry[] }>(await api('/routes'))
    const orders = routes.find((r) => r.method === 'POST' && r.path === '/orders')!
    const sample = await json<{ body: { email: string; sku: string; qty: number } }>(
      await api(`/routes/${orders.id}/sample`),
    )
    expect(sample.body).toMatchObject({ email: 'user@example.com', qty: 1 })
    expect(sample.body.sku).toMatch(/^[A-Z]{3}-[0-9]{2}$/)
    const relay = await json<{
      response: { status: number; body: Record<string, unknown> }
      requestId: string
    }>(
      await api('/relay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ routeId: orders.id }),
      }),
    )
    expect(relay.response.status).toBe(201)
    // The relayed answer passes through redaction like everything the inspector shows.
    expect(relay.response.body).toEqual({ ok: true, qty: 1, token: '[REDACTED]' })
    expect(relay.requestId).toEqual(expect.any(String))
    // A body the route refuses comes back as the route answered it.
    const refused = await json<{ response: { status: number; body: { code: string } } }>(
      await api('/relay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ routeId: orders.id, body: { email: 'nope', sku: 'x', qty: 0 } }),
      }),
    )
    expect(refused.response).toMatchObject({ status: 400, body: { code: 'KEEL_VALIDATION' } })
    // The relayed requests are traced like any other.
    await eventually(async () => {
      const { traces } = await json<{ traces: TraceSummary[] }>(await api('/traces?route=/orders'))
      expect(traces.map((t) => t.statusCode).sort()).toEqual([201, 400])
    })
  })

  it('refuses a sample or a relay for a route it does not know', async () => {
    expect((await problemOf(await api('/routes/0123456789ab/sample'), 404)).code).toBe('KEEL_NOT_FOUND')
    const res = await api('/relay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ routeId: '0123456789ab' }),
    })
    expect((await problemOf(res, 404)).code).toBe('KEEL_NOT_FOUND')
    const malformed = await api('/relay', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect((await problemOf(malformed, 400)).code).toBe('KEEL_VALIDATION')
  })

  it('pushes a finished trace to a live WebSocket client after a request', async () => {
    const client = liveClient(`${url.replace('http', 'ws')}${inspectorPath}/live`, ['keel-inspector.v1'])
    await client.opened
    try {
      expect(client.ws.protocol).toBe('keel-inspector.v1')
      expect(await client.next((m) => m.type === 'hello')).toMatchObject({
        v: 1,
        role: 'operator',
        bucketMs: 1000,
      })
      await fetch(`${url}/items/42`)
      const message = await client.next((m) => m.type === 'trace')
      expect(message).toMatchObject({
        v: 1,
        trace: { name: 'GET /items/:id', route: '/items/:id', statusCode: 200, spanCount: 2 },
      })
      const metrics = await client.next((m) => m.type === 'metrics')
      expect(metrics).toMatchObject({ v: 1, bucketMs: 1000, live: { clients: 1 } })
    } finally {
      client.ws.close()
    }
  })

  it('drops messages to a client that does not read, counts them, and tells it once it catches up', async () => {
    const client = liveClient(`${url.replace('http', 'ws')}${inspectorPath}/live`, ['keel-inspector.v1'])
    await client.opened
    try {
      await client.next((m) => m.type === 'hello')
      client.ws.pause()
      const live = module.runtime!.live
      const before = live.stats().dropped
      const blob = 'x'.repeat(256 * 1024)
      // 64 MiB for one paused reader: far past what the socket buffers hold and the 1 MiB bound.
      for (let i = 0; i < 256; i++) {
        live.publish({ type: 'test', i, blob })
        await new Promise((resolve) => setImmediate(resolve))
      }
      expect(live.stats().dropped).toBeGreaterThan(before)
      client.ws.resume()
      // Once the buffer drains, the next message is preceded by the count of what was missed.
      await eventually(async () => {
        live.publish({ type: 'test', i: -1 })
        await client.next((m) => m.type === 'test' && m.i === -1, 500)
      })
      const dropped = await client.next((m) => m.type === 'dropped')
      expect(dropped.count as number).toBeGreaterThan(0)
      const received = client.messages.filter((m) => m.type === 'test').length
      expect(received + (dropped.count as number)).toBeLessThanOrEqual(257)
    } finally {
      client.ws.close()
    }
  }, 60_000)
})

describe('inspector relay under a spent trace budget', () => {
  let app: App
  let slow: Latch
  let url: string
  const api = (path: string, init?: RequestInit) => fetch(`${url}${inspectorPath}${path}`, init)
  const listed = async () =>
    (await json<{ traces: TraceSummary[] }>(await api('/traces?route=/items/:id'))).traces.map(
      (t) => t.traceId,
    )

  beforeAll(async () => {
    ;({ app, slow } = fixtureApp({ yaml: 'inspector:\n  store:\n    maxTracesPerSecond: 1\n' }))
    url = (await app.start()).url
  })
  afterAll(async () => {
    slow.open()
    await app.stop()
  })

  it('keeps the trace of a relayed request whatever the budget, and answers its trace id', async () => {
    const { routes } = await json<{ routes: RouteEntry[] }>(await api('/routes'))
    const items = routes.find((r) => r.method === 'GET' && r.path === '/items/:id')!
    // Spend this second's budget (one trace), and more: the later requests are not kept.
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/items/${i + 1}`)).status).toBe(200)
    // A client cannot get its requests kept by sending the relay's header: tickets are one-time UUIDs.
    await fetch(`${url}/items/9`, { headers: { 'x-keel-inspector-relay': '1' } })
    await fetch(`${url}/items/9`, { headers: { 'x-keel-inspector-relay': crypto.randomUUID() } })
    const before = await listed()
    expect(before.length).toBeLessThanOrEqual(2)

    const relay = await json<{ response: { status: number }; traceId: string }>(
      await api('/relay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ routeId: items.id, params: { id: 42 } }),
      }),
    )
    expect(relay.response.status).toBe(200)
    expect(relay.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(before).not.toContain(relay.traceId)
    const detail = await json<{ trace: TraceSummary }>(await api(`/traces/${relay.traceId}`))
    expect(detail.trace).toMatchObject({ traceId: relay.traceId, route: '/items/:id', statusCode: 200 })
    expect(await listed()).toContain(relay.traceId)
  })
})
