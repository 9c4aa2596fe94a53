import { WebSocket } from 'ws'

/** One connected live client and what it missed. */
interface LiveClient {
  readonly socket: WebSocket
  /** Messages dropped since the client was last told. */
  missed: number
}

/** Counters of the live feed, for `/v1/metrics`. */
export interface LiveFeedStats {
  readonly clients: number
  readonly sent: number
  readonly dropped: number
}

/** Options of {@link LiveFeed}. */
export interface LiveFeedOptions {
  /** Bytes queued for one client (not yet written to its socket) past which its messages are dropped. */
  readonly maxBufferBytes: number
  /** How often clients get `message()` (the window update), while any is connected. */
  readonly intervalMs: number
  /** The periodic message (window updates); built only while clients are connected. */
  readonly periodic: () => unknown
}

/**
 * The inspector's live feed: JSON messages to every connected WebSocket client, `{ v: 1, type }`
 * (`hello`, `trace`, `metrics`, `dropped`). Each client's queue is bounded by bytes: a message
 * that would push a slow client's unsent bytes past `maxBufferBytes` is dropped for that client
 * and counted; once it catches up it first gets `{ type: 'dropped', count }`. A slow client never
 * holds memory or slows the app down. Messages are sent outside the request path (next
 * macrotask), and serialized once for all clients.
 */
export class LiveFeed {
  readonly #options: LiveFeedOptions
  readonly #clients = new Set<LiveClient>()
  #pending: unknown[] = []
  #flushScheduled = false
  #timer: NodeJS.Timeout | undefined
  #sent = 0
  #dropped = 0

  constructor(options: LiveFeedOptions) {
    this.#options = options
  }

  get hasClients(): boolean {
    return this.#clients.size > 0
  }

  /** Adds a client until its socket closes; sends it `hello` first. */
  add(socket: WebSocket, hello: Readonly<Record<string, unknown>>): void {
    const client: LiveClient = { socket, missed: 0 }
    this.#clients.add(client)
    socket.once('close', () => {
      this.#clients.delete(client)
      if (this.#clients.size === 0) this.#stopTimer()
    })
    this.#sendTo(client, JSON.stringify({ v: 1, type: 'hello', ...hello }))
    this.#timer ??= setInterval(
      () => this.publish({ type: 'metrics', ...(this.#options.periodic() as object) }),
      this.#options.intervalMs,
    )
    this.#timer.unref()
  }

  /** Queues a message for every client; no-op without clients. */
  publish(message: Readonly<Record<string, unknown>>): void {
    if (this.#clients.size === 0) return
    // Bounded: a burst larger than this in one tick is already more than any client could take.
    if (this.#pending.length >= 10_000) {
      this.#dropped += this.#clients.size
      for (const client of this.#clients) client.missed++
      return
    }
    this.#pending.push(message)
    if (this.#flushScheduled) return
    this.#flushScheduled = true
    setImmediate(() => this.#flush())
  }

  stats(): LiveFeedStats {
    return { clients: this.#clients.size, sent: this.#sent, dropped: this.#dropped }
  }

  /** Closes every client (1001) and stops the timer. */
  close(): void {
    this.#stopTimer()
    for (const client of this.#clients) client.socket.close(1001, 'inspector stopping')
    this.#clients.clear()
  }

  #flush(): void {
    this.#flushScheduled = false
    const messages = this.#pending
    this.#pending = []
    for (const message of messages) {
      const frame = JSON.stringify({ v: 1, ...(message as object) })
      for (const client of this.#clients) this.#sendTo(client, frame)
    }
  }

  #sendTo(client: LiveClient, frame: string): void {
    const { socket } = client
    if (socket.readyState !== WebSocket.OPEN) return
    if (socket.bufferedAmount + frame.length > this.#options.maxBufferBytes) {
      client.missed++
      this.#dropped++
      return
    }
    if (client.missed > 0) {
      socket.send(JSON.stringify({ v: 1, type: 'dropped', count: client.missed }))
      client.missed = 0
    }
    socket.send(frame)
    this.#sent++
  }

  #stopTimer(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
