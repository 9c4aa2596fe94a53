import { type Db, openPostgresDb } from 'keel/data'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { killedJobRows, killMidJob } from './support/crash-scenario.ts'
import { freshJobsSchema } from './support/jobs-app.ts'

// The SIGKILL proof on PostgreSQL: the killed worker's job expires, is retried by the next
// worker process, and its effect lands once.

const schemas = postgresSchemas('keel_jobs_crash')
const jobsSchema = freshJobsSchema()
let url: string
let db: Db
beforeAll(async () => {
  url = await schemas.fresh('crash')
  db = await openPostgresDb({ url, poolSize: 1 })
})
afterAll(async () => {
  await db?.query(`drop schema if exists ${jobsSchema} cascade`)
  await db?.close()
})

describe('a job worker killed mid-job, on PostgreSQL', () => {
  it('retries the job in the next worker: completed once, never lost', async () => {
    const { id, attempt } = await killMidJob({ url, schema: jobsSchema })
    expect(attempt).toBe(2)
    const { job, ledger, executions } = await killedJobRows(db, jobsSchema, id)
    expect(job).toEqual({ state: 'completed', retry_count: 1 })
    expect(ledger).toEqual([{ worker: 'heir', attempt: 2 }])
    expect(executions).toEqual([{ worker: 'heir' }])
  }, 120_000)
})
