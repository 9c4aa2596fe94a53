import type { ServerResponse } from 'node:http'
import { brotliCompress, constants, gzip } from 'node:zlib'
import type { Guard } from '../guard.ts'
import { textTypeOf } from '../respond.ts'
import type { RequestContext } from '../route.ts'
import { type ContentCoding, encodingNegotiator } from './accept-encoding.ts'
import { checkInteger, checkOptionsObject, describe, invalidOption } from './guard-options.ts'
import { appendVary } from './vary.ts'

/** Options of {@link compress}. */
export interface CompressOptions {
  /** Bodies smaller than this many bytes are sent as they are. Default 1024. */
  thresholdBytes?: number
  /** Codings offered, the server's preference first. Default `['br', 'gzip']`. */
  encodings?: readonly ContentCoding[]
  /** Brotli quality, 0-11. Default 4: about gzip's speed with a better ratio. */
  brotliQuality?: number
  /** gzip level, 1-9. Default 6. */
  gzipLevel?: number
  /** Which content types to compress. Default: text, JSON, XML, JavaScript, SVG, NDJSON, WASM. */
  isCompressible?: (contentType: string) => boolean
}

const compressibleTypes =
  /^(?:text\/(?!event-stream)|application\/(?:json|javascript|ecmascript|xml|x-www-form-urlencoded|graphql|(?:x-)?ndjson|wasm)\b|application\/[^;]*\+(?:json|xml)\b|image\/svg\+xml\b)/i

/** The default of {@link CompressOptions.isCompressible}. */
export const isCompressibleType = (contentType: string): boolean => compressibleTypes.test(contentType)

/**
 * Compresses bodies that handlers return (a string, a Buffer, or an object sent as JSON) with
 * brotli or gzip, as the client's `Accept-Encoding` prefers (q-values honoured). It leaves alone:
 * bodies under `thresholdBytes`, types that do not compress (images, octet streams), `HEAD`,
 * 1xx/204/206/304 responses, responses that already have a `Content-Encoding` (never twice) or
 * say `Cache-Control: no-transform`, and responses the handler streams itself (headers already
 * sent). A compressible response gets `Vary: Accept-Encoding`, compressed or not; a strong
 * `ETag` becomes weak when the body is compressed.
 *
 * Compression runs on libuv's thread pool (node:zlib's async API), so large bodies do not block
 * the event loop. Add it first (outermost) among app-wide guards, so guards inside it see the
 * handler's body rather than compressed bytes.
 *
 * @example
 * ```ts
 * app.guard(compress({ thresholdBytes: 2048 }))
 * ```
 */
export function compress(options: CompressOptions = {}): Guard {
  checkOptionsObject('compress', options)
  checkInteger('compress', 'thresholdBytes', options.thresholdBytes, 0)
  checkInteger('compress', 'brotliQuality', options.brotliQuality, 0, 11)
  checkInteger('compress', 'gzipLevel', options.gzipLevel, 1, 9)
  const encodings = options.encodings ?? ['br', 'gzip']
  if (
    !Array.isArray(encodings) ||
    encodings.length === 0 ||
    encodings.some((e) => e !== 'br' && e !== 'gzip')
  ) {
    throw invalidOption('compress', 'encodings', `must list "br" and/or "gzip", got ${describe(encodings)}`)
  }
  if (options.isCompressible !== undefined && typeof options.isCompressible !== 'function')
    throw invalidOption(
      'compress',
      'isCompressible',
      `must be a function, got ${describe(options.isCompressible)}`,
    )
  const thresholdBytes = options.thresholdBytes ?? 1024
  const brotliQuality = options.brotliQuality ?? 4
  const gzipLevel = options.gzipLevel ?? 6
  const isCompressible = options.isCompressible ?? isCompressibleType
  const negotiate = encodingNegotiator(encodings)
  const brotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: brotliQuality } }
  const gzipOptions = { level: gzipLevel }
  const encode = (coding: ContentCoding, payload: Buffer | string): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const done = (error: Error | null, result: Buffer) => (error ? reject(error) : resolve(result))
      if (coding === 'br') brotliCompress(payload, brotliOptions, done)
      else gzip(payload, gzipOptions, done)
    })

  const compressBody = (ctx: RequestContext, body: unknown): unknown => {
    const { res } = ctx
    if (body === undefined || body === null || res.headersSent || !hasCompressibleStatus(ctx)) return body
    if (res.hasHeader('content-encoding') || isNoTransform(res)) return body
    let payload: Buffer | string
    if (Buffer.isBuffer(body)) {
      payload = body
    } else if (typeof body === 'string') {
      payload = body
      if (!res.hasHeader('content-type')) res.setHeader('content-type', textTypeOf(ctx))
    } else if (typeof body === 'object') {
      // Serialized here, as sendBody would, so the bytes can be measured and compressed.
      payload = JSON.stringify(body)
      if (!res.hasHeader('content-type')) res.setHeader('content-type', 'application/json; charset=utf-8')
    } else {
      return body
    }
    const contentType = res.getHeader('content-type')
    if (typeof contentType !== 'string' || !isCompressible(contentType)) return payload
    appendVary(res, 'Accept-Encoding')
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
    if (size < thresholdBytes) return payload
    const coding = negotiate(ctx.req.headers['accept-encoding'])
    if (!coding) return payload
    return encode(coding, payload).then((compressed) => {
      if (res.headersSent) return payload
      res.setHeader('content-encoding', coding)
      const etag = res.getHeader('etag')
      if (typeof etag === 'string' && !etag.startsWith('W/')) res.setHeader('etag', `W/${etag}`)
      return compressed
    })
  }

  return {
    name: 'compress',
    options: {
      thresholdBytes,
      encodings,
      brotliQuality,
      gzipLevel,
      isCompressible: options.isCompressible ? '[function]' : 'default',
    },
    handle(ctx, next) {
      return Promise.resolve(next()).then((body) => compressBody(ctx, body))
    },
  }
}

const hasCompressibleStatus = (ctx: RequestContext): boolean =>
  ctx.method !== 'HEAD' && ctx.status >= 200 && ctx.status !== 204 && ctx.status !== 206 && ctx.status !== 304

function isNoTransform(res: ServerResponse): boolean {
  const cacheControl = res.getHeader('cache-control')
  return typeof cacheControl === 'string' && cacheControl.toLowerCase().includes('no-transform')
}
