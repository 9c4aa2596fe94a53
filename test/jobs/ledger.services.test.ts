import { setTimeout as sleep } from 'node:timers/promises'
import { type Db, openPostgresDb } from 'keel/data'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import type { ServiceProcess } from '../support/service-process.ts'
import { startWorker } from './support/crash-scenario.ts'
import { freshJobsSchema } from './support/jobs-app.ts'

// "1,000 jobs across two workers each complete exactly once in the ledger": two worker processes
// on one PostgreSQL database each send 500 jobs and work the shared queue. Delivery is at least
// once; the ledger insert keyed by the job id makes the effect exactly once, and the executions
// table shows whether any job was delivered twice.

const total = 1000
const schemas = postgresSchemas('keel_jobs_ledger')
const jobsSchema = freshJobsSchema()
let url: string
let db: Db
beforeAll(async () => {
  url = await schemas.fresh('ledger')
  db = await openPostgresDb({ url, poolSize: 1 })
})
afterAll(async () => {
  await db?.query(`drop schema if exists ${jobsSchema} cascade`)
  await db?.close()
})

describe('1,000 jobs across two worker processes on PostgreSQL', () => {
  it('completes every job exactly once in the ledger, with both workers taking part', async () => {
    const where = { url, schema: jobsSchema }
    const workers: ServiceProcess[] = []
    try {
      const began = Date.now()
      for (const [name, from] of [
        ['a', 0],
        ['b', total / 2],
      ] as const) {
        workers.push(
          startWorker(where, {
            JOBS_WORKER: name,
            JOBS_SEND: String(total / 2),
            JOBS_SEND_FROM: String(from),
            JOBS_CONCURRENCY: '8',
          }),
        )
      }
      for (;;) {
        const gone = workers.find((w) => w.exit)
        if (gone) throw new Error(`a worker exited early\n${gone.output}`)
        const [row] = await db
          .query<{ n: number }>('select count(*)::integer as n from jobs_ledger')
          .catch(() => [{ n: 0 }])
        if (row?.n === total) break
        if (Date.now() - began > 90_000) throw new Error(`only ${row?.n} of ${total} jobs in the ledger`)
        await sleep(200)
      }
      const elapsedMs = Date.now() - began
      for (const w of workers) w.signal('SIGTERM')
      for (const w of workers) expect(await w.waitForExit(15_000)).toMatchObject({ code: 0 })

      const [ledger] = await db.query<{ rows: number; ids: number; ns: number; min: number; max: number }>(
        'select count(*)::integer as rows, count(distinct job_id)::integer as ids, count(distinct n)::integer as ns, min(n) as min, max(n) as max from jobs_ledger',
      )
      expect(ledger).toEqual({ rows: total, ids: total, ns: total, min: 0, max: total - 1 })
      const [runs] = await db.query<{ executions: number; duplicates: number }>(
        'select count(*)::integer as executions, (count(*) - count(distinct job_id))::integer as duplicates from jobs_executions',
      )
      const byWorker = await db.query<{ worker: string; n: number }>(
        'select worker, count(*)::integer as n from jobs_ledger group by worker order by worker',
      )
      const states = await db.query<{ state: string; n: number }>(
        `select state::text as state, count(*)::integer as n from ${jobsSchema}.job where name = 'ledger' group by state`,
      )
      console.log(
        `jobs ledger on PostgreSQL: ${JSON.stringify({ total, elapsedMs, ...runs, byWorker, states })}`,
      )
      expect(states).toEqual([{ state: 'completed', n: total }])
      expect(byWorker.map((w) => w.worker)).toEqual(['a', 'b'])
      for (const w of byWorker) expect(w.n).toBeGreaterThan(0)
      // No worker died, so no job was delivered twice; a duplicate would have been absorbed above.
      expect(runs).toEqual({ executions: total, duplicates: 0 })
    } finally {
      await Promise.all(workers.map((w) => w.kill()))
    }
  }, 150_000)
})
