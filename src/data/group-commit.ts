import type { Db, Queryable } from './db.ts'

interface Pending {
  readonly sql: string
  readonly params: readonly unknown[]
  resolve(rows: unknown[]): void
  reject(error: unknown): void
}

/**
 * Runs single statements from concurrent callers together in shared transactions, so they
 * share one WAL flush (one fsync) instead of paying one each: the database's own group commit
 * only helps callers on separate connections, and a pool has few. The first statement goes at
 * once; statements arriving while a batch is in flight form the next batch, so a lone caller
 * waits no longer than before and a busy one gets many commits per flush.
 *
 * Each statement must be atomic on its own (its own effect does not depend on sharing the
 * transaction). If a batch fails, its statements are retried one by one so only the failing
 * one rejects.
 *
 * @example
 * ```ts
 * const writes = new GroupCommit(db)
 * await Promise.all(events.map((e) => writes.query('insert into events (data) values ($1)', [e])))
 * ```
 */
export class GroupCommit implements Queryable {
  readonly #db: Db
  readonly #maxBatch: number
  #queue: Pending[] = []
  #flushing = false

  constructor(db: Db, options: { maxBatch?: number } = {}) {
    this.#db = db
    this.#maxBatch = options.maxBatch ?? 256
  }

  query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return new Promise<Row[]>((resolve, reject) => {
      this.#queue.push({ sql, params, resolve: resolve as (rows: unknown[]) => void, reject })
      if (!this.#flushing) void this.#flush()
    })
  }

  async #flush(): Promise<void> {
    this.#flushing = true
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch)
      if (batch.length === 1) {
        const [only] = batch as [Pending]
        await this.#db.query(only.sql, only.params).then(only.resolve, only.reject)
        continue
      }
      try {
        const results = await this.#db.transaction((tx) =>
          Promise.all(batch.map((p) => tx.query(p.sql, p.params))),
        )
        for (const [i, p] of batch.entries()) p.resolve(results[i]!)
      } catch {
        for (const p of batch) await this.#db.query(p.sql, p.params).then(p.resolve, p.reject)
      }
    }
    this.#flushing = false
  }
}
