import { isUtf8 } from 'node:buffer'
import type { IncomingMessage } from 'node:http'
import { HttpError } from './http-error.ts'

/** Whether a content type is JSON (`application/json`, `application/merge-patch+json`, with any parameters). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (!contentType) return false
  const semicolon = contentType.indexOf(';')
  const type = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase()
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))
}

/**
 * Reads a JSON request body of at most `limitBytes`. Answers (by rejecting with {@link HttpError}):
 * 415 when the content type is not JSON, 413 when the body is larger than the limit (checked
 * against Content-Length before reading, and while reading), 400 when it is not valid UTF-8 JSON.
 */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    return Promise.reject(
      new HttpError(
        415,
        'KEEL_UNSUPPORTED_MEDIA_TYPE',
        `expected a JSON body (Content-Type: application/json), got ${req.headers['content-type'] ? `"${req.headers['content-type']}"` : 'no Content-Type'}`,
      ),
    )
  }
  const declared = Number(req.headers['content-length'])
  if (declared > limitBytes) return Promise.reject(tooLarge(limitBytes))
  return read(req, limitBytes, true)
}

/** Reads a request body of at most `limitBytes` as UTF-8 text (413 past the limit, 400 when not UTF-8). */
export function readBodyText(req: IncomingMessage, limitBytes: number): Promise<string> {
  return read(req, limitBytes, false) as Promise<string>
}

// Connection: close, so the unread rest of the body is never parsed as the next request.
const tooLarge = (limitBytes: number) =>
  new HttpError(
    413,
    'KEEL_BODY_TOO_LARGE',
    `the request body is larger than ${limitBytes} bytes`,
    {},
    { connection: 'close' },
  )

/** A body being read: kept on the request, so the listeners below are shared, not made per request. */
interface BodyRead {
  readonly chunks: Buffer[]
  size: number
  readonly limit: number
  readonly json: boolean
  readonly resolve: (value: unknown) => void
  readonly reject: (error: unknown) => void
}

const bodyRead = Symbol('keel.bodyRead')
type Reading = IncomingMessage & { [bodyRead]?: BodyRead | undefined }

// One promise per body and no closure per request: under esbuild's keepNames (tsx, keel build)
// each named closure made per request costs a defineProperty call, which showed up as the largest
// item of reading a small body (bench/README.md).
function read(req: Reading, limit: number, json: boolean): Promise<unknown> {
  return new Promise((resolve, reject) => {
    req[bodyRead] = { chunks: [], size: 0, limit, json, resolve, reject }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

function finish(req: Reading): BodyRead {
  const state = req[bodyRead]!
  req[bodyRead] = undefined
  req.off('data', onData)
  req.off('end', onEnd)
  req.off('error', onError)
  return state
}

function onData(this: Reading, chunk: Buffer): void {
  const state = this[bodyRead]!
  state.size += chunk.length
  if (state.size > state.limit) {
    finish(this)
    // Stop reading; the response will say Connection: close so the rest is never parsed.
    this.pause()
    state.reject(tooLarge(state.limit))
    return
  }
  state.chunks.push(chunk)
}

function onEnd(this: Reading): void {
  const state = finish(this)
  const { chunks, size } = state
  const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
  if (!isUtf8(buffer)) {
    state.reject(new HttpError(400, 'KEEL_MALFORMED_JSON', 'the request body is not valid UTF-8'))
    return
  }
  const text = buffer.toString('utf8')
  if (!state.json) {
    state.resolve(text)
    return
  }
  if (text.length === 0) {
    state.reject(new HttpError(400, 'KEEL_MALFORMED_JSON', 'the request body is empty; expected JSON'))
    return
  }
  try {
    state.resolve(JSON.parse(text))
  } catch (error) {
    state.reject(
      new HttpError(
        400,
        'KEEL_MALFORMED_JSON',
        `the request body is not valid JSON: ${(error as Error).message}`,
      ),
    )
  }
}

function onError(this: Reading, error: Error): void {
  finish(this).reject(
    new HttpError(400, 'KEEL_MALFORMED_JSON', `the request body could not be read: ${error.message}`),
  )
}
