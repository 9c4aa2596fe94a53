import type { Db, Queryable } from '../data/index.ts'
import type { AnyJobQueue } from './queue.ts'

/**
 * Creates each queue pg-boss does not have yet (its partition of the job table), then sets its
 * policy to what the code says now: retry limit, delay and backoff, expiry and dead-letter queue
 * (cleared when the code drops it). Dead-letter targets are created before any queue names them.
 *
 * One transaction under an advisory lock of the schema: replicas starting at once would otherwise
 * deadlock, each attaching a queue's partition to the job table while the other waits on it.
 */
export async function provisionQueues(db: Db, schema: string, queues: readonly AnyJobQueue[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(hashtext($1))', [`keel.jobs.provision.${schema}`])
    const existing = await tx.query<{ name: string }>(
      `select name from ${schema}.queue where name = any($1::text[])`,
      [queues.map((q) => q.name)],
    )
    const known = new Set(existing.map((row) => row.name))
    for (const queue of queues) {
      if (!known.has(queue.name)) {
        await tx.query(`select ${schema}.create_queue($1, $2)`, [queue.name, { policy: 'standard' }])
      }
    }
    for (const queue of queues) await applyPolicy(tx, schema, queue)
  })
}

async function applyPolicy(tx: Queryable, schema: string, { name, options }: AnyJobQueue): Promise<void> {
  const backoff = options.retryBackoff ?? false
  await tx.query(
    `update ${schema}.queue set policy = 'standard', retry_limit = $2, retry_delay = $3, retry_backoff = $4,
            expire_seconds = $5, dead_letter = $6, updated_on = now()
      where name = $1`,
    [
      name,
      options.retryLimit ?? 2,
      options.retryDelaySeconds ?? (backoff ? 1 : 0),
      backoff,
      options.expireInSeconds ?? 900,
      options.deadLetter ?? null,
    ],
  )
}
