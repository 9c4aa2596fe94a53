import type { Queryable } from '../data/index.ts'

/** The states of a job, in pg-boss's order. `failed` after the last retry is a dead letter. */
export const jobStates = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const

/** A job's state. */
export type JobState = (typeof jobStates)[number]

/** How many jobs one queue holds in each state. */
export type QueueCounts = { readonly queue: string } & Readonly<Record<JobState, number>>

/** pg-boss's own queue (cron hand-off); not the app's, so counts leave it out. */
const internalQueue = '__pgboss__%'

/** A PostgreSQL identifier Keel accepts as the jobs schema: lower case, digits, `_`, at most 50. */
export const jobsSchemaName = /^[a-z_][a-z0-9_]{0,49}$/

/**
 * Jobs per queue and state in the jobs schema: every queue pg-boss knows (or only `queues`),
 * with 0 for the states it has none in. Archived jobs are not counted.
 *
 * @example
 * ```ts
 * const [welcome] = await queueCounts(db, 'keel_jobs', ['welcome-email'])
 * console.log(welcome.created, welcome.failed)
 * ```
 */
export async function queueCounts(
  db: Queryable,
  schema: string,
  queues?: readonly string[],
): Promise<QueueCounts[]> {
  if (!jobsSchemaName.test(schema)) throw new Error(`not a jobs schema name: ${JSON.stringify(schema)}`)
  const rows = await db.query<{ queue: string; state: JobState | null; count: number }>(
    `select q.name as queue, j.state::text as state, count(j.id)::integer as count
       from ${schema}.queue q left join ${schema}.job j on j.name = q.name
      where q.name not like $1 ${queues ? 'and q.name = any($2::text[])' : ''}
      group by q.name, j.state
      order by q.name`,
    queues ? [internalQueue, [...queues]] : [internalQueue],
  )
  const byQueue = new Map<string, Record<JobState, number>>()
  for (const row of rows) {
    let counts = byQueue.get(row.queue)
    if (!counts) {
      counts = { created: 0, retry: 0, active: 0, completed: 0, cancelled: 0, failed: 0 }
      byQueue.set(row.queue, counts)
    }
    if (row.state) counts[row.state] = row.count
  }
  return [...byQueue].map(([queue, counts]) => ({ queue, ...counts }))
}
