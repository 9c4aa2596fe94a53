import type { ServerResponse } from 'node:http'
import { KeelError } from '../errors/index.ts'
import type { RequestContext } from './route.ts'
import type { SseMetrics, SseRouteMetrics } from './sse-metrics.ts'

/** Options of {@link sse}. */
export interface SseOptions {
  /**
   * A comment line (`: \n\n`) every this many ms keeps proxies and load balancers from closing an
   * idle stream, and finds dead clients. Default 15 000; 0 turns it off.
   */
  heartbeatMs?: number
  /** Sent once as `retry:`: how long the browser's EventSource waits before reconnecting. */
  retryMs?: number
}

/** Event name → data type. `message` is the event an EventSource's `onmessage` receives. */
export type SseEvents = Record<string, unknown>

/** One event: `data` is sent as is when a string (one `data:` line per line), else as JSON. */
export interface SseMessage<E extends SseEvents, K extends keyof E & string> {
  event: K
  data: E[K]
  /** Becomes the client's `Last-Event-ID` when it reconnects. */
  id?: string
}

/** Largest `Last-Event-ID` accepted; a longer header is ignored rather than trusted. */
const MAX_LAST_EVENT_ID = 1024
const lineBreak = /[\r\n]/

/**
 * An open Server-Sent Events response. `send()` waits when the client reads slower than the
 * producer writes (backpressure) and resolves `false` once the stream is closed; `signal`
 * aborts when the client disconnects, `close()` is called, or the server shuts down, so
 * producers can stop.
 */
export class SseStream<E extends SseEvents = SseEvents> {
  /** The client's `Last-Event-ID` when it reconnects: resume from the event after it. */
  readonly lastEventId: string | undefined
  readonly #res: ServerResponse
  readonly #controller = new AbortController()
  readonly #heartbeat: NodeJS.Timeout | undefined
  readonly #closed: Promise<void>
  readonly #metrics: SseRouteMetrics | undefined

  constructor(
    res: ServerResponse,
    lastEventId: string | undefined,
    options: SseOptions,
    serverClosing?: AbortSignal,
    /** The route's series (`keel_sse_streams_open`, `keel_sse_events_sent_total`); `sse()` passes them. */
    metrics?: SseRouteMetrics,
  ) {
    this.#res = res
    this.lastEventId = lastEventId
    this.#metrics = metrics
    // Counted before anything below can close the stream, so every close has its open.
    metrics?.open.inc()
    res.statusCode = 200
    res.setHeader('content-type', 'text/event-stream; charset=utf-8')
    res.setHeader('cache-control', 'no-cache, no-transform')
    // nginx would otherwise buffer the stream until its buffer fills.
    res.setHeader('x-accel-buffering', 'no')
    res.removeHeader('content-length')
    if (options.retryMs !== undefined) res.write(`retry: ${Math.max(0, Math.floor(options.retryMs))}\n\n`)
    else res.flushHeaders()
    this.#closed = new Promise((resolve) => {
      this.#controller.signal.addEventListener('abort', () => resolve(), { once: true })
    })
    res.once('close', () => this.#abort())
    const heartbeatMs = options.heartbeatMs ?? 15_000
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => {
        // A client that has not read the last heartbeat needs no other; backpressure applies here too.
        if (!res.writableNeedDrain) res.write(': \n\n')
      }, heartbeatMs)
      this.#heartbeat.unref()
    }
    if (serverClosing?.aborted) this.close()
    else serverClosing?.addEventListener('abort', () => this.close(), { once: true, signal: this.signal })
    if (res.destroyed) this.#abort()
  }

  /** Aborts when the stream is closed, from either side. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  get isClosed(): boolean {
    return this.#controller.signal.aborted
  }

  /** Resolves when the stream has closed. */
  get closed(): Promise<void> {
    return this.#closed
  }

  /**
   * Sends one event. Resolves `true` once the event is handed to the socket (after waiting for
   * `drain` if the client is slow), `false` if the stream is closed.
   *
   * @throws KeelError `KEEL_SSE_INVALID_EVENT` when `event` or `id` contains a line break.
   */
  send<K extends keyof E & string>(message: SseMessage<E, K>): Promise<boolean> {
    const { event, data, id } = message
    if (lineBreak.test(event) || (id !== undefined && (lineBreak.test(id) || id.includes('\0')))) {
      throw new KeelError(
        'KEEL_SSE_INVALID_EVENT',
        `an SSE event name or id may not contain line breaks (event ${JSON.stringify(event)})`,
      )
    }
    let frame = ''
    if (id !== undefined) frame += `id: ${id}\n`
    if (event !== 'message') frame += `event: ${event}\n`
    const text = typeof data === 'string' ? data : JSON.stringify(data)
    for (const line of (text ?? 'null').split(/\r\n|\r|\n/)) frame += `data: ${line}\n`
    if (!this.isClosed) this.#metrics?.events.inc()
    return this.#write(`${frame}\n`)
  }

  /** Sends a comment line, which EventSource ignores (keep-alive, debugging). */
  comment(text = ''): Promise<boolean> {
    return this.#write(`: ${text.replace(/[\r\n]+/g, ' ')}\n\n`)
  }

  /**
   * Ends the stream. The connection closes too: a browser reconnects after `retryMs`, and during
   * shutdown it reaches another instance because this one no longer listens.
   */
  close(): void {
    if (this.isClosed) return
    this.#abort()
    const res = this.#res
    if (res.writableEnded || res.destroyed) return
    const socket = res.socket
    res.end(() => socket?.end())
  }

  async #write(chunk: string): Promise<boolean> {
    if (this.isClosed) return false
    if (this.#res.write(chunk)) return true
    await new Promise<void>((resolve) => {
      const done = () => {
        this.#res.off('drain', done)
        this.signal.removeEventListener('abort', done)
        resolve()
      }
      this.#res.once('drain', done)
      this.signal.addEventListener('abort', done, { once: true })
    })
    return !this.isClosed
  }

  #abort(): void {
    // Both close() and the response's `close` event get here; only the first closes the stream.
    if (this.#controller.signal.aborted) return
    clearInterval(this.#heartbeat)
    this.#controller.abort()
    this.#metrics?.open.inc(-1)
  }
}

/**
 * Turns the response into a Server-Sent Events stream. Return from the handler (or keep
 * awaiting): the server treats the request as done when the stream closes. Streams end when
 * the app shuts down (the `http` phase), so a draining instance keeps no client.
 *
 * @example
 * ```ts
 * type Events = { tick: { n: number }; message: string }
 * app.get('/events', (ctx) => {
 *   const stream = sse<Events>(ctx, { heartbeatMs: 15_000, retryMs: 2000 })
 *   let n = Number(stream.lastEventId ?? 0)
 *   const timer = setInterval(() => stream.send({ event: 'tick', data: { n: ++n }, id: String(n) }), 1000)
 *   stream.signal.addEventListener('abort', () => clearInterval(timer))
 * })
 * ```
 */
export function sse<E extends SseEvents = SseEvents>(
  ctx: RequestContext,
  options: SseOptions = {},
): SseStream<E> {
  const header = ctx.req.headers['last-event-id']
  const lastEventId = typeof header === 'string' && header.length <= MAX_LAST_EVENT_ID ? header : undefined
  // The server's Exchange carries these; a context made elsewhere (a test double) may not.
  const { serverClosing, sseMetrics } = ctx as { serverClosing?: AbortSignal; sseMetrics?: SseMetrics }
  return new SseStream<E>(ctx.res, lastEventId, options, serverClosing, sseMetrics?.forRoute(ctx.route))
}
