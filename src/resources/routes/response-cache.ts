/**
 * Where the answers of cached read endpoints (`cache: { ttl }` on `list` and `get`) live:
 * {@link MemoryResponseCache} per process, or {@link RedisResponseCache} shared by every replica.
 *
 * Every answer belongs to a resource, and a write to the resource drops all of its answers at
 * once ({@link invalidate}): each resource has a generation number that is part of every key, so
 * a write bumps one number instead of finding keys.
 *
 * Reads and stores are split around the database query: {@link get} looks up an answer under the
 * resource's generation *now*, and on a miss its `key` is where the fresh answer goes. A write
 * that commits while the query runs bumps the generation, so the (possibly older) answer lands
 * under a key nobody reads any more instead of being served until its TTL runs out. Asking for
 * the generation again at store time would put that old answer under the new generation.
 *
 * Entries are the answers' JSON text, the bytes the client gets: a hit is sent as is (no
 * serializing), and an answer from Redis cannot differ from a fresh one however the database
 * driver typed the row (timestamps are Date objects).
 *
 * @example
 * ```ts
 * const found = await cache.get('todos', scope, '/v1/todos/7')
 * if (found.body !== undefined) return found.body
 * const fresh = JSON.stringify(await load())
 * await cache.set(found.key, fresh, 30)
 * ```
 */
export interface ResponseCache {
  /** `memory`, `redis`, or your own; in logs and the app description. */
  readonly kind: string
  /**
   * The answer cached for `target` (the request URL) within `scope` (the caller's tenant and owner),
   * `undefined` in `body` on a miss; `key` names the entry under the current generation.
   */
  get(resource: string, scope: string, target: string): Promise<CacheLookup>
  /** Stores `body` (an answer's JSON text) under a key from {@link get} for `ttlSeconds`. */
  set(key: string, body: string, ttlSeconds: number): Promise<void>
  /** Drops every cached answer of `resource`, for every scope and target. */
  invalidate(resource: string): Promise<void>
  /** Releases connections; `serveResources` calls it when the app stops, for caches it made. */
  close?(): Promise<void>
}

/** What {@link ResponseCache.get} found. */
export interface CacheLookup {
  /** Where the entry lives under the generation the lookup saw; pass it to `set` on a miss. */
  readonly key: string
  /** The cached answer's JSON text, or `undefined` on a miss. */
  readonly body: string | undefined
}
