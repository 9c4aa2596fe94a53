import { createHmac, timingSafeEqual } from 'node:crypto'
import { KeelError } from '../errors/index.ts'
import { secretKey } from './secret.ts'

// The Standard Webhooks scheme (standardwebhooks.com, used by Svix and others), written on
// node:crypto: the reference package hashes in pure JavaScript, fixes the replay window at five
// minutes, reads the clock itself and takes one secret, where rotation needs two.

/** The headers a signed delivery carries. */
// A type, not an interface, so it passes where a header record is expected.
export type WebhookHeaders = {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** What {@link signWebhook} signs. */
export interface WebhookMessage {
  /** Unique per message and stable across retries, so receivers can drop duplicates. */
  readonly id: string
  /** The exact bytes sent as the request body. */
  readonly body: string
  /** Seconds since the epoch. Default: now. */
  readonly timestamp?: number
}

/**
 * Signs a webhook delivery: HMAC-SHA256 over `id.timestamp.body` with each secret, as the
 * `webhook-*` headers of the Standard Webhooks scheme. More than one secret (during rotation)
 * gives one signature each; a receiver accepts the delivery when any of them verifies.
 *
 * @example
 * ```ts
 * const body = JSON.stringify(event)
 * const headers = signWebhook({ id: delivery.id, body }, [subscription.secret])
 * await fetch(subscription.url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body })
 * ```
 */
export function signWebhook(message: WebhookMessage, secrets: readonly string[]): WebhookHeaders {
  if (secrets.length === 0)
    throw new KeelError('KEEL_WEBHOOK_SECRET', 'signWebhook needs at least one secret')
  if (!/^[^\s.]{1,256}$/.test(message.id)) {
    throw new KeelError(
      'KEEL_WEBHOOK_SECRET',
      `a webhook id must be 1 to 256 characters without spaces or dots, got "${message.id}"`,
    )
  }
  const timestamp = message.timestamp ?? Math.floor(Date.now() / 1000)
  const signatures = secrets.map(
    (secret) => `v1,${hmac(secretKey(secret), message.id, timestamp, message.body)}`,
  )
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signatures.join(' '),
  }
}

/** Options of {@link verifyWebhook}. */
export interface VerifyWebhookOptions {
  /** Secrets to accept; more than one while a secret is being rotated. */
  readonly secrets: readonly string[]
  /** How far the timestamp may be from now, either way, in seconds. Default 300. */
  readonly toleranceSeconds?: number
  /** The current time in seconds since the epoch (tests). Default: now. */
  readonly now?: number
}

/**
 * Verifies an inbound webhook signed with the Standard Webhooks scheme against the raw body
 * (the exact bytes received: parse JSON only after verifying). Rejects a delivery whose
 * timestamp lies outside the tolerance, so a captured request cannot be replayed later; drop
 * repeated `webhook-id`s within the window to stop replays inside it.
 *
 * @returns the delivery's id and timestamp.
 * @throws KeelError `KEEL_WEBHOOK_SIGNATURE` (401) naming what failed: a missing header, a
 *   timestamp out of tolerance, or no signature that matches.
 */
export function verifyWebhook(
  headers: Record<string, string | string[] | undefined>,
  body: string | Buffer,
  options: VerifyWebhookOptions,
): { id: string; timestamp: number } {
  const keys = options.secrets.map(secretKey)
  if (keys.length === 0) throw new KeelError('KEEL_WEBHOOK_SECRET', 'verifyWebhook needs at least one secret')
  const id = header(headers, 'webhook-id')
  const timestampText = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!/^\d{1,12}$/.test(timestampText))
    throw rejected(`webhook-timestamp is not a number of seconds: "${timestampText}"`)
  const timestamp = Number(timestampText)
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const tolerance = options.toleranceSeconds ?? 300
  if (Math.abs(now - timestamp) > tolerance) {
    throw rejected(
      `webhook-timestamp ${timestamp} is ${Math.abs(now - timestamp)} s ${timestamp < now ? 'old' : 'in the future'}, outside the ${tolerance} s tolerance`,
    )
  }
  const text = typeof body === 'string' ? body : body.toString('utf8')
  const offered = signatures
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .map((s) => Buffer.from(s.slice(3), 'base64'))
  for (const key of keys) {
    const expected = Buffer.from(hmac(key, id, timestamp, text), 'base64')
    if (
      offered.some(
        (signature) => signature.length === expected.length && timingSafeEqual(signature, expected),
      )
    ) {
      return { id, timestamp }
    }
  }
  throw rejected('no webhook-signature matches the body with any of the secrets')
}

const hmac = (key: Buffer, id: string, timestamp: number, body: string) =>
  createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  // Node lowercases header names; a plain object (from another framework, a test) may not.
  const key = name in headers ? name : Object.keys(headers).find((k) => k.toLowerCase() === name)
  const value = key === undefined ? undefined : headers[key]
  const text = Array.isArray(value) ? value[0] : value
  if (!text) throw rejected(`the ${name} header is missing`)
  return text
}

const rejected = (message: string) => new KeelError('KEEL_WEBHOOK_SIGNATURE', message, { status: 401 })
