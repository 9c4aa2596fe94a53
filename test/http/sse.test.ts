import { type IncomingMessage, request } from 'node:http'
import type { App } from 'keel/app'
import { isKeelError } from 'keel/errors'
import { type SseStream, sse } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

type Events = { tick: { n: number }; message: string; note: string }

/** An SSE client on node:http that keeps everything it received. */
class EventClient {
  text = ''
  ended = false
  readonly res: Promise<IncomingMessage>
  readonly #waiters = new Set<() => void>()

  constructor(url: string, headers: Record<string, string> = {}) {
    this.res = new Promise((resolve, reject) => {
      const req = request(
        url,
        { headers: { accept: 'text/event-stream', ...headers }, agent: false },
        (res) => {
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            this.text += chunk
            this.#notify()
          })
          const end = () => {
            this.ended = true
            this.#notify()
          }
          res.on('end', end)
          res.on('close', end)
          resolve(res)
        },
      )
      req.on('error', reject)
      req.end()
    })
  }

  /** Resolves once `predicate` holds for what arrived so far. */
  until(predicate: (client: this) => boolean): Promise<void> {
    if (predicate(this)) return Promise.resolve()
    return new Promise((resolve) => {
      const check = () => {
        if (!predicate(this)) return
        this.#waiters.delete(check)
        resolve()
      }
      this.#waiters.add(check)
    })
  }

  async close(): Promise<void> {
    ;(await this.res).destroy()
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter()
  }
}

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
  return { app, url: address.url, logs }
}

describe('server-sent events', () => {
  it('streams typed events as id/event/data frames with SSE headers', async () => {
    const { url } = await start((app) =>
      app.get('/events', async (ctx) => {
        const stream = sse<Events>(ctx, { heartbeatMs: 0 })
        await stream.send({ event: 'tick', data: { n: 1 }, id: '1' })
        await stream.send({ event: 'message', data: 'line one\nline two' })
        stream.close()
      }),
    )
    const client = new EventClient(`${url}/events`)
    const res = await client.res
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-cache, no-transform')
    expect(res.headers['x-accel-buffering']).toBe('no')
    await client.until((c) => c.ended)
    expect(client.text).toBe('id: 1\nevent: tick\ndata: {"n":1}\n\ndata: line one\ndata: line two\n\n')
  })

  it('sends retry first and heartbeat comments while idle', async () => {
    const { url } = await start((app) =>
      app.get('/events', (ctx) => void sse(ctx, { heartbeatMs: 20, retryMs: 2500 })),
    )
    const client = new EventClient(`${url}/events`)
    await client.until((c) => c.text.split(': \n\n').length > 3)
    expect(client.text.startsWith('retry: 2500\n\n: \n\n')).toBe(true)
    await client.close()
  })

  it('exposes Last-Event-ID so a handler can resume after it', async () => {
    const { url } = await start((app) =>
      app.get('/events', async (ctx) => {
        const stream = sse<Events>(ctx, { heartbeatMs: 0 })
        const from = Number(stream.lastEventId ?? 0)
        for (let n = from + 1; n <= from + 2; n++)
          await stream.send({ event: 'tick', data: { n }, id: String(n) })
        stream.close()
      }),
    )
    const client = new EventClient(`${url}/events`, { 'last-event-id': '41' })
    await client.until((c) => c.ended)
    expect(client.text).toBe('id: 42\nevent: tick\ndata: {"n":42}\n\nid: 43\nevent: tick\ndata: {"n":43}\n\n')
  })

  it('ignores an oversized Last-Event-ID', async () => {
    let seen: string | undefined = 'unset'
    const { url } = await start((app) =>
      app.get('/events', (ctx) => {
        const stream = sse(ctx)
        seen = stream.lastEventId
        stream.close()
      }),
    )
    const client = new EventClient(`${url}/events`, { 'last-event-id': 'x'.repeat(2000) })
    await client.until((c) => c.ended)
    expect(seen).toBeUndefined()
  })

  it('aborts the producer when the client disconnects', async () => {
    let stream: SseStream<Events> | undefined
    let stopped!: () => void
    const producerStopped = new Promise<void>((resolve) => {
      stopped = resolve
    })
    const { url } = await start((app) =>
      app.get('/events', async (ctx) => {
        stream = sse<Events>(ctx, { heartbeatMs: 0 })
        let n = 0
        while (!stream.signal.aborted) {
          await stream.send({ event: 'tick', data: { n: ++n } })
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        stopped()
      }),
    )
    const client = new EventClient(`${url}/events`)
    await client.until((c) => c.text.includes('"n":3'))
    await client.close()
    await producerStopped
    expect(stream?.isClosed).toBe(true)
    expect(await stream?.send({ event: 'tick', data: { n: -1 } })).toBe(false)
  })

  it('holds the producer back while the client does not read (backpressure)', async () => {
    const chunk = 'x'.repeat(64 * 1024)
    let written = 0
    let finished!: () => void
    const allWritten = new Promise<void>((resolve) => {
      finished = resolve
    })
    const total = 200 // 12.5 MiB: far more than the socket buffers hold
    const { url } = await start((app) =>
      app.get('/events', async (ctx) => {
        const stream = sse<Events>(ctx, { heartbeatMs: 0 })
        for (let i = 0; i < total; i++) {
          if (!(await stream.send({ event: 'note', data: chunk }))) return
          written++
        }
        finished()
        stream.close()
      }),
    )
    const client = new EventClient(`${url}/events`)
    const res = await client.res
    res.pause()
    // Give the producer every chance to run ahead; it must stall well short of the total.
    let previous = -1
    while (written !== previous) {
      previous = written
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(written).toBeLessThan(total / 2)
    res.resume()
    await allWritten
    await client.until((c) => c.ended)
    expect(written).toBe(total)
    expect(client.text.length).toBeGreaterThan(total * chunk.length)
  })

  it('refuses event names and ids with line breaks', async () => {
    let failure: unknown
    const { url } = await start((app) =>
      app.get('/events', (ctx) => {
        const stream = sse<Record<string, string>>(ctx, { heartbeatMs: 0 })
        try {
          void stream.send({ event: 'evil\ndata: injected', data: 'x' })
        } catch (error) {
          failure = error
        }
        stream.close()
      }),
    )
    const client = new EventClient(`${url}/events`)
    await client.until((c) => c.ended)
    expect(isKeelError(failure) && failure.code).toBe('KEEL_SSE_INVALID_EVENT')
    expect(client.text).not.toContain('injected')
  })

  it('ends open streams when the app stops, and the shutdown finishes well within its deadline', async () => {
    let producerAborted = false
    const { app, url } = await start(
      (app) =>
        app.get('/events', (ctx) => {
          const stream = sse<Events>(ctx, { heartbeatMs: 1000, retryMs: 1000 })
          stream.signal.addEventListener('abort', () => {
            producerAborted = true
          })
          void stream.send({ event: 'tick', data: { n: 1 } })
        }),
      'shutdown:\n  deadlineMs: 5000\n',
    )
    const clients = [new EventClient(`${url}/events`), new EventClient(`${url}/events`)]
    await Promise.all(clients.map((c) => c.until((x) => x.text.includes('"n":1'))))
    const report = await app.stop()
    running = undefined
    await Promise.all(clients.map((c) => c.until((x) => x.ended)))
    expect(producerAborted).toBe(true)
    expect(report.ok).toBe(true)
    expect(report.phases.find((p) => p.phase === 'http')?.status).toBe('ok')
    expect(report.durationMs).toBeLessThan(5000)
  })
})
