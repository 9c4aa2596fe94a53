import { createHash, createHmac, randomBytes } from 'node:crypto'
import { KeelError } from '../../errors/index.ts'

/** Options shared by {@link hashApiKey}, {@link generateApiKey} and `apiKeyAuth`. */
export interface ApiKeyHashOptions {
  /**
   * A server-side secret mixed in with HMAC-SHA-256. Without it the hash is plain SHA-256.
   * Use one when keys may be user-chosen or the key store could leak apart from the config.
   */
  pepper?: string | Uint8Array
}

/**
 * The stored form of an API key: `sha256:<base64url>`, or `hmac-sha256:<base64url>` with a
 * pepper. Keys are random 256-bit secrets, so a fast hash is enough: nobody can brute-force
 * 2^256 candidates, and a slow password hash (scrypt) would cost every request milliseconds
 * of CPU and hand attackers a denial-of-service lever. The prefix names the scheme, so stored
 * hashes can migrate later.
 *
 * @example
 * ```ts
 * const hash = hashApiKey('keel_Jc3…')   // 'sha256:Wm9v…': store this, never the key
 * ```
 */
export function hashApiKey(key: string, options: ApiKeyHashOptions = {}): string {
  const { pepper } = options
  if (pepper === undefined) return `sha256:${createHash('sha256').update(key, 'utf8').digest('base64url')}`
  if (pepper.length === 0)
    throw new KeelError('KEEL_GUARD_OPTIONS', 'hashApiKey: the pepper must not be empty')
  return `hmac-sha256:${createHmac('sha256', pepper).update(key, 'utf8').digest('base64url')}`
}

/** A freshly generated API key: give `key` to its owner once, store only `hash`. */
export interface GeneratedApiKey {
  key: string
  hash: string
}

/**
 * A new API key `<prefix>_<43 base64url characters>` (256 random bits) and its hash. The prefix
 * lets secret scanners and people recognise a leaked key.
 *
 * @example
 * ```ts
 * const { key, hash } = generateApiKey({ prefix: 'acme' })   // key: 'acme_Jc3…', hash: 'sha256:…'
 * await db.query('insert into api_keys (id, owner, hash) values ($1, $2, $3)', ['k1', 'billing', hash])
 * ```
 */
export function generateApiKey(options: ApiKeyHashOptions & { prefix?: string } = {}): GeneratedApiKey {
  const prefix = options.prefix ?? 'keel'
  if (!/^[a-z][a-z0-9]{0,15}$/i.test(prefix)) {
    throw new KeelError(
      'KEEL_GUARD_OPTIONS',
      `generateApiKey: prefix "${prefix}" must be 1-16 letters and digits`,
    )
  }
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`
  return { key, hash: hashApiKey(key, options) }
}
