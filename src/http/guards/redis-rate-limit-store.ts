import type { Redis } from 'ioredis'
import { redactUrl } from '../../log/index.ts'
import { MemoryRateLimitStore, type RateLimitHit, type RateLimitStore } from './rate-limit-store.ts'

/**
 * One round trip, atomic: count the hit, and give a key its expiry on its first hit (or if it
 * somehow has none), so a window starts at a key's first request and Redis deletes it at the end.
 */
const hitScript = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`

type ScriptedRedis = Redis & {
  keelRateLimitHit(key: string, windowMs: number): Promise<[number, number]>
}

/** A function, so that TypeScript re-reads `status` after an await. */
const isReady = (client: Redis): boolean => client.status === 'ready'

/** Options of {@link RedisRateLimitStore}. */
export interface RedisRateLimitStoreOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  url: string
  /** Prepended to every key. Default `keel:ratelimit:`. */
  prefix?: string
  /**
   * How long a hit may take before it counts as a store failure (the guard's `onStoreError`
   * decides what follows). The first connection may take max(timeoutMs, 1000) ms. Default 500.
   */
  timeoutMs?: number
}

/**
 * Counts in Redis, so every replica of a service shares one limit per key. A hit is one
 * atomic script (INCR, and PEXPIRE on a key's first hit): Redis expires keys itself, so nothing
 * needs sweeping. `ioredis` is imported on the first hit, so apps that never use this store
 * never load it.
 *
 * While Redis is unreachable, hits fail at once rather than queueing (the guard then fails
 * open or closed, as its `onStoreError` says) and the client reconnects in the background.
 * Call {@link close} on shutdown, or make it with `rateLimitStore(app)`, which does.
 *
 * @example
 * ```ts
 * const store = new RedisRateLimitStore({ url: 'redis://127.0.0.1:6379' })
 * app.guard(rateLimit({ limit: 100, windowMs: 60_000, store }))
 * app.use({ name: 'rate-limit-store', stop: () => store.close() }) // or: rateLimitStore(app)
 * ```
 */
export class RedisRateLimitStore implements RateLimitStore {
  readonly kind = 'redis'
  readonly #url: string
  readonly #prefix: string
  readonly #timeoutMs: number
  #client: Promise<ScriptedRedis> | undefined
  /** Settles when the first connection attempt ends, either way. */
  #firstAttempt: Promise<void> | undefined
  #isClosed = false
  /** The last connection error, for the message of a failed hit. */
  #lastError: string | undefined

  constructor(options: RedisRateLimitStoreOptions) {
    if (typeof options?.url !== 'string' || !/^rediss?:\/\//.test(options.url))
      throw new TypeError(
        `RedisRateLimitStore: url must be a redis:// or rediss:// URL, got ${JSON.stringify(options?.url)}`,
      )
    this.#url = options.url
    this.#prefix = options.prefix ?? 'keel:ratelimit:'
    this.#timeoutMs = options.timeoutMs ?? 500
  }

  /** The prefix keys get in Redis. */
  get prefix(): string {
    return this.#prefix
  }

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    if (this.#isClosed) throw new Error('the Redis rate limit store is closed')
    this.#client ??= this.#connect()
    const client = await this.#client
    if (!isReady(client)) {
      await this.#firstAttempt
      if (!isReady(client))
        throw new Error(
          `Redis at ${redactUrl(this.#url)} is not connected (${client.status}${this.#lastError ? `, last error ${this.#lastError}` : ''})`,
        )
    }
    const [count, ttl] = await client.keelRateLimitHit(this.#prefix + key, windowMs)
    return { count: Number(count), resetMs: Number(ttl) }
  }

  async close(): Promise<void> {
    this.#isClosed = true
    const pending = this.#client
    this.#client = undefined
    if (!pending) return
    const client = await pending.catch(() => undefined)
    if (!client) return
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect())
    else client.disconnect()
  }

  async #connect(): Promise<ScriptedRedis> {
    const { Redis } = await import('ioredis')
    const client = new Redis(this.#url, {
      // Fail fast while disconnected: a rate limit must not hold requests in a queue.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: this.#timeoutMs,
      connectTimeout: Math.max(this.#timeoutMs, 1000),
      retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
      lazyConnect: false,
    }) as ScriptedRedis
    client.defineCommand('keelRateLimitHit', { numberOfKeys: 1, lua: hitScript })
    // Errors surface on the hits that meet them; an 'error' event without a listener would crash.
    client.on('error', (error: NodeJS.ErrnoException) => {
      this.#lastError = error.code ?? error.message
    })
    this.#firstAttempt = new Promise<void>((resolve) => {
      const done = () => {
        client.off('ready', done)
        client.off('close', done)
        resolve()
      }
      client.once('ready', done)
      client.once('close', done)
    })
    return client
  }
}

/**
 * A Redis store for `url`: `rateLimit({ limit, windowMs, store: redisStore(process.env.REDIS_URL!) })`.
 */
export const redisStore = (url: string, options: Omit<RedisRateLimitStoreOptions, 'url'> = {}) =>
  new RedisRateLimitStore({ ...options, url })

/** What {@link rateLimitStore} needs of an app (structural, since `keel/http` sits below `keel/app`). */
export interface RateLimitStoreOwner {
  readonly config: { readonly values: { readonly redis: { readonly url?: string | undefined } } }
  use(module: { readonly name: string; stop(): void | Promise<void> }): unknown
}

let owned = 0

/**
 * The store the app's config asks for: Redis when `redis.url` is set (REDIS_URL), else memory.
 * Pass it to every rate limit that must hold across replicas. Given the app, the store is closed
 * when the app stops (after HTTP has drained); given only the settings, closing it is yours.
 *
 * @example
 * ```ts
 * app.guard(rateLimit({ limit: 100, windowMs: 60_000, store: rateLimitStore(app) }))
 * ```
 */
export function rateLimitStore(from: RateLimitStoreOwner | { url?: string | undefined }): RateLimitStore {
  if ('use' in from) {
    const store = rateLimitStore(from.config.values.redis)
    if (store.close) from.use({ name: `rate-limit-store-${++owned}`, stop: () => store.close?.() })
    return store
  }
  return from.url ? new RedisRateLimitStore({ url: from.url }) : new MemoryRateLimitStore()
}
