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
 * Reads a JSON request body of at most `limitBytes`. Answers (by throwing {@link HttpError}):
 * 415 when the content type is not JSON, 413 when the body is larger than the limit (checked
 * against Content-Length before reading, and while reading), 400 when it is not valid UTF-8 JSON.
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new HttpError(
      415,
      'KEEL_UNSUPPORTED_MEDIA_TYPE',
      `expected a JSON body (Content-Type: application/json), got ${req.headers['content-type'] ? `"${req.headers['content-type']}"` : 'no Content-Type'}`,
    )
  }
  const declared = Number(req.headers['content-length'])
  if (declared > limitBytes) throw tooLarge(limitBytes)
  const text = await readBodyText(req, limitBytes)
  if (text.length === 0)
    throw new HttpError(400, 'KEEL_MALFORMED_JSON', 'the request body is empty; expected JSON')
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new HttpError(
      400,
      'KEEL_MALFORMED_JSON',
      `the request body is not valid JSON: ${(error as Error).message}`,
    )
  }
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

/** Reads a request body of at most `limitBytes` as UTF-8 text (413 past the limit, 400 when not UTF-8). */
export function readBodyText(req: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limitBytes) {
        cleanup()
        // Stop reading; the response will say Connection: close so the rest is never parsed.
        req.pause()
        reject(tooLarge(limitBytes))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      const buffer = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
      try {
        resolve(utf8.decode(buffer))
      } catch {
        reject(new HttpError(400, 'KEEL_MALFORMED_JSON', 'the request body is not valid UTF-8'))
      }
    }
    const onError = (error: Error) => {
      cleanup()
      reject(
        new HttpError(400, 'KEEL_MALFORMED_JSON', `the request body could not be read: ${error.message}`),
      )
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
