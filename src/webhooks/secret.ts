import { randomBytes } from 'node:crypto'
import { KeelError } from '../errors/index.ts'

const prefix = 'whsec_'

/** A new signing secret in the Standard Webhooks form: `whsec_` and 32 random bytes in base64. */
export function generateWebhookSecret(): string {
  return `${prefix}${randomBytes(32).toString('base64')}`
}

/**
 * The key bytes of a secret: `whsec_<base64>` (the prefix is optional). Refuses secrets that
 * are not base64 or shorter than 16 bytes: a short HMAC key is a guessable one.
 */
export function secretKey(secret: string): Buffer {
  if (typeof secret !== 'string') throw invalid('a webhook secret must be a string')
  const encoded = secret.startsWith(prefix) ? secret.slice(prefix.length) : secret
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw invalid('a webhook secret must be "whsec_" followed by base64 (generateWebhookSecret() makes one)')
  }
  const key = Buffer.from(encoded, 'base64')
  if (key.length < 16)
    throw invalid(`a webhook secret must hold at least 16 bytes, this one holds ${key.length}`)
  return key
}

const invalid = (message: string) => new KeelError('KEEL_WEBHOOK_SECRET', message)
