import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import type { App } from 'keel/app'
import { type Guard, HttpError, Rooms } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { httpRequest, rawGet } from '../support/raw-http.ts'
import { testApp } from '../support/test-app.ts'
import { openClient as open } from './websocket-clients.ts'

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

async function start(define: (app: App) => void, yaml?: string) {
  const { app, logs } = testApp({ yaml })
  define(app)
  const address = await app.start()
  running = app
  return { app, url: address.url, wsUrl: address.url.replace('http', 'ws'), port: address.port, logs }
}

/** Tries to open a client that the server refuses; resolves with the HTTP response it got instead. */
function refused(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => reject(new Error('the upgrade was accepted')))
    ws.once('error', () => {})
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
  })
}

const nextMessage = (ws: WebSocket): Promise<string> =>
  new Promise((resolve) => ws.once('message', (data) => resolve(String(data))))

const closed = (ws: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })))

const bearer: Guard = {
  name: 'bearer',
  handle(ctx, next) {
    if (ctx.headers.authorization !== 'Bearer good') {
      throw new HttpError(
        401,
        'KEEL_UNAUTHORIZED',
        'a bearer token is required',
        {},
        { 'www-authenticate': 'Bearer' },
      )
    }
    ctx.principal = { id: 'ada', kind: 'jwt', roles: ['admin'], scopes: [], claims: {} }
    return next()
  },
}

describe('WebSocket routes', () => {
  it('gives each connection its params, query, request id and principal, and echoes', async () => {
    const { wsUrl } = await start((app) =>
      app.ws('/rooms/:room', { guards: [bearer] }, (conn) => {
        void conn.send({
          room: conn.params.room,
          q: conn.query.q,
          requestId: conn.requestId,
          who: conn.principal?.id,
        })
        conn.socket.on('message', (data) => void conn.send(`echo:${data}`))
      }),
    )
    const { ws, upgrade, next } = await open(`${wsUrl}/rooms/lobby?q=1`, {
      headers: { authorization: 'Bearer good', 'x-request-id': 'req-42' },
    })
    expect(upgrade.headers['x-request-id']).toBe('req-42')
    expect(JSON.parse(await next())).toEqual({ room: 'lobby', q: '1', requestId: 'req-42', who: 'ada' })
    ws.send('hi')
    expect(await next()).toBe('echo:hi')
    ws.close()
  })

  it('answers an upgrade for an unknown path with a 404 problem and closes the socket', async () => {
    const { wsUrl } = await start((app) => app.ws('/chat', () => {}))
    const res = await refused(`${wsUrl}/nope`)
    expect(res.status).toBe(404)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers.connection).toBe('close')
    expect(JSON.parse(res.body)).toMatchObject({ status: 404, code: 'KEEL_NOT_FOUND' })
  })

  it('answers a guard that refuses with its status and headers, before any upgrade', async () => {
    const { wsUrl, logs } = await start((app) => app.ws('/admin', { guards: [bearer] }, () => {}))
    const res = await refused(`${wsUrl}/admin`, { authorization: 'Bearer bad' })
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer')
    expect(res.headers['x-request-id']).toBeDefined()
    expect(JSON.parse(res.body)).toMatchObject({ status: 401, code: 'KEEL_UNAUTHORIZED' })
    expect(logs.records.some((l) => l.msg === 'websocket upgrade refused' && l.status === 401)).toBe(true)
  })

  it('runs app-wide guards on upgrades too', async () => {
    const denyAll: Guard = {
      name: 'deny',
      handle: () => {
        throw new HttpError(403, 'KEEL_FORBIDDEN', 'nobody may connect')
      },
    }
    const { wsUrl } = await start((app) => {
      app.guard(denyAll)
      app.ws('/chat', () => {})
    })
    const res = await refused(`${wsUrl}/chat`)
    expect(res.status).toBe(403)
    expect(JSON.parse(res.body)).toMatchObject({ code: 'KEEL_FORBIDDEN' })
  })

  it('answers a plain GET on a WebSocket route with 426 Upgrade Required', async () => {
    const { url } = await start((app) => app.ws('/chat', () => {}))
    const res = await httpRequest(`${url}/chat`)
    expect(res.status).toBe(426)
    expect(res.headers.upgrade).toBe('websocket')
    expect(JSON.parse(res.text)).toMatchObject({ code: 'KEEL_UPGRADE_REQUIRED', title: 'Upgrade Required' })
  })

  it('closes a connection that sends a message over maxPayloadBytes with 1009', async () => {
    const { wsUrl } = await start((app) =>
      app.ws('/small', { maxPayloadBytes: 1024 }, (conn) => {
        conn.socket.on('message', (data) => void conn.send(`got ${String(data).length}`))
      }),
    )
    const { ws, next } = await open(`${wsUrl}/small`)
    ws.send('x'.repeat(1024))
    expect(await next()).toBe('got 1024')
    const closing = closed(ws)
    ws.send('x'.repeat(1025))
    expect((await closing).code).toBe(1009)
  })

  it('terminates a peer that stops answering pings', async () => {
    const { wsUrl, logs } = await start((app) => app.ws('/alive', { pingIntervalMs: 30 }, () => {}))
    const answering = await open(`${wsUrl}/alive`)
    const silent = await open(`${wsUrl}/alive`, { autoPong: false })
    const silentClosed = closed(silent.ws)
    expect((await silentClosed).code).toBe(1006)
    expect(answering.ws.readyState).toBe(WebSocket.OPEN)
    expect(logs.records.some((l) => l.msg === 'websocket peer did not answer ping')).toBe(true)
    answering.ws.close()
  })

  it('closes with 1011 when the handler fails', async () => {
    const { wsUrl } = await start((app) =>
      app.ws('/broken', async () => {
        throw new Error('boom')
      }),
    )
    const { ws } = await open(`${wsUrl}/broken`)
    expect((await closed(ws)).code).toBe(1011)
  })

  it('broadcasts to a room, skipping the sender, and forgets closed members', async () => {
    const rooms = new Rooms()
    const { wsUrl, url } = await start((app) => {
      app.ws('/rooms/:room', (conn) => {
        rooms.join(conn.params.room!, conn)
        conn.socket.on('message', (data) =>
          rooms.broadcast(conn.params.room!, String(data), { except: conn }),
        )
        void conn.send('joined')
      })
      app.post('/rooms/:room/announce', (ctx) => ({
        delivered: rooms.broadcast(ctx.params.room!, { notice: 'hi' }),
      }))
    })
    const join = async (room: string) => {
      const ws = new WebSocket(`${wsUrl}/rooms/${room}`)
      await nextMessage(ws)
      return ws
    }
    const [a1, a2, a3, b1] = await Promise.all([join('a'), join('a'), join('a'), join('b')])
    const others = [a2!, a3!].map(nextMessage)
    let bGot = false
    b1!.on('message', () => {
      bGot = true
    })
    a1!.send('from a1')
    expect(await Promise.all(others)).toEqual(['from a1', 'from a1'])

    const announced = await httpRequest(`${url}/rooms/a/announce`, { method: 'POST' })
    expect(JSON.parse(announced.text)).toEqual({ delivered: 3 })

    const gone = closed(a3!)
    a3!.close()
    await gone
    // The server sees the close a moment after the client does.
    while (rooms.size('a') !== 2) await new Promise((resolve) => setTimeout(resolve, 5))
    expect(rooms.names().sort()).toEqual(['a', 'b'])
    expect(bGot).toBe(false)
    for (const ws of [a1!, a2!, b1!]) ws.close()
  })

  it('serves non-WebSocket upgrades (h2c) as plain HTTP', async () => {
    const { port } = await start((app) => {
      app.ws('/chat', () => {})
      app.get('/hello', () => ({ hello: 'world' }))
    })
    const res = await rawGet(port, '/hello', {
      connection: 'Upgrade, HTTP2-Settings',
      upgrade: 'h2c',
      'http2-settings': 'AAMAAABkAAQAAP__',
    })
    expect(res.status).toBe(200)
    expect(JSON.parse(res.text)).toEqual({ hello: 'world' })
  })

  it('refuses upgrades with 503 while the app is still starting', async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const { app } = testApp({ modules: [{ name: 'slow', start: () => held }] })
    app.ws('/chat', () => {})
    const starting = app.start()
    running = app
    while (!app.address) await new Promise((resolve) => setTimeout(resolve, 5))
    const wsUrl = app.address.url.replace('http', 'ws')
    const res = await refused(`${wsUrl}/chat`)
    expect(res.status).toBe(503)
    expect(res.headers['retry-after']).toBe('1')
    expect(JSON.parse(res.body)).toMatchObject({ code: 'KEEL_NOT_READY' })
    release()
    await starting
    const { ws } = await open(`${wsUrl}/chat`)
    ws.close()
  })

  it('lists WebSocket routes in the app description', () => {
    const { app } = testApp()
    app.ws('/chat', { maxPayloadBytes: 2048, pingIntervalMs: 0 }, () => {})
    const route = app.describe().routes.find((r) => r.path === '/chat')
    expect(route).toMatchObject({
      method: 'GET',
      meta: { websocket: { maxPayloadBytes: 2048, pingIntervalMs: 0 } },
    })
  })
})

describe('WebSocket shutdown', () => {
  it('closes every connection with 1001 when the app stops', async () => {
    const { app, wsUrl } = await start((app) => app.ws('/chat', () => {}), 'shutdown:\n  deadlineMs: 5000\n')
    const clients = await Promise.all([open(`${wsUrl}/chat`), open(`${wsUrl}/chat`)])
    const closes = clients.map(({ ws }) => closed(ws))
    const report = await app.stop()
    running = undefined
    for (const close of await Promise.all(closes))
      expect(close).toEqual({ code: 1001, reason: 'server shutting down' })
    expect(report.ok).toBe(true)
    expect(report.phases.find((p) => p.phase === 'http')?.status).toBe('ok')
  })

  it('still finishes within the deadline when a peer never answers the close', async () => {
    const { app, port } = await start((app) => app.ws('/chat', () => {}), 'shutdown:\n  deadlineMs: 1500\n')
    // A raw client: completes the handshake, then never reads or answers anything.
    const socket = connect(port, '127.0.0.1')
    socket.on('error', () => {})
    await new Promise<void>((resolve) => {
      socket.once('data', () => resolve())
      socket.write(
        'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      )
    })
    socket.pause()
    const startedAt = performance.now()
    const report = await app.stop()
    running = undefined
    expect(performance.now() - startedAt).toBeLessThan(3000)
    expect(report.phases.find((p) => p.phase === 'http')).toMatchObject({
      status: 'failed',
      error: '1 connection(s) still open at the deadline were closed',
    })
    socket.destroy()
  })

  it('refuses an upgrade that arrives once the server is closing with 503', async () => {
    const { app, port } = await start((app) => app.ws('/chat', () => {}))
    // A connection accepted before the stop can still send its upgrade request afterwards.
    const socket = connect(port, '127.0.0.1')
    await new Promise((resolve) => socket.once('connect', resolve))
    const stopping = app.stop()
    running = undefined
    await new Promise((resolve) => setTimeout(resolve, 20))
    let response = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      response += chunk
    })
    const ended = new Promise((resolve) => socket.once('close', resolve))
    socket.write(
      'GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
    )
    await ended
    expect(response).toMatch(/^HTTP\/1\.1 503 /)
    expect(response).toContain('retry-after: 1')
    expect(response).toContain('"code":"KEEL_NOT_READY"')
    expect((await stopping).ok).toBe(true)
  })
})
