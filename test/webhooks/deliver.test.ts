import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net'
import { deliverWebhook, generateWebhookSecret, verifyWebhook } from 'keel/webhooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const secret = generateWebhookSecret()
const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = []
let server: Server
let base: string

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk
    })
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body })
      const status = Number(req.url?.slice(1))
      if (req.url === '/slow') return // never answers; the attempt times out
      if (status === 302) res.setHeader('location', 'http://169.254.169.254/latest/meta-data')
      res.writeHead(status || 200, { 'content-type': 'text/plain' })
      res.end(status === 500 ? 'x'.repeat(5000) : `answered ${status}`)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(resolve))
})

const attempt = (path: string, extra: object = {}) =>
  deliverWebhook({
    url: `${base}${path}`,
    id: `msg_${path.slice(1)}`,
    body: JSON.stringify({ type: 'todo.created', id: 1 }),
    secrets: [secret],
    allowPrivateNetworks: true,
    ...extra,
  })

describe('deliverWebhook()', () => {
  it('POSTs a signed JSON body the receiver can verify, and reports 2xx as delivered', async () => {
    const result = await attempt('/200')
    expect(result).toMatchObject({ outcome: 'delivered', status: 200, response: 'answered 200' })
    const request = received.find((r) => r.path === '/200')!
    expect(request.headers['content-type']).toBe('application/json')
    expect(JSON.parse(request.body)).toEqual({ type: 'todo.created', id: 1 })
    expect(verifyWebhook(request.headers, request.body, { secrets: [secret] })).toMatchObject({
      id: 'msg_200',
    })
  })

  it('410 means gone; 500 and other statuses are retried, keeping the first KiB of the answer', async () => {
    expect(await attempt('/410')).toMatchObject({
      outcome: 'gone',
      status: 410,
      error: 'the receiver answered 410 Gone',
    })
    const failed = await attempt('/500')
    expect(failed).toMatchObject({ outcome: 'retry', status: 500, error: 'the receiver answered 500' })
    expect(failed.response).toBe('x'.repeat(1024))
    expect(await attempt('/400')).toMatchObject({ outcome: 'retry', status: 400 })
  })

  it('does not follow a redirect, which could point into the sender’s network', async () => {
    expect(await attempt('/302')).toMatchObject({
      outcome: 'retry',
      status: 302,
      error: 'redirects are not followed (302 to http://169.254.169.254/latest/meta-data)',
    })
    expect(received.filter((r) => r.path.includes('meta-data'))).toEqual([])
  })

  it('gives up on a receiver that does not answer within timeoutMs', async () => {
    const result = await attempt('/slow', { timeoutMs: 200 })
    expect(result).toMatchObject({ outcome: 'retry', error: 'no answer within 200 ms' })
    expect(result.status).toBeUndefined()
  })

  it('refuses private and loopback addresses by default, by IP and by a name that resolves to one', async () => {
    const before = received.length
    const port = new URL(base).port
    for (const url of [
      `${base}/200`,
      `http://localhost:${port}/200`,
      `http://[::1]:${port}/200`,
      'http://10.1.2.3/hook',
    ]) {
      const result = await deliverWebhook({
        url,
        id: 'msg_ssrf',
        body: '{}',
        secrets: [secret],
        timeoutMs: 2000,
      })
      expect(result.outcome, url).toBe('retry')
      expect(result.error, url).toMatch(/^refused: .* private or loopback address$/)
    }
    expect(received.length).toBe(before)
  })

  it('reports a URL it cannot use without sending anything', async () => {
    expect(await attempt('', { url: 'not a url' })).toMatchObject({
      outcome: 'retry',
      error: 'not a URL: not a url',
    })
    expect(await attempt('', { url: 'ftp://example.com/x' })).toMatchObject({
      outcome: 'retry',
      error: 'only http and https URLs are delivered to, not ftp:',
    })
  })
  it('sends once more on a new socket when a reused keep-alive socket was closed by the receiver', async () => {
    // A receiver that answers the first request of each connection with keep-alive, then resets
    // the connection on the next one: what a server closing an idle socket as it is reused does.
    const requests: number[] = []
    const sockets: Socket[] = []
    const receiver = createTcpServer((socket: Socket) => {
      const connection = sockets.push(socket)
      let served = 0
      socket.on('data', (chunk) => {
        if (!chunk.toString('latin1').startsWith('POST')) return
        requests.push(connection)
        if (++served > 1) return void socket.resetAndDestroy()
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok')
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`
    const send = () =>
      deliverWebhook({ url, id: 'msg_reuse', body: '{}', secrets: [secret], allowPrivateNetworks: true })
    try {
      expect(await send()).toMatchObject({ outcome: 'delivered', status: 200 })
      expect(await send()).toMatchObject({ outcome: 'delivered', status: 200 })
      // The second attempt reached connection 1 (reset), then was sent again on connection 2.
      expect(requests).toEqual([1, 1, 2])
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => receiver.close(resolve))
    }
  })
})
