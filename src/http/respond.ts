import type { ServerResponse } from 'node:http'
import { Exchange } from './exchange.ts'
import { KeelResponse } from './keel-response.ts'
import type { RequestContext } from './route.ts'

const plainText = 'text/plain; charset=utf-8'

/**
 * Names the content type a string body goes out with unless a `content-type` header says
 * otherwise (typed routes: their serialized JSON). On the server's own context it is a field
 * read when the head is written, not a header set now; elsewhere it is the header.
 */
export function setTextType(ctx: RequestContext, type: string): void {
  if (ctx instanceof Exchange) ctx.textType = type
  else ctx.header('content-type', type)
}

/** The content type a string body answered on `ctx` goes out with, when no header names one. */
export const textTypeOf = (ctx: RequestContext): string =>
  (ctx instanceof Exchange ? ctx.textType : undefined) ?? plainText

/**
 * Sends a handler's return value: JSON for objects, text for strings (as `textType`), bytes for
 * Buffers, 204 for nothing.
 */
export function sendBody(res: ServerResponse, status: number, body: unknown, textType = plainText): void {
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
    contentType = textType
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
