import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { RedisConnection } from '../../http/redis-connection.ts'
import type { CacheLookup, ResponseCache } from './response-cache.ts'

/**
 * One round trip for a lookup: the resource's generation and the entry under it. Two plain GETs
 * would cost two round trips, and a pipeline cannot use the first answer in the second command.
 * The entry's key is built here from the generation; both keys carry the resource as a hash tag
 * (`{todos}`), so they live in one slot and the script also runs on Redis Cluster.
 */
const lookupScript = `
local generation = redis.call('GET', KEYS[1]) or '0'
return { generation, redis.call('GET', ARGV[1] .. generation .. ARGV[2]) }
`

type ScriptedRedis = Redis & {
  keelCacheLookup(generationKey: string, head: string, tail: string): Promise<[string, string | null]>
}

/** Options of {@link RedisResponseCache}. */
export interface RedisResponseCacheOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://` for TLS. */
  readonly url: string
  /**
   * Starts every key. Services sharing one Redis need different prefixes (`serveResources` uses
   * `keel:cache:<service.name>`). Default `keel:cache`.
   */
  readonly prefix?: string
  /**
   * How long one command may take before it counts as a failure (the request is then answered
   * from the database). The first connection may take max(timeoutMs, 1000) ms. Default 500.
   */
  readonly timeoutMs?: number
}

/**
 * Answers of cached read endpoints in Redis, shared by every replica: a write on any replica
 * drops the resource's answers on all of them at once.
 *
 * Keys: `<prefix>:gen:{<resource>}` holds the resource's generation (no expiry; INCR on every
 * write), and `<prefix>:{<resource>}:<generation>:<digest>` one answer as JSON text, stored with
 * `SET … EX <ttl>` so Redis drops it itself. The digest is SHA-256 of the caller's scope and the
 * request target: keys stay short whatever the URL, and scopes never share an entry. After a write,
 * entries of older generations are never read again and expire with their TTL.
 *
 * While Redis is unreachable, commands fail at once rather than queueing (the caller answers from
 * the database) and the client reconnects in the background. `ioredis` is imported on first use.
 * Call {@link close} on shutdown (`serveResources` does, for the cache it makes).
 *
 * @example
 * ```ts
 * const cache = new RedisResponseCache({ url: 'redis://127.0.0.1:6379', prefix: 'orders:cache' })
 * serveResources(app, { database: data, resources, cache })
 * app.use({ name: 'orders-cache', stop: () => cache.close() })
 * ```
 */
export class RedisResponseCache implements ResponseCache {
  readonly kind = 'redis'
  readonly #prefix: string
  readonly #redis: RedisConnection<ScriptedRedis>

  constructor(options: RedisResponseCacheOptions) {
    this.#redis = new RedisConnection({
      url: options?.url,
      timeoutMs: options?.timeoutMs ?? 500,
      owner: 'RedisResponseCache',
      what: 'Redis response cache',
      scripts: { keelCacheLookup: lookupScript },
    })
    this.#prefix = options.prefix ?? 'keel:cache'
  }

  /** What every key starts with. */
  get prefix(): string {
    return this.#prefix
  }

  async get(resource: string, scope: string, target: string): Promise<CacheLookup> {
    const client = await this.#redis.ready()
    const head = `${this.#prefix}:{${resource}}:`
    const tail = `:${createHash('sha256').update(scope).update('\u0000').update(target).digest('base64url')}`
    const [generation, body] = await client.keelCacheLookup(this.#generationKey(resource), head, tail)
    return { key: head + generation + tail, body: body ?? undefined }
  }

  async set(key: string, body: string, ttlSeconds: number): Promise<void> {
    const client = await this.#redis.ready()
    await client.set(key, body, 'EX', ttlSeconds)
  }

  async invalidate(resource: string): Promise<void> {
    const client = await this.#redis.ready()
    await client.incr(this.#generationKey(resource))
  }

  /**
   * Opens the connection now rather than at the first request, and says whether it is up.
   * Never throws: a cache that cannot connect only costs hits.
   */
  connect(): Promise<boolean> {
    return this.#redis.connect()
  }

  close(): Promise<void> {
    return this.#redis.close()
  }

  #generationKey(resource: string): string {
    return `${this.#prefix}:gen:{${resource}}`
  }
}
