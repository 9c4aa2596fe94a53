import { join } from 'node:path'
import type { Db } from 'keel/data'
import { expect } from 'vitest'
import { startService } from '../../support/service-process.ts'

const workerEntry = join(import.meta.dirname, 'ledger-worker.ts')

/** Where the workers' database is: PGlite in a data directory, or a PostgreSQL URL and jobs schema. */
export type WorkerDatabase = { readonly dataDir: string } | { readonly url: string; readonly schema: string }

const envOf = (where: WorkerDatabase): Record<string, string> =>
  'url' in where
    ? { JOBS_DATABASE_URL: where.url, JOBS_SCHEMA: where.schema }
    : { JOBS_DATA_DIR: where.dataDir }

/** Starts one ledger worker process. */
export function startWorker(where: WorkerDatabase, env: Record<string, string>) {
  return startService(workerEntry, { env: { ...envOf(where), ...env } })
}

/**
 * A worker is killed with SIGKILL while its handler runs a job; a new worker starts on the same
 * database. Returns the job id and what the second worker reported once it completed it.
 */
export async function killMidJob(where: WorkerDatabase): Promise<{ id: string; attempt: number }> {
  const doomed = startWorker(where, { JOBS_WORKER: 'doomed', JOBS_SEND: '1', JOBS_HANG: '1' })
  try {
    const started = await doomed.waitForRecord((r) => r.msg === 'job started', 60_000)
    doomed.signal('SIGKILL')
    const exit = await doomed.waitForExit(10_000)
    expect(exit.signal).toBe('SIGKILL')
    const heir = startWorker(where, { JOBS_WORKER: 'heir' })
    try {
      const done = await heir.waitForRecord((r) => r.msg === 'job done' && r.id === started.id, 60_000)
      heir.signal('SIGTERM')
      expect(await heir.waitForExit(15_000)).toMatchObject({ code: 0 })
      return { id: String(started.id), attempt: Number(done.attempt) }
    } finally {
      await heir.kill()
    }
  } finally {
    await doomed.kill()
  }
}

/** The killed job's rows: its state, the ledger and the executions. */
export async function killedJobRows(db: Db, schema: string, id: string) {
  const [job] = await db.query<{ state: string; retry_count: number }>(
    `select state::text as state, retry_count from ${schema}.job where id = $1`,
    [id],
  )
  const ledger = await db.query<{ worker: string; attempt: number }>(
    'select worker, attempt from jobs_ledger where job_id = $1',
    [id],
  )
  const executions = await db.query<{ worker: string }>(
    'select worker from jobs_executions where job_id = $1',
    [id],
  )
  return { job, ledger, executions }
}
