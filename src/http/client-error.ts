import type { Duplex } from 'node:stream'
import { PROBLEM_CONTENT_TYPE, problem } from './problem.ts'

/**
 * Answers a request Node's HTTP parser rejected (malformed request line or headers, headers too
 * large, a request that did not arrive in time) with problem details instead of Node's bare
 * `400 Bad Request`, then closes the connection. Nothing was routed, so there is no request id.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
    socket.destroy()
    return
  }
  const [status, title, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'the request headers are larger than the server accepts']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request did not arrive in time']
        : [400, 'Bad Request', 'the request is not valid HTTP/1.1']
  const code =
    status === 431 ? 'KEEL_HEADERS_TOO_LARGE' : status === 408 ? 'KEEL_REQUEST_TIMEOUT' : 'KEEL_BAD_REQUEST'
  const body = JSON.stringify({ ...problem(code, status, detail), title })
  socket.end(
    `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}
