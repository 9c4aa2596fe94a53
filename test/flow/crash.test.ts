import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from 'keel/data'
import { afterAll, describe, it } from 'vitest'
import { crashSeed, expectSurvived, runCrashScenario, verifyCrashOutcome } from './support/crash-harness.ts'

// The durable runner's promise, tested the hard way: a worker process runs 200 order sagas
// on PGlite in a data directory while the test kills it with SIGKILL five times at random
// moments and restarts it. Every run must end as its input says, and the side-effect ledger
// must show each effect exactly once. The seed of the kill moments is printed; CRASH_SEED=<seed>
// replays them.

const dir = mkdtempSync(join(tmpdir(), 'keel-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the order saga under SIGKILL, on PGlite', () => {
  it('ends all 200 runs completed or compensated, none lost, each effect once, across five kills', async () => {
    const dataDir = join(dir, 'pgdata')
    // The first open of a data directory runs initdb (several seconds): done here, once, so no
    // kill can land in the middle of it.
    await (await openDb({ dataDir })).close()

    const seed = crashSeed()
    console.log(`crash test on PGlite: seed ${seed} (CRASH_SEED=${seed} replays the kill moments)`)
    const run = await runCrashScenario({ seed, orders: 200, kills: 5, workers: ['a'], database: { dataDir } })

    const db = await openDb({ dataDir })
    try {
      const outcome = await verifyCrashOutcome(db, 200, seed)
      console.log(`crash test on PGlite: ${JSON.stringify({ seed, ...run, outcome })}`)
      expectSurvived(run, outcome, seed, 5)
    } finally {
      await db.close()
    }
  }, 240_000)
})
