import { connect } from 'node:net'
import type { App } from 'keel/app'
import { jwtAuth, Rooms, rateLimit } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'
import { AUDIENCE, goodClaims, ISSUER, SECRET, secretBytes, sign } from './auth/token-fixtures.ts'
import { eventually, sampleValue, scrape, seriesOf } from './scrape.ts'
import { closedClient, openClient, refusedStatus } from './websocket-clients.ts'

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

const route = '/rooms/:room'

/** An app whose `/rooms/:room` echoes each message, broadcasts it to the room, and greets on `socket.send`. */
async function start(define?: (app: App) => void) {
  const { app } = testApp()
  const rooms = new Rooms()
  define?.(app)
  app.ws(route, { guards: [jwtAuth({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE })] }, (conn) => {
    rooms.join(conn.params.room!, conn)
    conn.socket.send('welcome')
    conn.socket.on('message', (data) => {
      void conn.send(`echo:${data}`)
      rooms.broadcast(conn.params.room!, `room:${data}`, { except: conn })
    })
  })
  const { url } = await app.start()
  running = app
  const token = await sign(goodClaims(), secretBytes(), 'HS256')
  return { url, wsUrl: url.replace('http', 'ws'), auth: { authorization: `Bearer ${token}` } }
}

describe('WebSocket metrics', () => {
  it('has every series of a WebSocket route at 0 before any connection', async () => {
    const { url } = await start()
    const samples = await scrape(url)
    expect(sampleValue(samples, 'keel_ws_connections_open', { route })).toBe(0)
    expect(sampleValue(samples, 'keel_ws_messages_received_total', { route })).toBe(0)
    expect(sampleValue(samples, 'keel_ws_messages_sent_total', { route })).toBe(0)
    for (const reason of [
      'unauthorized',
      'forbidden',
      'rate_limited',
      'unavailable',
      'client_error',
      'error',
    ])
      expect(sampleValue(samples, 'keel_ws_upgrades_refused_total', { route, reason })).toBe(0)
  })

  it('counts open connections and messages each way, however they are sent', async () => {
    const { url, wsUrl, auth } = await start()
    const ada = await openClient(`${wsUrl}/rooms/lobby`, { headers: auth })
    const bob = await openClient(`${wsUrl}/rooms/lobby`, { headers: auth })
    expect(await ada.next()).toBe('welcome')
    expect(await bob.next()).toBe('welcome')
    expect(sampleValue(await scrape(url), 'keel_ws_connections_open', { route })).toBe(2)

    ada.ws.send('hi')
    expect(await ada.next()).toBe('echo:hi')
    expect(await bob.next()).toBe('room:hi')
    bob.ws.send('yo')
    expect(await bob.next()).toBe('echo:yo')
    expect(await ada.next()).toBe('room:yo')

    let samples = await scrape(url)
    expect(sampleValue(samples, 'keel_ws_messages_received_total', { route })).toBe(2)
    // 2 welcomes (socket.send), 2 echoes (conn.send), 2 broadcasts (Rooms)
    expect(sampleValue(samples, 'keel_ws_messages_sent_total', { route })).toBe(6)

    ada.ws.close()
    bob.ws.close()
    await Promise.all([closedClient(ada.ws), closedClient(bob.ws)])
    samples = await eventually(
      () => scrape(url),
      (s) => sampleValue(s, 'keel_ws_connections_open', { route }) === 0,
    )
    expect(sampleValue(samples, 'keel_ws_connections_open', { route })).toBe(0)
  })

  it('counts refused upgrades by reason, and the auth guard counts its decision', async () => {
    const { url, wsUrl, auth } = await start()
    expect(await refusedStatus(`${wsUrl}/rooms/lobby`)).toBe(401)
    expect(await refusedStatus(`${wsUrl}/rooms/lobby`, { authorization: 'Bearer nonsense' })).toBe(401)
    expect(await refusedStatus(`${wsUrl}/nowhere`, auth)).toBe(404)
    const samples = await scrape(url)
    expect(sampleValue(samples, 'keel_ws_upgrades_refused_total', { route, reason: 'unauthorized' })).toBe(2)
    expect(
      sampleValue(samples, 'keel_ws_upgrades_refused_total', { route: 'not_found', reason: 'not_found' }),
    ).toBe(1)
    expect(sampleValue(samples, 'keel_auth_requests_total', { guard: 'auth.jwt', outcome: 'missing' })).toBe(
      1,
    )
    expect(
      sampleValue(samples, 'keel_auth_requests_total', { guard: 'auth.jwt', outcome: 'malformed' }),
    ).toBe(1)
    expect(sampleValue(samples, 'keel_ws_connections_open', { route })).toBe(0)
  })

  it('counts upgrades an app-wide rate limit refuses as rate_limited', async () => {
    const { url, wsUrl, auth } = await start((app) =>
      app.guard(rateLimit({ name: 'ws', limit: 1, windowMs: 60_000 })),
    )
    const first = await openClient(`${wsUrl}/rooms/a`, { headers: auth })
    expect(await refusedStatus(`${wsUrl}/rooms/a`, auth)).toBe(429)
    const samples = await scrape(url)
    expect(sampleValue(samples, 'keel_ws_upgrades_refused_total', { route, reason: 'rate_limited' })).toBe(1)
    expect(seriesOf(samples, 'keel_rate_limit_requests_total')).toEqual({
      'limiter=ws,outcome=allowed': 1,
      'limiter=ws,outcome=limited': 1,
    })
    first.ws.close()
  })

  it('counts a handshake ws itself rejects (bad Sec-WebSocket-Version) as client_error', async () => {
    const { url, auth } = await start()
    const { port } = new URL(url)
    const response = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'GET /rooms/a HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Authorization: ${auth.authorization}\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
            'Sec-WebSocket-Version: 99\r\n\r\n',
        )
      })
      let text = ''
      socket.setEncoding('utf8')
      socket.on('data', (chunk: string) => {
        text += chunk
      })
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
    })
    expect(response.startsWith('HTTP/1.1 400')).toBe(true)
    const samples = await scrape(url)
    expect(sampleValue(samples, 'keel_ws_upgrades_refused_total', { route, reason: 'client_error' })).toBe(1)
    expect(sampleValue(samples, 'keel_ws_connections_open', { route })).toBe(0)
  })
})
