/**
 * Answers of cached read endpoints, in memory, per process. A write to a resource drops every
 * entry of that resource at once (a generation number in the key), so a client never reads its
 * own write stale from this process; other replicas keep theirs until their TTL runs out.
 * Bounded: past `maxEntries`, the oldest entry goes.
 */
export class ResponseCache {
  readonly #entries = new Map<string, { expires: number; value: unknown }>()
  readonly #generations = new Map<string, number>()
  readonly #maxEntries: number
  readonly #now: () => number

  constructor(options: { maxEntries?: number; now?: () => number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000
    this.#now = options.now ?? Date.now
  }

  /** The key of one answer: the resource's generation, the caller's scope and the request target. */
  key(resource: string, scope: string, target: string): string {
    return `${resource}\u0000${this.#generations.get(resource) ?? 0}\u0000${scope}\u0000${target}`
  }

  get(key: string): unknown {
    const entry = this.#entries.get(key)
    if (!entry) return undefined
    if (entry.expires <= this.#now()) {
      this.#entries.delete(key)
      return undefined
    }
    return entry.value
  }

  set(key: string, value: unknown, ttlSeconds: number): void {
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value
      if (oldest !== undefined) this.#entries.delete(oldest)
    }
    this.#entries.set(key, { expires: this.#now() + ttlSeconds * 1000, value })
  }

  /** Drops every cached answer of `resource` (old keys become unreachable and age out). */
  invalidate(resource: string): void {
    this.#generations.set(resource, (this.#generations.get(resource) ?? 0) + 1)
    for (const key of this.#entries.keys()) {
      if (key.startsWith(`${resource}\u0000`)) this.#entries.delete(key)
    }
  }

  get size(): number {
    return this.#entries.size
  }
}
