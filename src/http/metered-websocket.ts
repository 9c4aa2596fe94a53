import { WebSocket } from 'ws'
import { CounterChild } from '../telemetry/index.ts'

type SendCallback = (err?: Error) => void
type SendOptions = { mask?: boolean; binary?: boolean; compress?: boolean; fin?: boolean }

/**
 * The WebSocket class the server's `ws` endpoints create (`WebSocketServer({ WebSocket })`):
 * a `ws` WebSocket that counts what it sends. Messages leave through `connection.send()`,
 * `Rooms.broadcast()` or the handler's own `socket.send()`; counting in the socket itself is
 * the one place that sees them all.
 */
export class MeteredWebSocket extends WebSocket {
  /** `keel_ws_messages_sent_total` of the socket's route; set when the connection is accepted. */
  sentCounter: CounterChild = new CounterChild()

  override send(data: Parameters<WebSocket['send']>[0], cb?: SendCallback): void
  override send(data: Parameters<WebSocket['send']>[0], options: SendOptions, cb?: SendCallback): void
  override send(
    data: Parameters<WebSocket['send']>[0],
    options?: SendOptions | SendCallback,
    cb?: SendCallback,
  ): void {
    // A send on a socket that is not open fails (ws calls back with an error): not a message sent.
    if (this.readyState === WebSocket.OPEN) this.sentCounter.inc()
    // ws itself takes a function in the options' place as the callback.
    super.send(data, options as SendOptions, cb)
  }
}
