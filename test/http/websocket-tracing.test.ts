import type { App } from 'keel/app'
import { type Guard, HttpError } from 'keel/http'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { otlpServerKind, type ReceivedSpan, startOtlpReceiver } from '../support/otlp-receiver.ts'
import { testApp } from '../support/test-app.ts'
import { closedClient, openClient, refusedStatus } from './websocket-clients.ts'

const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const callerSpanId = '00f067aa0ba902b7'

let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>
let running: App | undefined
beforeEach(async () => {
  receiver = await startOtlpReceiver()
})
afterEach(async () => {
  await running?.stop()
  running = undefined
  await receiver.close()
})

const members: Guard = {
  name: 'members',
  handle(ctx, next) {
    if (ctx.headers.authorization !== 'Bearer member')
      throw new HttpError(401, 'KEEL_UNAUTHORIZED', 'members only', {}, { 'www-authenticate': 'Bearer' })
    ctx.log.info('member let in')
    return next()
  },
}

async function start() {
  const { app, logs } = testApp({
    overrides: { tracing: { enabled: true, endpoint: receiver.endpoint, exportTimeoutMs: 5000 } },
  })
  app.ws('/rooms/:room', { guards: [members] }, (conn) => {
    conn.log.info('joined')
    conn.socket.on('message', (data) => void conn.send(`echo:${data}`))
  })
  const { url } = await app.start()
  running = app
  return { app, logs, wsUrl: url.replace('http', 'ws') }
}

/** Stops the app, which flushes its spans to the receiver, and returns the SERVER spans. */
async function serverSpans(app: App): Promise<ReceivedSpan[]> {
  await app.stop()
  running = undefined
  return receiver.spans.filter((s) => s.kind === otlpServerKind)
}

describe('WebSocket upgrade spans', () => {
  it('makes one SERVER span per accepted upgrade, child of the caller, ended at the 101', async () => {
    const { app, logs, wsUrl } = await start()
    const client = await openClient(`${wsUrl}/rooms/lobby`, {
      headers: { authorization: 'Bearer member', traceparent: `00-${callerTraceId}-${callerSpanId}-01` },
    })
    client.ws.send('hi')
    expect(await client.next()).toBe('echo:hi')
    client.ws.close()
    await closedClient(client.ws)
    const spans = await serverSpans(app)
    expect(spans).toHaveLength(1)
    const span = spans[0]!
    expect(span.name).toBe('WS /rooms/:room')
    expect(span.traceId).toBe(callerTraceId)
    expect(span.parentSpanId).toBe(callerSpanId)
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/rooms/lobby',
      'http.route': '/rooms/:room',
      'http.response.status_code': 101,
      'keel.websocket.outcome': 'accepted',
    })
    expect(span.status.code ?? 0).toBe(0)
    // Lines from the guard (inside the upgrade) and from the connection carry the span's trace id.
    const guardLine = logs.records.find((l) => l.msg === 'member let in')
    const joinedLine = logs.records.find((l) => l.msg === 'joined')
    expect(guardLine?.trace_id).toBe(callerTraceId)
    expect(joinedLine?.trace_id).toBe(callerTraceId)
  })

  it('ends a refused upgrade span with the status and the reason', async () => {
    const { app, wsUrl } = await start()
    expect(await refusedStatus(`${wsUrl}/rooms/lobby`)).toBe(401)
    expect(await refusedStatus(`${wsUrl}/elsewhere`)).toBe(404)
    const spans = await serverSpans(app)
    const refused = spans.find((s) => s.attributes['url.path'] === '/rooms/lobby')
    expect(refused).toMatchObject({
      name: 'WS /rooms/:room',
      attributes: { 'http.response.status_code': 401, 'keel.websocket.outcome': 'unauthorized' },
    })
    // No route matched: the span keeps the bare name, as an unmatched HTTP request's does.
    const unmatched = spans.find((s) => s.attributes['url.path'] === '/elsewhere')
    expect(unmatched).toMatchObject({
      name: 'WS',
      attributes: { 'http.response.status_code': 404, 'keel.websocket.outcome': 'not_found' },
    })
    expect(unmatched?.attributes['http.route']).toBeUndefined()
  })

  it('does not trace an internal WebSocket route, as internal HTTP routes are not', async () => {
    const { app } = testApp({
      overrides: { tracing: { enabled: true, endpoint: receiver.endpoint, exportTimeoutMs: 5000 } },
    })
    app.ws('/feed', { internal: true }, () => {})
    app.ws('/public', () => {})
    const { url } = await app.start()
    running = app
    for (const path of ['/feed', '/public']) {
      const client = await openClient(`${url.replace('http', 'ws')}${path}`)
      client.ws.close()
      await closedClient(client.ws)
    }
    const paths = (await serverSpans(app)).map((s) => s.attributes['url.path'])
    expect(paths).toContain('/public')
    expect(paths).not.toContain('/feed')
  })

  it('marks an upgrade whose guard fails with a 500 as an error and records the exception', async () => {
    const { app, wsUrl } = await (async () => {
      const { app } = testApp({
        overrides: { tracing: { enabled: true, endpoint: receiver.endpoint, exportTimeoutMs: 5000 } },
      })
      const broken: Guard = {
        name: 'broken',
        handle: () => {
          throw new Error('guard bug')
        },
      }
      app.ws('/broken', { guards: [broken] }, () => {})
      const { url } = await app.start()
      running = app
      return { app, wsUrl: url.replace('http', 'ws') }
    })()
    expect(await refusedStatus(`${wsUrl}/broken`)).toBe(500)
    const [span] = await serverSpans(app)
    expect(span).toMatchObject({
      name: 'WS /broken',
      status: { code: 2 },
      attributes: { 'http.response.status_code': 500, 'keel.websocket.outcome': 'error' },
    })
    expect(
      span!.events.some((e) => e.name === 'exception' && e.attributes['exception.message'] === 'guard bug'),
    ).toBe(true)
  })
})
