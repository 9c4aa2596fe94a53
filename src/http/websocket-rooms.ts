import { WebSocket } from 'ws'
import { toFrame, type WebSocketConnection } from './websocket-connection.ts'

type Member = WebSocket | WebSocketConnection

const socketOf = (member: Member): WebSocket => (member instanceof WebSocket ? member : member.socket)

/**
 * Named groups of WebSockets for fan-out. A socket leaves every room when it closes. Create one
 * per kind of room and share it between WebSocket handlers and HTTP routes that publish.
 *
 * @example
 * ```ts
 * const rooms = new Rooms()
 * app.ws('/rooms/:room', (conn) => {
 *   rooms.join(conn.params.room!, conn)
 *   conn.socket.on('message', (data) => rooms.broadcast(conn.params.room!, String(data), { except: conn }))
 * })
 * app.post('/rooms/:room/announce', (ctx) => ({ delivered: rooms.broadcast(ctx.params.room!, { notice: 'hi' }) }))
 * ```
 */
export class Rooms {
  readonly #rooms = new Map<string, Set<WebSocket>>()
  readonly #memberships = new WeakMap<WebSocket, Set<string>>()

  /** Adds the connection to `room`; a connection that is not open joins nothing. */
  join(room: string, member: Member): void {
    const socket = socketOf(member)
    if (socket.readyState !== WebSocket.OPEN) return
    let memberships = this.#memberships.get(socket)
    if (!memberships) {
      memberships = new Set()
      this.#memberships.set(socket, memberships)
      socket.once('close', () => this.leaveAll(socket))
    }
    memberships.add(room)
    let members = this.#rooms.get(room)
    if (!members) {
      members = new Set()
      this.#rooms.set(room, members)
    }
    members.add(socket)
  }

  leave(room: string, member: Member): void {
    const socket = socketOf(member)
    this.#memberships.get(socket)?.delete(room)
    const members = this.#rooms.get(room)
    if (!members) return
    members.delete(socket)
    if (members.size === 0) this.#rooms.delete(room)
  }

  /** Removes the connection from every room it is in. */
  leaveAll(member: Member): void {
    const socket = socketOf(member)
    for (const room of [...(this.#memberships.get(socket) ?? [])]) this.leave(room, socket)
  }

  /** How many connections are in `room`. */
  size(room: string): number {
    return this.#rooms.get(room)?.size ?? 0
  }

  /** The rooms that have members. */
  names(): string[] {
    return [...this.#rooms.keys()]
  }

  /**
   * Sends `data` (text, bytes, or JSON for anything else, serialized once) to every open member
   * of `room` but `except`; returns how many it was sent to.
   */
  broadcast(room: string, data: unknown, options: { except?: Member } = {}): number {
    const members = this.#rooms.get(room)
    if (!members) return 0
    const frame = toFrame(data)
    const except = options.except ? socketOf(options.except) : undefined
    let sent = 0
    for (const socket of members) {
      if (socket === except || socket.readyState !== WebSocket.OPEN) continue
      socket.send(frame)
      sent++
    }
    return sent
  }
}
