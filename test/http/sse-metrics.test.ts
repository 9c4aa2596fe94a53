import { type ClientRequest, type IncomingMessage, request } from 'node:http'
import type { App } from 'keel/app'
import { type SseStream, sse } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'
import { eventually, sampleValue, scrape } from './scrape.ts'

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

const open = 'keel_sse_streams_open'
const sent = 'keel_sse_events_sent_total'

/** Opens an SSE request and resolves once `count` events (blank-line-terminated frames) arrived. */
function subscribe(
  url: string,
  count: number,
): Promise<{ req: ClientRequest; res: IncomingMessage; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream' }, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        text += chunk
        if (text.split('\n\n').filter((frame) => frame.includes('data:')).length >= count)
          resolve({ req, res, text })
      })
    })
    req.on('error', reject)
    req.end()
  })
}

async function start() {
  const { app } = testApp()
  const streams: SseStream[] = []
  app.get('/feeds/:feed', (ctx) => {
    const stream = sse(ctx, { heartbeatMs: 0 })
    streams.push(stream)
    void stream.send({ event: 'message', data: 'one' })
    void stream.send({ event: 'tick', data: { n: 2 } })
    void stream.comment('comments are not events')
  })
  const { url } = await app.start()
  running = app
  return { url, streams }
}

describe('SSE metrics', () => {
  it('shows an open stream as 1 under its route template, then 0 once the client goes away', async () => {
    const { url } = await start()
    const client = await subscribe(`${url}/feeds/a`, 2)
    let samples = await scrape(url)
    expect(sampleValue(samples, open, { route: '/feeds/:feed' })).toBe(1)
    expect(sampleValue(samples, sent, { route: '/feeds/:feed' })).toBe(2)
    client.req.destroy()
    samples = await eventually(
      () => scrape(url),
      (s) => sampleValue(s, open, { route: '/feeds/:feed' }) === 0,
    )
    expect(sampleValue(samples, open, { route: '/feeds/:feed' })).toBe(0)
  })

  it('counts streams the server closes, and every event each stream sent', async () => {
    const { url, streams } = await start()
    const first = await subscribe(`${url}/feeds/a`, 2)
    const second = await subscribe(`${url}/feeds/b`, 2)
    expect(sampleValue(await scrape(url), open, { route: '/feeds/:feed' })).toBe(2)
    await streams[0]!.send({ event: 'message', data: 'three' })
    streams[0]!.close()
    // Closing twice, or the client's close after the server's, is still one close.
    streams[0]!.close()
    await new Promise((resolve) => first.res.once('close', resolve))
    const samples = await eventually(
      () => scrape(url),
      (s) => sampleValue(s, open, { route: '/feeds/:feed' }) === 1,
    )
    expect(sampleValue(samples, open, { route: '/feeds/:feed' })).toBe(1)
    expect(sampleValue(samples, sent, { route: '/feeds/:feed' })).toBe(5)
    // An event sent on a closed stream is not counted.
    expect(await streams[0]!.send({ event: 'message', data: 'late' })).toBe(false)
    expect(sampleValue(await scrape(url), sent, { route: '/feeds/:feed' })).toBe(5)
    second.req.destroy()
  })

  it('closes every stream on shutdown, leaving the gauge at 0', async () => {
    const { app } = testApp({ overrides: { shutdown: { drainDelayMs: 0 } } })
    app.get('/events', (ctx) => {
      void sse(ctx, { heartbeatMs: 0 }).send({ event: 'message', data: 'hi' })
    })
    const { url } = await app.start()
    await subscribe(`${url}/events`, 1)
    expect(sampleValue(await scrape(url), open, { route: '/events' })).toBe(1)
    await app.stop()
    const text = await app.metrics.render()
    expect(text).toMatch(/^keel_sse_streams_open\{route="\/events"\} 0$/m)
  })
})
