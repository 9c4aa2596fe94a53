import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import { bossDb, queue } from 'keel/jobs'
import { afterAll, describe, expect, it } from 'vitest'
import { loadPgBoss } from '../../src/jobs/load-pg-boss.ts'
import { eventually } from '../flow/support/eventually.ts'
import { type JobsApp, startJobsApp } from './support/jobs-app.ts'

// PGlite is one process's database, so two worker processes cannot share it: here the app's
// jobs module and a second pg-boss instance (its own workers, same queue, same PGlite through
// Keel's adapter) compete for 300 jobs. Each must complete exactly once in the ledger.

const total = 300
const executions: Array<{ id: string; by: string }> = []
let ctx: JobsApp | undefined
afterAll(async () => {
  await ctx?.app.stop()
})

describe('two pg-boss instances on one PGlite', () => {
  it('complete every job exactly once between them', async () => {
    const effect = async (id: string, n: number, by: string) => {
      executions.push({ id, by })
      await sleep(10)
      await ctx!.data.db.query(
        'insert into ledger (job_id, n, by) values ($1, $2, $3) on conflict do nothing',
        [id, n, by],
      )
    }
    const shared = queue('shared', {
      data: Type.Object({ n: Type.Integer() }),
      concurrency: 4,
      handler: ({ n }, job) => effect(job.id, n, 'module'),
    })
    ctx = await startJobsApp({}, [shared])
    await ctx.data.db.execute(
      'create table ledger (job_id uuid primary key, n integer not null, by text not null)',
    )
    const Boss = loadPgBoss()
    const other = new Boss({
      db: bossDb(ctx.data.db),
      schema: 'keel_jobs',
      schedule: false,
      supervise: false,
    })
    await other.start()
    try {
      for (let k = 0; k < 4; k++) {
        await other.work<{ n: number }>(
          'shared',
          { pollingIntervalSeconds: 0.5, batchSize: 5 },
          async (batch) => {
            for (const job of batch) await effect(job.id, job.data.n, 'other')
          },
        )
      }
      for (let k = 0; k < total; k += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => ctx!.jobs.send(shared, { n: k + i })))
      }
      await eventually(
        async () => {
          const [row] = await ctx!.data.db.query<{ n: number }>(
            `select count(*)::integer as n from keel_jobs.job where name = 'shared' and state = 'completed'`,
          )
          expect(row?.n).toBe(total)
        },
        { timeoutMs: 60_000, intervalMs: 200 },
      )
    } finally {
      await other.stop({ graceful: true, timeout: 2000 })
    }
    const [ledger] = await ctx.data.db.query<{ rows: number; ns: number }>(
      'select count(*)::integer as rows, count(distinct n)::integer as ns from ledger',
    )
    expect(ledger).toEqual({ rows: total, ns: total })
    expect(executions).toHaveLength(total)
    expect(new Set(executions.map((e) => e.id)).size).toBe(total)
    const by = new Set(executions.map((e) => e.by))
    expect(by).toEqual(new Set(['module', 'other']))
  }, 90_000)
})
