import type { IncomingHttpHeaders } from 'node:http'
import { WebSocket } from 'ws'
import type { Logger } from '../log/index.ts'
import type { Principal } from './principal.ts'
import type { RequestContext } from './route.ts'

/**
 * One accepted WebSocket with what the upgrade request established: the route's params, the
 * principal an auth guard verified, the request id, and a logger whose lines carry that id.
 * `socket` is the `ws` WebSocket: listen to `message`, `close` and the rest on it.
 */
export class WebSocketConnection {
  readonly socket: WebSocket
  readonly path: string
  /** The route template that matched (`/rooms/:room`). */
  readonly route: string
  readonly params: Readonly<Record<string, string | undefined>>
  readonly query: Readonly<Record<string, string | string[]>>
  readonly headers: IncomingHttpHeaders
  readonly ip: string
  readonly principal: Principal | undefined
  readonly requestId: string
  /** The app logger bound to this connection's `request_id` (socket events run outside the request). */
  readonly log: Logger
  readonly #closed = new AbortController()

  constructor(socket: WebSocket, upgrade: RequestContext, log: Logger) {
    this.socket = socket
    this.path = upgrade.path
    this.route = upgrade.route
    this.params = upgrade.params
    this.query = upgrade.query
    this.headers = upgrade.headers
    this.ip = upgrade.ip
    this.principal = upgrade.principal
    this.requestId = upgrade.requestId
    this.log = log
    socket.once('close', () => this.#closed.abort())
  }

  /** Aborts when the connection closes, so producers can stop. */
  get signal(): AbortSignal {
    return this.#closed.signal
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN
  }

  /**
   * Sends a message: a string as text, bytes as binary, anything else as JSON text. Resolves
   * `true` once written to the socket (await it to respect backpressure), `false` if the
   * connection is not open or the write failed.
   */
  send(data: unknown): Promise<boolean> {
    if (!this.isOpen) return Promise.resolve(false)
    return new Promise((resolve) => {
      this.socket.send(toFrame(data), (error) => resolve(error === undefined || error === null))
    })
  }

  /** Closes the connection with a close code (default 1000, normal) and a short reason. */
  close(code = 1000, reason = ''): void {
    this.socket.close(code, reason)
  }
}

/** What `send` and room broadcasts put on the wire for a value. */
export function toFrame(data: unknown): string | Buffer | ArrayBuffer | ArrayBufferView {
  if (typeof data === 'string' || Buffer.isBuffer(data)) return data
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data
  return JSON.stringify(data) ?? 'null'
}
