import type { ServerResponse } from 'node:http'

/** Sends a handler's return value: JSON for objects, text for strings, bytes for Buffers, 204 for nothing. */
export function sendBody(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded) return
  if (body === undefined || body === null) {
    res.statusCode = status === 200 ? 204 : status
    res.end()
    return
  }
  let payload: string | Buffer
  if (Buffer.isBuffer(body)) {
    payload = body
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/octet-stream')
  } else if (typeof body === 'string') {
    payload = body
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'text/plain; charset=utf-8')
  } else {
    payload = JSON.stringify(body)
    if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json; charset=utf-8')
  }
  res.statusCode = status
  res.setHeader('content-length', typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length)
  res.end(payload)
}
