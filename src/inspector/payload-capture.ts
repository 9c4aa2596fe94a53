import { context, trace } from '@opentelemetry/api'
import type { Guard } from '../http/guard.ts'
import { isHttpError } from '../http/http-error.ts'
import { problemFromError } from '../http/problem.ts'
import { redactDeep } from '../log/index.ts'
import type { CapturedPayload } from './trace-store.ts'

/**
 * A body made safe to keep: parsed when it is JSON text, redacted (Keel's log rules: secret-named
 * keys at any depth), then cut to `maxBytes` of its JSON text (`{ truncated: true, preview }`).
 * Bytes become a note of their size; non-JSON text is kept as text, cut the same way.
 */
export function safeBody(
  body: unknown,
  maxBytes: number,
): { value: unknown; truncated: boolean; bytes: number } {
  if (body === undefined) return { value: undefined, truncated: false, bytes: 0 }
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    return { value: `[${body.byteLength} bytes]`, truncated: false, bytes: 32 }
  }
  let value = body
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body)
    } catch {
      value = body
    }
  }
  const redacted = redactDeep(value)
  const text = typeof redacted === 'string' ? redacted : (JSON.stringify(redacted) ?? '')
  if (text.length <= maxBytes) return { value: redacted, truncated: false, bytes: text.length }
  return {
    value: { truncated: true, preview: text.slice(0, maxBytes) },
    truncated: true,
    bytes: maxBytes + 64,
  }
}

/**
 * The app-wide guard that captures request and response bodies (opt-in:
 * `inspector.capture.enabled`) and hands them, redacted and capped, to `keep` with the request's
 * trace id. The request body is the one a typed route parsed (an untyped route reads its own, and
 * it is not captured); the response is what the handler returned, or the problem a throw became.
 */
export function payloadCapture(options: {
  maxBytes: number
  keep: (traceId: string, capture: CapturedPayload) => void
}): Guard {
  const { maxBytes, keep } = options
  const record = (
    traceId: string,
    headers: unknown,
    requestBody: unknown,
    status: number,
    responseBody: unknown,
  ) => {
    const request = safeBody(requestBody, maxBytes)
    const response = safeBody(responseBody, maxBytes)
    const safeHeaders = redactDeep(headers) as Record<string, unknown>
    keep(traceId, {
      request: { headers: safeHeaders, ...(request.value === undefined ? {} : { body: request.value }) },
      response: { status, ...(response.value === undefined ? {} : { body: response.value }) },
      truncated: request.truncated || response.truncated,
      bytes: 256 + request.bytes + response.bytes + JSON.stringify(safeHeaders).length,
    })
  }
  return {
    name: 'inspector.capture',
    options: { maxBytes },
    async handle(ctx, next) {
      const traceId = trace.getSpan(context.active())?.spanContext().traceId
      if (!traceId) return next()
      try {
        const body = await next()
        record(traceId, ctx.headers, ctx.body, ctx.status, body)
        return body
      } catch (error) {
        const details = problemFromError(error)
        record(traceId, ctx.headers, ctx.body, isHttpError(error) ? error.status : details.status, details)
        throw error
      }
    },
  }
}
