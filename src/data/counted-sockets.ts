import net from 'node:net'

/** What postgres.js passes its `socket` factory: the parsed hosts and ports, or a Unix socket path. */
export interface SocketTarget {
  host: string[]
  port: number[]
  path?: string | false
}

/** A postgres.js `socket` factory that counts the sockets it opened and that are not closed yet. */
export interface CountedSockets {
  /** Sockets open now: the pool's connections (a cancel request adds one while it is sent). */
  readonly open: number
  readonly connect: (target: SocketTarget) => net.Socket
}

/**
 * postgres.js keeps its pool private: no count of open connections, no open or close hook that
 * sees every socket. Its documented `socket` option lets the caller make the sockets, so Keel
 * makes them, and counts one down when the stream is destroyed (`_destroy` runs once, on any
 * close: end, error, refused, idle timeout). A `close` listener would not do: postgres.js removes
 * every listener of the plain socket before it wraps it in TLS.
 *
 * Hosts are tried in turn, as postgres.js does without a factory, so a list of hosts still fails
 * over (with `target_session_attrs`) and spreads connections.
 */
export function countedSockets(): CountedSockets {
  let open = 0
  let next = 0
  class CountedSocket extends net.Socket {
    override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
      open--
      super._destroy(error, callback)
    }
  }
  return {
    get open() {
      return open
    },
    connect(target) {
      const socket = new CountedSocket() as net.Socket & { host?: string; port?: number }
      open++
      if (target.path) return socket.connect(target.path)
      const index = next++ % target.host.length
      // postgres.js names the host and port in its connection errors from these two fields.
      socket.host = target.host[index]
      socket.port = target.port[index] ?? target.port[0]
      return socket.connect(socket.port!, socket.host!)
    },
  }
}
