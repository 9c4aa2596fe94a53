import type { ServerResponse } from 'node:http'
import { KeelResponse } from './keel-response.ts'

/** Sends a handler's return value: JSON for objects, text for strings, bytes for Buffers, 204 for nothing. */
export function sendBody(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded) return
  if (body === undefined || body === null) {
    res.statusCode = status === 200 ? 204 : status
    res.end()
    return
  }
  let payload: string | Buffer
  let contentType: string
  if (Buffer.isBuffer(body)) {
    payload = body
    contentType = 'application/octet-stream'
  } else if (typeof body === 'string') {
    payload = body
    contentType = 'text/plain; charset=utf-8'
  } else {
    payload = JSON.stringify(body)
    contentType = 'application/json; charset=utf-8'
  }
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  if (res instanceof KeelResponse && !res.hasSetHeaders) {
    res.writeFreshHead(status, contentType, length)
  } else {
    if (!res.hasHeader('content-type')) res.setHeader('content-type', contentType)
    res.statusCode = status
    res.setHeader('content-length', length)
  }
  res.end(payload)
}
