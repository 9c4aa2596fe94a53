import type { CacheLookup, ResponseCache } from './response-cache.ts'

/** Options of {@link MemoryResponseCache}. */
export interface MemoryResponseCacheOptions {
  /** Most answers kept; past it, the oldest goes. Default 10,000. */
  readonly maxEntries?: number
  /** The clock, in milliseconds; for tests. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * Answers of cached read endpoints in memory, per process. A write drops every entry of the
 * resource in this process at once (a generation number in the key), so a client never reads its
 * own write stale from this process; other replicas keep theirs until their TTL runs out (use
 * {@link RedisResponseCache} to share answers and invalidations between replicas).
 * Bounded: past `maxEntries`, the oldest entry goes.
 *
 * @example
 * ```ts
 * serveResources(app, { database: data, resources, cache: new MemoryResponseCache({ maxEntries: 1000 }) })
 * ```
 */
export class MemoryResponseCache implements ResponseCache {
  readonly kind = 'memory'
  readonly #entries = new Map<string, { expires: number; body: string }>()
  readonly #generations = new Map<string, number>()
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(options: MemoryResponseCacheOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1)
      throw new TypeError(
        `MemoryResponseCache: maxEntries must be a positive integer, got ${String(options.maxEntries)}`,
      )
    this.#now = options.now ?? Date.now
  }

  async get(resource: string, scope: string, target: string): Promise<CacheLookup> {
    const key = `${resource}\u0000${this.#generations.get(resource) ?? 0}\u0000${scope}\u0000${target}`
    const entry = this.#entries.get(key)
    if (!entry) return { key, body: undefined }
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key)
      return { key, body: undefined }
    }
    return { key, body: entry.body }
  }

  async set(key: string, body: string, ttlSeconds: number): Promise<void> {
    if (this.#entries.size >= this.#maxEntries && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
    this.#entries.set(key, { expires: this.#now() + ttlSeconds * 1000, body })
  }

  /** Drops every cached answer of `resource` (old keys become unreachable and are deleted). */
  async invalidate(resource: string): Promise<void> {
    this.#generations.set(resource, (this.#generations.get(resource) ?? 0) + 1)
    for (const key of this.#entries.keys()) {
      if (key.startsWith(`${resource}\u0000`)) this.#entries.delete(key)
    }
  }

  /** Entries held, expired ones not yet dropped included. */
  get size(): number {
    return this.#entries.size
  }
}
