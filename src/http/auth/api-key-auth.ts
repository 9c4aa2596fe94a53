import { timingSafeEqual } from 'node:crypto'
import { KeelError } from '../../errors/index.ts'
import { markSecretKey } from '../../log/index.ts'
import type { Guard } from '../guard.ts'
import { HttpError } from '../http-error.ts'
import type { Principal } from '../principal.ts'
import { type ApiKeyHashOptions, hashApiKey } from './api-key-hash.ts'
import { formatChallenge, offerChallenge, unauthorized } from './auth-challenge.ts'
import { AuthDecisions } from './auth-decision.ts'
import { authorizationCredentials } from './authorization-header.ts'

/** One API key as the service stores it: never the key itself, only its {@link hashApiKey} hash. */
export interface ApiKeyRecord {
  /** The key's own id (`k_2024_billing`): logged and in `principal.claims.keyId`; not secret. */
  id: string
  /** Who holds it: becomes `principal.id`. Default: the key id. */
  owner?: string
  /** `hashApiKey(key)` (with the guard's pepper, if any). */
  hash: string
  roles?: readonly string[]
  scopes?: readonly string[]
  /** After this instant the key is refused. */
  expiresAt?: Date
  /** Extra facts for `principal.claims` (tenant, plan); never secrets. */
  metadata?: Readonly<Record<string, unknown>>
}

/** Finds a key record by its hash, e.g. in a database column with a unique index. */
export type ApiKeyLookup = (hash: string) => ApiKeyRecord | undefined | Promise<ApiKeyRecord | undefined>

/** Options of {@link apiKeyAuth}. */
export interface ApiKeyAuthOptions extends ApiKeyHashOptions {
  /** The known keys, or a function that finds one by hash. */
  keys: readonly ApiKeyRecord[] | ApiKeyLookup
  /** Request header carrying the key. Default `x-api-key`. */
  header?: string
  /** Also accept `Authorization: <scheme> <key>`. Default `ApiKey`; `false` turns it off. */
  authorizationScheme?: string | false
  /** Without a key: 401 (true, the default) or go on without a principal (false). An unknown key is always 401. */
  required?: boolean
  /** `realm` of the `WWW-Authenticate` challenge. None by default. */
  realm?: string
  /** Name of the security scheme in OpenAPI. Default `apiKeyAuth`. */
  securityScheme?: string
}

/** Longer presented keys are refused before hashing: generated keys are 48 characters. */
const MAX_KEY_LENGTH = 512

/**
 * A guard that authenticates API keys from a header (`x-api-key`) or `Authorization: ApiKey
 * <key>` and sets `ctx.principal` (`kind: 'api-key'`). The presented key is hashed and looked
 * up by hash, then the stored hash is compared with `timingSafeEqual`: no comparison ever
 * runs over the key itself, so response time says nothing about how close a guess was.
 * Missing, unknown or expired keys are 401; keys in the query string are ignored. Every decision
 * is counted in `keel_auth_requests_total{guard="auth.apiKey",outcome}` of the app the guard is
 * registered on (see `AuthOutcome`; never the key or its id), and published on the `keel:auth`
 * diagnostics channel (see `AuthDecision`).
 *
 * @example
 * ```ts
 * // keys.json holds { id, owner, hash, roles, scopes } records made with generateApiKey()
 * app.group('/partner', { guards: [apiKeyAuth({ keys: partnerKeys }), requireScopes('orders:read')] }, (p) => {
 *   p.get('/orders', (ctx) => listOrders(ctx.principal!.id))
 * })
 * ```
 */
export function apiKeyAuth(options: ApiKeyAuthOptions): Guard {
  const headerName = (options.header ?? 'x-api-key').toLowerCase()
  // Debug access-log lines carry request headers; a custom key header must be redacted too.
  markSecretKey(headerName)
  const scheme = options.authorizationScheme ?? 'ApiKey'
  const required = options.required ?? true
  const hashOptions: ApiKeyHashOptions = { pepper: options.pepper }
  const expectedPrefix = hashApiKey('', hashOptions).split(':')[0]! + ':'
  const find = typeof options.keys === 'function' ? options.keys : staticLookup(options.keys, expectedPrefix)
  const challenge = formatChallenge('ApiKey', { realm: options.realm })
  const description: Record<string, unknown> = {
    securityScheme: options.securityScheme ?? 'apiKeyAuth',
    type: 'apiKey',
    in: 'header',
    header: headerName,
    required,
  }
  if (scheme !== false) description.authorizationScheme = scheme
  const outcomes = new AuthDecisions('auth.apiKey', [
    'accepted',
    'missing',
    'anonymous',
    'malformed',
    'invalid',
    'expired',
    'unavailable',
  ])

  return {
    name: 'auth.apiKey',
    options: Object.freeze(description),
    attach: outcomes.attach,
    async handle(ctx, next) {
      const fromHeader = ctx.headers[headerName]
      const presented =
        typeof fromHeader === 'string'
          ? fromHeader.trim()
          : scheme === false
            ? undefined
            : authorizationCredentials(ctx.headers.authorization, scheme)
      if (presented === undefined) {
        if (required) {
          outcomes.decide(ctx, 'missing')
          throw unauthorized(challenge, 'the request carries no API key')
        }
        outcomes.decide(ctx, 'anonymous')
        offerChallenge(ctx, challenge)
        return next()
      }
      if (presented === '' || presented.length > MAX_KEY_LENGTH) {
        outcomes.decide(ctx, 'malformed')
        throw unauthorized(challenge, 'the API key is invalid')
      }
      const hash = hashApiKey(presented, hashOptions)
      let record: ApiKeyRecord | undefined
      try {
        record = await find(hash)
      } catch (error) {
        outcomes.decide(ctx, 'unavailable')
        ctx.log.warn({ err: error, auth: 'api-key' }, 'api key: the key lookup failed')
        throw new HttpError(503, 'KEEL_AUTH_UNAVAILABLE', 'the service cannot verify API keys right now')
      }
      if (record === undefined || !sameHash(record.hash, hash)) {
        outcomes.decide(ctx, 'invalid')
        ctx.log.debug({ auth: 'api-key', reason: 'unknown' }, 'api key: key rejected')
        throw unauthorized(challenge, 'the API key is invalid')
      }
      // Fail closed: an expiry that is not a valid instant (a bad row from a lookup) counts as past.
      if (record.expiresAt !== undefined && !(new Date(record.expiresAt).getTime() > Date.now())) {
        outcomes.decide(ctx, 'expired')
        ctx.log.debug({ auth: 'api-key', reason: 'expired', keyId: record.id }, 'api key: key rejected')
        throw unauthorized(challenge, 'the API key has expired')
      }
      ctx.principal = principalOfKey(record)
      outcomes.decide(ctx, 'accepted')
      return next()
    },
  }
}

/** Principals of the static records, built once; looked-up records get a fresh one per request. */
const principals = new WeakMap<ApiKeyRecord, Principal>()

const principalOfKey = (record: ApiKeyRecord): Principal =>
  principals.get(record) ?? principalOfRecord(record)

function principalOfRecord(record: ApiKeyRecord): Principal {
  return Object.freeze({
    id: record.owner ?? record.id,
    kind: 'api-key' as const,
    roles: Object.freeze([...(record.roles ?? [])]),
    scopes: Object.freeze([...(record.scopes ?? [])]),
    claims: Object.freeze({ ...record.metadata, keyId: record.id, owner: record.owner ?? record.id }),
  })
}

function sameHash(stored: unknown, presented: string): boolean {
  if (typeof stored !== 'string') return false
  const a = Buffer.from(stored, 'utf8')
  const b = Buffer.from(presented, 'utf8')
  return a.length === b.length && timingSafeEqual(a, b)
}

/** A lookup over a fixed list: a map by hash, principals built once. */
function staticLookup(records: readonly ApiKeyRecord[], expectedPrefix: string): ApiKeyLookup {
  const byHash = new Map<string, ApiKeyRecord>()
  const ids = new Set<string>()
  for (const record of records) {
    const where = `apiKeyAuth: key "${record.id}"`
    if (typeof record.id !== 'string' || record.id === '') {
      throw new KeelError('KEEL_GUARD_OPTIONS', 'apiKeyAuth: every key needs a non-empty id')
    }
    if (typeof record.hash !== 'string' || !record.hash.startsWith(expectedPrefix)) {
      throw new KeelError(
        'KEEL_GUARD_OPTIONS',
        `${where}: hash must be a hashApiKey() value starting "${expectedPrefix}" (is a raw key stored?)`,
      )
    }
    if (ids.has(record.id)) throw new KeelError('KEEL_GUARD_OPTIONS', `${where}: the id is used twice`)
    if (byHash.has(record.hash))
      throw new KeelError('KEEL_GUARD_OPTIONS', `${where}: the same key is listed twice`)
    ids.add(record.id)
    const frozen = Object.freeze({ ...record })
    principals.set(frozen, principalOfRecord(frozen))
    byHash.set(record.hash, frozen)
  }
  return (hash) => byHash.get(hash)
}
