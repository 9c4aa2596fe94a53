import { trace } from '@opentelemetry/api'
import type { App } from 'keel/app'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { otlpServerKind, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.ts'
import { testApp } from '../support/test-app.ts'

const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const callerSpanId = '00f067aa0ba902b7'
const sampledParent = `00-${callerTraceId}-${callerSpanId}-01`

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>
const running: App[] = []
beforeEach(async () => {
  receiver = await startOtlpReceiver()
})
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
  await receiver.close()
})

/**
 * An app exporting to the local receiver; `/users/:id` makes a child span and logs, `/boom/:n`
 * throws.
 */
async function tracedApp(tracing: Record<string, unknown> = {}) {
  const { app, logs } = testApp({
    overrides: {
      service: { name: 'orders', version: '1.4.2' },
      tracing: { enabled: true, endpoint: receiver.endpoint, exportTimeoutMs: 5000, ...tracing },
    },
  })
  app.get('/users/:id', async (ctx) => {
    const active = trace.getActiveSpan()?.spanContext().spanId
    const child = await app.tracing.tracer!.startActiveSpan('load user', async (span) => {
      await new Promise((resolve) => setTimeout(resolve, 2))
      span.setAttribute('user.id', String(ctx.params.id))
      const spanId = span.spanContext().spanId
      span.end()
      return spanId
    })
    ctx.log.info({ user: ctx.params.id }, 'user loaded')
    return { id: ctx.params.id, active, child }
  })
  app.get('/boom/:n', () => {
    throw new Error('kaboom')
  })
  const { url } = await app.start()
  running.push(app)
  return { app, logs, url }
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { connection: 'close', ...headers } })
  expect(res.status).toBe(200)
  return (await res.json()) as { id: string; active?: string; child?: string }
}

async function stop(app: App) {
  const index = running.indexOf(app)
  if (index >= 0) running.splice(index, 1)
  const report = await app.stop()
  expect(report.ok).toBe(true)
  expect(report.phases.some((p) => p.phase === 'tracing')).toBe(app.config.values.tracing.enabled)
}

const spansOf = (traceId: string): ReceivedSpan[] => receiver.spans.filter((s) => s.traceId === traceId)

describe('tracing', () => {
  it('continues the caller trace: SERVER span, child span and resource reach the OTLP endpoint', async () => {
    const { app, logs, url } = await tracedApp()
    expect(app.tracing.enabled).toBe(true)
    const body = await get(`${url}/users/7`, { traceparent: sampledParent })
    await stop(app) // flushes the batch

    expect(receiver.rejected).toEqual([])
    const spans = spansOf(callerTraceId)
    expect(spans.map((s) => s.name).sort()).toEqual(['GET /users/:id', 'load user'])
    const server = spans.find((s) => s.kind === otlpServerKind)!
    expect(server).toMatchObject({
      traceId: callerTraceId,
      parentSpanId: callerSpanId,
      name: 'GET /users/:id',
      attributes: {
        'http.route': '/users/:id',
        'http.request.method': 'GET',
        'http.response.status_code': 200,
        'url.path': '/users/7',
      },
      resource: { 'service.name': 'orders', 'service.version': '1.4.2' },
    })
    expect(server.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(server.status.code ?? 0).not.toBe(2) // not ERROR

    const child = spans.find((s) => s.name === 'load user')!
    expect(child).toMatchObject({ traceId: callerTraceId, parentSpanId: server.spanId })
    expect(child.attributes['user.id']).toBe('7')
    expect(child.spanId).toBe(body.child)
    // The OTel API in user code sees the request span as active.
    expect(body.active).toBe(server.spanId)

    const access = logs.records.find((r) => r.msg === 'request completed' && r.url === '/users/7')
    expect(access).toMatchObject({ trace_id: callerTraceId, span_id: server.spanId, status: 200 })
    const handlerLine = logs.records.find((r) => r.msg === 'user loaded')
    expect(handlerLine).toMatchObject({ trace_id: callerTraceId, span_id: server.spanId })
  })

  it('starts a new trace when no traceparent comes in, and logs its id', async () => {
    const { app, logs, url } = await tracedApp()
    await get(`${url}/users/1`)
    await stop(app)

    const server = receiver.spans.find((s) => s.kind === otlpServerKind)
    expect(server?.name).toBe('GET /users/:id')
    expect(server?.parentSpanId).toBe('')
    expect(server?.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(server?.traceId).not.toBe(callerTraceId)
    const access = logs.records.find((r) => r.msg === 'request completed' && r.url === '/users/1')
    expect(access?.trace_id).toBe(server?.traceId)
  })

  it('logs the active span ids outside any request (a job, a claimed flow run), and none without a span', async () => {
    const { app, logs } = await tracedApp()
    const log = app.logger('worker')
    log.info('before any span')
    const ids = await app.tracing.tracer!.startActiveSpan('job email', async (span) => {
      await new Promise((resolve) => setTimeout(resolve, 1))
      log.info('inside the job span')
      span.end()
      return span.spanContext()
    })
    await stop(app)

    const outside = logs.records.find((r) => r.msg === 'before any span')
    expect(outside).toBeDefined()
    expect(outside).not.toHaveProperty('trace_id')
    const inside = logs.records.find((r) => r.msg === 'inside the job span')
    expect(inside).toMatchObject({ trace_id: ids.traceId, span_id: ids.spanId })
    expect(inside).not.toHaveProperty('request_id')
    expect(receiver.spans.find((s) => s.name === 'job email')?.traceId).toBe(ids.traceId)
  })

  it('marks the SERVER span of a 500 as an error with the exception recorded', async () => {
    const { app, url } = await tracedApp()
    const res = await fetch(`${url}/boom/1`, { headers: { connection: 'close', traceparent: sampledParent } })
    expect(res.status).toBe(500)
    await stop(app)

    const server = spansOf(callerTraceId).find((s) => s.kind === otlpServerKind)
    expect(server).toMatchObject({
      name: 'GET /boom/:n',
      parentSpanId: callerSpanId,
      attributes: { 'http.route': '/boom/:n', 'http.response.status_code': 500 },
      status: { code: 2 }, // STATUS_CODE_ERROR
    })
    expect(server?.events).toContainEqual({
      name: 'exception',
      attributes: expect.objectContaining({ 'exception.message': 'kaboom', 'exception.type': 'Error' }),
    })
  })

  it('keeps a second traced app in the process working after the first one stops', async () => {
    const first = await tracedApp()
    const second = await tracedApp()
    await stop(first.app)

    const body = await get(`${second.url}/users/5`, { traceparent: sampledParent })
    await stop(second.app)

    const spans = spansOf(callerTraceId)
    const server = spans.find((s) => s.kind === otlpServerKind)
    const child = spans.find((s) => s.name === 'load user')
    expect(server?.name).toBe('GET /users/:id')
    expect(child?.parentSpanId).toBe(server?.spanId)
    expect(body.active).toBe(server?.spanId)
  })

  it('with tracing off, still logs the caller trace id from traceparent and exports nothing', async () => {
    const { app, logs } = testApp({
      overrides: { tracing: { enabled: false, endpoint: receiver.endpoint } },
    })
    app.get('/users/:id', (ctx) => {
      ctx.log.info('handled')
      return { id: ctx.params.id, active: trace.getActiveSpan()?.spanContext().spanId }
    })
    const { url } = await app.start()
    running.push(app)
    expect(app.tracing.enabled).toBe(false)
    expect(app.tracing.tracer).toBeUndefined()

    const body = await get(`${url}/users/3`, { traceparent: sampledParent })
    await stop(app)

    expect(body.active).toBeUndefined()
    const access = logs.records.find((r) => r.msg === 'request completed' && r.url === '/users/3')
    expect(access).toMatchObject({ trace_id: callerTraceId, span_id: callerSpanId })
    expect(logs.records.find((r) => r.msg === 'handled')?.trace_id).toBe(callerTraceId)
    expect(receiver.spans).toEqual([])
  })

  it('with tracing off, ignores a malformed traceparent and logs a fresh trace id instead', async () => {
    const { app, logs } = testApp()
    app.get('/x', () => 'ok')
    const { url } = await app.start()
    running.push(app)
    const res = await fetch(`${url}/x`, {
      headers: { connection: 'close', traceparent: `00-${'0'.repeat(32)}-${callerSpanId}-01` },
    })
    expect(await res.text()).toBe('ok')
    await stop(app)
    const access = logs.records.find((r) => r.msg === 'request completed' && r.url === '/x')
    expect(access?.status).toBe(200)
    expect(access?.trace_id).toMatch(/^[0-9a-f]{32}$/)
    expect(access?.trace_id).not.toBe('0'.repeat(32))
    expect(access).not.toHaveProperty('span_id', callerSpanId)
  })

  it('at sampleRatio 0 records only requests whose caller sampled them (parent-based)', async () => {
    const { app, url } = await tracedApp({ sampleRatio: 0 })
    await get(`${url}/users/1`) // root: ratio 0 drops it
    const unsampledTraceId = '11111111111111111111111111111111'
    await get(`${url}/users/2`, { traceparent: `00-${unsampledTraceId}-${callerSpanId}-00` })
    await get(`${url}/users/3`, { traceparent: sampledParent })
    await stop(app)

    expect(receiver.rejected).toEqual([])
    // Only the sampled caller's trace arrived, with both of its spans.
    expect(new Set(receiver.spans.map((s) => s.traceId))).toEqual(new Set([callerTraceId]))
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(['GET /users/:id', 'load user'])
    expect(receiver.spans.find((s) => s.kind === otlpServerKind)?.attributes['url.path']).toBe('/users/3')
  })

  it('at sampleRatio 0 with no traceparent, the receiver gets no spans at all', async () => {
    const { app, url } = await tracedApp({ sampleRatio: 0 })
    await get(`${url}/users/1`)
    await get(`${url}/users/2`)
    await stop(app)
    expect(receiver.spans).toEqual([])
  })
})
