/** Something statements can run on: the database itself or an open transaction. */
export interface Queryable {
  /**
   * Runs one statement with `$1`-style parameters and returns its rows. Parameters travel
   * separately from the SQL text, so values never need quoting. For `json`/`jsonb` pass the
   * value itself (object or array, never a pre-stringified string): both drivers encode it.
   */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>
}

/**
 * Keel's one database interface, with two drivers that run the same SQL: embedded PGlite (the
 * default: in memory or in a data directory) and PostgreSQL through postgres.js when a URL is
 * configured. Rows come back the same way from both: `int8` as a number while it is a safe
 * integer, `numeric` as a string, timestamps as `Date`, `json`/`jsonb` parsed.
 *
 * @example
 * ```ts
 * const db = await openDb({ url: process.env.DATABASE_URL })
 * const [user] = await db.query<{ id: number }>('select id from users where email = $1', [email])
 * await db.transaction(async (tx) => {
 *   await tx.query('update accounts set balance = balance - $1 where id = $2', [amount, from])
 *   await tx.query('update accounts set balance = balance + $1 where id = $2', [amount, to])
 * })
 * ```
 */
export interface Db extends Queryable {
  /** `pglite` (embedded) or `postgres` (a server reached by URL). */
  readonly driver: 'pglite' | 'postgres'
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>
  /** Runs a script of several statements without parameters (migrations). */
  execute(script: string): Promise<void>
  /**
   * Connections open now: the pool's on PostgreSQL (it opens them on demand, up to
   * `poolSize`, and closes idle ones), 1 on PGlite until closed. Published as
   * `keel_db_pool_connections` by {@link instrumentDb}.
   */
  openConnections(): number
  /** Closes the database or the pool; queries after this reject. */
  close(): Promise<void>
}
