import type { Redis } from 'ioredis'
import { RedisConnection } from '../redis-connection.ts'
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
  readonly #prefix: string
  readonly #redis: RedisConnection<ScriptedRedis>

  constructor(options: RedisRateLimitStoreOptions) {
    this.#redis = new RedisConnection({
      url: options?.url,
      timeoutMs: options?.timeoutMs ?? 500,
      owner: 'RedisRateLimitStore',
      what: 'Redis rate limit store',
      scripts: { keelRateLimitHit: hitScript },
    })
    this.#prefix = options.prefix ?? 'keel:ratelimit:'
  }

  /** The prefix keys get in Redis. */
  get prefix(): string {
    return this.#prefix
  }

  async hit(key: string, windowMs: number): Promise<RateLimitHit> {
    const client = await this.#redis.ready()
    const [count, ttl] = await client.keelRateLimitHit(this.#prefix + key, windowMs)
    return { count: Number(count), resetMs: Number(ttl) }
  }

  close(): Promise<void> {
    return this.#redis.close()
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
