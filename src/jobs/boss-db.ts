import type { Db, Queryable } from '../data/index.ts'

/** The database object pg-boss 10 accepts as its `db` option (and as `db` of `send`). */
export interface BossDb {
  executeSql(text: string, values?: readonly unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

/** A {@link BossDb} over the app's database that can wait for the statements it started. */
export interface TrackedBossDb extends BossDb {
  /** Resolves once every statement started so far has settled. */
  settled(): Promise<void>
}

/**
 * pg-boss on Keel's own {@link Db}, so jobs share the app's one pool (and its `keel_db_*`
 * metrics and slow-query log) instead of opening a second `pg` pool, and so they run on embedded
 * PGlite, which has no socket a `pg` pool could connect to.
 *
 * pg-boss sends three kinds of statements, and each goes where both drivers run it the same way:
 *
 * - Scripts wrapped in `BEGIN; … COMMIT;` (schema creation, migrations, maintenance), without
 *   parameters. postgres.js refuses a `BEGIN` on a pool, so the wrapper is taken off and the body
 *   goes to `db.execute`: several statements in one simple-protocol message run as one implicit
 *   transaction on either driver, where `SET LOCAL` and `pg_advisory_xact_lock` work as before.
 * - Any other statement goes to `db.query`, with `undefined` parameters sent as `null` (pg's
 *   habit; postgres.js rejects `undefined`).
 * - JSON parameters: pg-boss passes objects for `jsonb` (job data, output, queue options), which
 *   both drivers encode. The one pre-stringified value, the `json_to_recordset($1)` array of
 *   `insert` (cron jobs), is parsed back: postgres.js would encode the string as a JSON string.
 *   A bare string for `jsonb` means JSON text to PGlite and a JSON string to postgres.js, which
 *   is why Keel job data is always an object.
 */
export function bossDb(db: Db): TrackedBossDb {
  const pending = new Set<Promise<unknown>>()
  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise)
    const forget = () => pending.delete(promise)
    promise.then(forget, forget)
    return promise
  }
  return {
    executeSql(text, values) {
      const script = values === undefined || values.length === 0 ? transactionBody(text) : undefined
      if (script !== undefined) return track(db.execute(script).then(() => ({ rows: [] })))
      return track(run(db, text, values))
    },
    async settled() {
      while (pending.size > 0) await Promise.allSettled([...pending])
    },
  }
}

/**
 * A {@link BossDb} over a caller's transaction (or any {@link Queryable}), for `send` inside it:
 * the job row is written by the transaction, so it exists only if the transaction commits.
 */
export function bossDbOn(target: Queryable): BossDb {
  return { executeSql: (text, values) => run(target, text, values) }
}

async function run(target: Queryable, text: string, values: readonly unknown[] | undefined) {
  const rows = await target.query<Record<string, unknown>>(text, values ? parameters(text, values) : [])
  return { rows }
}

function parameters(text: string, values: readonly unknown[]): unknown[] {
  const params = values.map((value) => (value === undefined ? null : value))
  if (typeof params[0] === 'string' && text.includes('json_to_recordset($1)')) {
    params[0] = JSON.parse(params[0])
  }
  return params
}

const wrapped = /^\s*BEGIN\s*;([\s\S]*);\s*COMMIT\s*;\s*$/i

/** The statements between `BEGIN;` and `COMMIT;`, or undefined for a statement that is not wrapped. */
export function transactionBody(text: string): string | undefined {
  const match = wrapped.exec(text)
  return match ? match[1] : undefined
}
