import { type IncomingMessage, type OutgoingHttpHeaders, STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from './problem.ts'

/** Headers a refusal never copies from guards: the refusal sets its own framing. */
const framing = new Set(['content-type', 'content-length', 'transfer-encoding', 'connection', 'upgrade'])
const unsafe = /[\r\n\0]/

/**
 * Answers an upgrade request that will not be upgraded: a complete HTTP/1.1 response with the
 * problem details, `Connection: close`, and the headers guards set (`WWW-Authenticate`,
 * `Retry-After`, rate-limit headers); then the socket is closed. Nothing was upgraded, so the
 * client sees an ordinary HTTP error.
 */
export function refuseUpgrade(
  socket: Duplex,
  details: ProblemDetails,
  headers: OutgoingHttpHeaders = {},
): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy()
    return
  }
  const body = JSON.stringify(details)
  let head = `HTTP/1.1 ${details.status} ${STATUS_CODES[details.status] ?? 'Error'}\r\n`
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || framing.has(name.toLowerCase())) continue
    for (const one of Array.isArray(value) ? value : [value]) {
      const text = String(one)
      if (!unsafe.test(name) && !unsafe.test(text)) head += `${name}: ${text}\r\n`
    }
  }
  head += `content-type: ${PROBLEM_CONTENT_TYPE}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`
  head += 'connection: close\r\n\r\n'
  socket.end(head + body, () => socket.destroy())
}

/** True when the request asks to upgrade to WebSocket (rather than `h2c` or another protocol). */
export const isWebSocketUpgrade = (req: IncomingMessage): boolean =>
  typeof req.headers.upgrade === 'string' && req.headers.upgrade.toLowerCase() === 'websocket'
