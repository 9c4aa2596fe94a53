import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from 'keel/data'
import { afterAll, describe, expect, it } from 'vitest'
import { killedJobRows, killMidJob } from './support/crash-scenario.ts'

// "A job worker killed mid-job: the job is retried, never lost", on PGlite in a data directory:
// the worker process dies by SIGKILL inside the handler; the job stays active until it expires
// (2 s), maintenance fails it into a retry, and the next worker process runs it.

const dir = mkdtempSync(join(tmpdir(), 'keel-jobs-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('a job worker killed mid-job, on PGlite', () => {
  it('retries the job in the next worker: completed once, never lost', async () => {
    const dataDir = join(dir, 'pgdata')
    // initdb happens here, once, so the kill never lands in it.
    await (await openDb({ dataDir })).close()
    const { id, attempt } = await killMidJob({ dataDir })
    expect(attempt).toBe(2)
    const db = await openDb({ dataDir })
    try {
      const { job, ledger, executions } = await killedJobRows(db, 'keel_jobs', id)
      expect(job).toEqual({ state: 'completed', retry_count: 1 })
      expect(ledger).toEqual([{ worker: 'heir', attempt: 2 }])
      expect(executions).toEqual([{ worker: 'heir' }])
    } finally {
      await db.close()
    }
  }, 120_000)
})
