import type { Exchange } from '../exchange.ts'
import type { Guard } from '../guard.ts'
import { HttpError } from '../http-error.ts'
import { checkInteger, checkOptionsObject, invalidOption } from './guard-options.ts'

/** Options of {@link bodyLimit}. */
export interface BodyLimitOptions {
  /** The largest request body accepted, in bytes. */
  maxBytes: number
}

/**
 * Refuses request bodies larger than `maxBytes` with a 413 problem (`KEEL_BODY_TOO_LARGE`):
 * at once when `Content-Length` says so, before a byte of the body is read (the response says
 * `Connection: close`, so the rest is never read either), and, for typed routes, while reading
 * a body sent without a length (chunked).
 *
 * On a typed route the guard's limit replaces `http.bodyLimitBytes` and caps the route's own
 * `bodyLimitBytes`; with several `bodyLimit` guards on the way, the smallest wins. A handler that
 * reads `ctx.req` itself is protected by the `Content-Length` check only; it should bound its own
 * reading (`readJsonBody(ctx.req, maxBytes)`).
 *
 * @example
 * ```ts
 * app.guard(bodyLimit({ maxBytes: 64 * 1024 }))
 * app.group('/uploads', { guards: [bodyLimit({ maxBytes: 10 * 1024 * 1024 })] }, (uploads) => { … })
 * ```
 */
export function bodyLimit(options: BodyLimitOptions): Guard {
  checkOptionsObject('bodyLimit', options)
  if (options.maxBytes === undefined) throw invalidOption('bodyLimit', 'maxBytes', 'is required')
  checkInteger('bodyLimit', 'maxBytes', options.maxBytes, 0)
  const { maxBytes } = options
  const message = `the request body is larger than ${maxBytes} bytes`
  return {
    name: 'bodyLimit',
    options: { maxBytes },
    handle(ctx, next) {
      const declared = ctx.req.headers['content-length']
      if (declared !== undefined && Number(declared) > maxBytes) {
        throw new HttpError(413, 'KEEL_BODY_TOO_LARGE', message, { maxBytes }, { connection: 'close' })
      }
      const exchange = ctx as Exchange
      const current = exchange.bodyLimitBytes
      exchange.bodyLimitBytes = current === undefined || maxBytes < current ? maxBytes : current
      return next()
    },
  }
}
