/** One counted request: how many the key has made in its current window, and when that window ends. */
export interface RateLimitHit {
  /** Requests counted in the window, this one included. */
  count: number
  /** Milliseconds until the window ends and the count starts again from zero. */
  resetMs: number
}

/**
 * Where {@link rateLimit} counts. A window is fixed and starts at a key's first request: the
 * first hit sets the count to 1 and the window's end to now + `windowMs`; hits until then add
 * one; the first hit after it starts a new window. The in-memory store is the default; the
 * Redis store shares counts between replicas.
 */
export interface RateLimitStore {
  /** `memory`, `redis`, …: shown in the app description. */
  readonly kind: string
  /** Counts one request for `key`; synchronous stores answer without a promise. */
  hit(key: string, windowMs: number): RateLimitHit | Promise<RateLimitHit>
  /** Releases connections; the store is not used afterwards. */
  close?(): Promise<void>
}

/** Options of {@link MemoryRateLimitStore}. */
export interface MemoryRateLimitStoreOptions {
  /**
   * Most keys held at once. Past it the least recently started windows are dropped first
   * (their keys start afresh). Default 100 000 (about 15 MB with IPv6 keys).
   */
  maxKeys?: number
  /** The clock, in epoch milliseconds (tests inject one). Default `Date.now`. */
  now?: () => number
}

interface Entry {
  count: number
  resetAt: number
}

/**
 * Counts in this process's memory: one Map lookup and no timer per request. Memory stays
 * bounded two ways. Keys live in two generations (current and previous) that rotate once per
 * window, checked on each hit: a key not seen for two rotations is dropped with its whole
 * generation in one step, never by a sweep of every key. And `maxKeys` caps the total.
 *
 * @example
 * ```ts
 * const store = new MemoryRateLimitStore({ maxKeys: 50_000 })
 * app.guard(rateLimit({ limit: 100, windowMs: 60_000, store }))
 * ```
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly kind = 'memory'
  readonly #maxKeys: number
  readonly #now: () => number
  #current = new Map<string, Entry>()
  #previous = new Map<string, Entry>()
  /** The longest window seen: generations rotate no faster, so no live window is dropped. */
  #periodMs = 0
  #rotatedAt = 0
  #evicted = 0

  constructor(options: MemoryRateLimitStoreOptions = {}) {
    this.#maxKeys = options.maxKeys ?? 100_000
    if (!Number.isInteger(this.#maxKeys) || this.#maxKeys < 1)
      throw new RangeError(`MemoryRateLimitStore: maxKeys must be an integer >= 1, got ${options.maxKeys}`)
    this.#now = options.now ?? Date.now
  }

  hit(key: string, windowMs: number): RateLimitHit {
    const now = this.#now()
    if (windowMs > this.#periodMs) this.#periodMs = windowMs
    if (now - this.#rotatedAt >= this.#periodMs) this.#rotate(now)
    let entry = this.#current.get(key)
    if (entry === undefined) {
      entry = this.#previous.get(key)
      if (entry === undefined) {
        if (this.size >= this.#maxKeys) this.#evictOne()
        entry = { count: 0, resetAt: 0 }
      } else {
        this.#previous.delete(key)
      }
      this.#current.set(key, entry)
    }
    if (now >= entry.resetAt) {
      entry.count = 0
      entry.resetAt = now + windowMs
    }
    entry.count++
    return { count: entry.count, resetMs: entry.resetAt - now }
  }

  /** Keys held now. */
  get size(): number {
    return this.#current.size + this.#previous.size
  }

  /** Keys dropped by the `maxKeys` cap so far (not by expiry); worth a metric or an alert. */
  get evicted(): number {
    return this.#evicted
  }

  async close(): Promise<void> {
    this.#current.clear()
    this.#previous.clear()
  }

  /**
   * Every entry in `previous` was last hit before the last rotation, so its window ended by now
   * (windows are no longer than a period): drop them all. After two idle periods, `current` too.
   */
  #rotate(now: number): void {
    const stale = this.#previous
    stale.clear()
    if (now - this.#rotatedAt >= 2 * this.#periodMs) {
      this.#current.clear()
    } else {
      this.#previous = this.#current
      this.#current = stale
    }
    this.#rotatedAt = now
  }

  /** Drops the oldest key of the previous generation, else of the current one. */
  #evictOne(): void {
    const map = this.#previous.size > 0 ? this.#previous : this.#current
    const oldest = map.keys().next()
    if (!oldest.done) {
      map.delete(oldest.value)
      this.#evicted++
    }
  }
}
