import type { App } from '../../app/index.ts'
import { KeelError } from '../../errors/index.ts'
import { MemoryResponseCache } from './memory-response-cache.ts'
import { RedisResponseCache } from './redis-response-cache.ts'
import type { ResponseCache } from './response-cache.ts'

/** How `serveResources` makes its answer cache; see {@link ServeResourcesOptions.cache}. */
export interface ResponseCacheOptions {
  /**
   * `'redis'`: shared by every replica, at `redis.url` (REDIS_URL), which must be set.
   * `'memory'`: per process, even when Redis is configured.
   * Default: `'redis'` when `redis.url` is set, else `'memory'`.
   */
  readonly store?: 'memory' | 'redis'
  /** Memory: most answers kept. Default 10,000. */
  readonly maxEntries?: number
  /** Redis: what every key starts with. Default `keel:cache:<service.name>`. */
  readonly prefix?: string
  /** Redis: longest wait for one command before answering from the database. Default 500 ms. */
  readonly timeoutMs?: number
}

/** The Redis cache each app's `serveResources` calls share: one connection, one stop hook. */
const redisCaches = new WeakMap<App, RedisResponseCache>()

/**
 * The cache `serveResources` uses. A cache passed in is used as is (its owner closes it). One made
 * here from options: in memory, or in Redis when `redis.url` is set (unless `store: 'memory'`),
 * because answers cached per process go stale on the other replicas after a write, and a service
 * that has Redis configured is one that runs replicas. A Redis cache connects when the app starts
 * (a failure there is a warning: the app runs, answering from the database) and is closed by a
 * `resource-cache` module when it stops; every call on one app shares it.
 */
export function appResponseCache(app: App, option: ResponseCache | ResponseCacheOptions = {}): ResponseCache {
  if (isResponseCache(option)) return option
  const url = app.config.values.redis.url
  const store = option.store ?? (url ? 'redis' : 'memory')
  if (store === 'memory') {
    return new MemoryResponseCache(option.maxEntries === undefined ? {} : { maxEntries: option.maxEntries })
  }
  if (store !== 'redis')
    throw new TypeError(
      `serveResources: cache.store must be "memory" or "redis", got ${JSON.stringify(store)}`,
    )
  if (!url) {
    throw new KeelError(
      'KEEL_CONFIG_INVALID',
      'serveResources: cache.store "redis" needs redis.url (REDIS_URL, or redis.url in keel.yaml), which is not set',
    )
  }
  const shared = redisCaches.get(app)
  if (shared) return shared
  const cache = new RedisResponseCache({
    url,
    prefix: option.prefix ?? `keel:cache:${app.config.values.service.name}`,
    ...(option.timeoutMs === undefined ? {} : { timeoutMs: option.timeoutMs }),
  })
  redisCaches.set(app, cache)
  app.use({
    name: 'resource-cache',
    async start(started) {
      if (!(await cache.connect())) {
        started
          .logger('keel:resources')
          .warn(
            { store: 'redis', prefix: cache.prefix },
            'resource cache: Redis is not reachable at start; answering from the database until it is',
          )
      }
    },
    stop: () => cache.close(),
    describe: () => ({ services: ['redis'] }),
  })
  return cache
}

const isResponseCache = (value: object): value is ResponseCache =>
  typeof (value as ResponseCache).get === 'function' &&
  typeof (value as ResponseCache).set === 'function' &&
  typeof (value as ResponseCache).invalidate === 'function'
