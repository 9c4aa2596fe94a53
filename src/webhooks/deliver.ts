import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { privateNetworks } from './private-networks.ts'
import { signWebhook } from './signature.ts'

/** One attempt to deliver a message to one URL. */
export interface DeliveryAttempt {
  readonly url: string
  /** The message id, the same on every retry (receivers drop duplicates by it). */
  readonly id: string
  /** The JSON text to send. */
  readonly body: string
  readonly secrets: readonly string[]
  /** Abort the attempt after this long. Default 10,000 ms. */
  readonly timeoutMs?: number
  /** Allow loopback and private addresses (tests, internal receivers). Default false. */
  readonly allowPrivateNetworks?: boolean
  /** Aborts the attempt (a job's signal: shutdown, expiry). */
  readonly signal?: AbortSignal
}

/**
 * How an attempt ended: `delivered` (2xx), `gone` (410: the receiver asks to be unsubscribed), or
 * `retry` (anything else: another status, a redirect, a network error, a timeout, a refused
 * address), with what the receiver said.
 */
export interface DeliveryResult {
  readonly outcome: 'delivered' | 'gone' | 'retry'
  readonly status?: number
  /** Why it did not succeed, for the delivery record. */
  readonly error?: string
  /** The first 1 KiB of the response body. */
  readonly response?: string
  readonly durationMs: number
}

const responseKeepBytes = 1024

/**
 * POSTs one signed webhook. Redirects are not followed (a redirect could point anywhere the
 * sender can reach). Unless `allowPrivateNetworks`, every address the host name resolves to is
 * checked at connect time, so neither a private IP literal nor DNS that answers with one reaches
 * the sender's own network.
 */
export async function deliverWebhook(attempt: DeliveryAttempt): Promise<DeliveryResult> {
  const started = performance.now()
  const done = (result: Omit<DeliveryResult, 'durationMs'>): DeliveryResult => ({
    ...result,
    durationMs: Math.round(performance.now() - started),
  })
  let url: URL
  try {
    url = new URL(attempt.url)
  } catch {
    return done({ outcome: 'retry', error: `not a URL: ${attempt.url}` })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return done({ outcome: 'retry', error: `only http and https URLs are delivered to, not ${url.protocol}` })
  }
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (!attempt.allowPrivateNetworks && isIP(host) && privateNetworks.has(host)) {
    return done({ outcome: 'retry', error: `refused: ${host} is a private or loopback address` })
  }
  const headers = {
    ...signWebhook({ id: attempt.id, body: attempt.body }, attempt.secrets),
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(attempt.body)),
    'user-agent': 'keel-webhooks',
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest
  const post = (isRetry: boolean) =>
    new Promise<DeliveryResult>((resolve) => {
      const req = send(
        url,
        {
          method: 'POST',
          headers,
          signal: attempt.signal
            ? AbortSignal.any([attempt.signal, AbortSignal.timeout(attempt.timeoutMs ?? 10_000)])
            : AbortSignal.timeout(attempt.timeoutMs ?? 10_000),
          ...(attempt.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
        },
        (res) => {
          readStart(res).then((response) => {
            const status = res.statusCode ?? 0
            if (status >= 200 && status < 300) resolve(done({ outcome: 'delivered', status, response }))
            else if (status === 410)
              resolve(done({ outcome: 'gone', status, response, error: 'the receiver answered 410 Gone' }))
            else {
              const error =
                status >= 300 && status < 400
                  ? `redirects are not followed (${status} to ${res.headers.location ?? '?'})`
                  : `the receiver answered ${status}`
              resolve(done({ outcome: 'retry', status, response, error }))
            }
          })
        },
      )
      req.on('error', (error: NodeJS.ErrnoException) => {
        // A pooled keep-alive socket the receiver closed at its idle timeout just as it was reused:
        // the request never got an answer, so send it once more on another socket (Node's documented
        // remedy). A receiver may then see it twice, as with any retry: it dedupes by webhook id.
        if (req.reusedSocket && error.code === 'ECONNRESET' && !isRetry) return resolve(post(true))
        const message =
          error.name === 'AbortError' || error.name === 'TimeoutError'
            ? `no answer within ${attempt.timeoutMs ?? 10_000} ms`
            : error.message
        resolve(done({ outcome: 'retry', error: message }))
      })
      req.end(attempt.body)
    })
  return post(false)
}

/** Reads at most the first KiB of a response and drains the rest, so the socket is freed. */
function readStart(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      if (size < responseKeepBytes) chunks.push(chunk)
      size += chunk.length
    })
    const finish = () => resolve(Buffer.concat(chunks).subarray(0, responseKeepBytes).toString('utf8'))
    res.on('end', finish)
    res.on('error', finish)
  })
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void

/** dns.lookup that fails when the name resolves to a private or loopback address. */
function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, [])
    const refused = addresses.find((a) => privateNetworks.has(a.address))
    if (refused) {
      const blocked: NodeJS.ErrnoException = new Error(
        `refused: ${hostname} resolves to ${refused.address}, a private or loopback address`,
      )
      blocked.code = 'EKEELPRIVATE'
      return callback(blocked, [])
    }
    const all = (options as { all?: boolean }).all
    if (all) return callback(null, addresses)
    const first = addresses[0]!
    callback(null, first.address, first.family)
  })
}
