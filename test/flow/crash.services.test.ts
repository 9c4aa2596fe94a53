import { openDb } from 'keel/data'
import { describe, expect, it } from 'vitest'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { crashSeed, expectSurvived, runCrashScenario, verifyCrashOutcome } from './support/crash-harness.ts'

// The crash test of test/flow/crash.test.ts on a real PostgreSQL server: one worker killed five
// times, then two worker processes on one database, each killed five times and restarted
// independently, resuming each other's runs. Each scenario has its own schema, dropped at the end.

const schemas = postgresSchemas('keel_crash')
const freshSchema = (name: string) => schemas.fresh(name)

describe('the order saga under SIGKILL, on PostgreSQL', () => {
  it('ends all 200 runs completed or compensated, none lost, each effect once, across five kills', async () => {
    const url = await freshSchema('one')
    const seed = crashSeed()
    console.log(`crash test on PostgreSQL: seed ${seed} (CRASH_SEED=${seed} replays the kill moments)`)
    const run = await runCrashScenario({ seed, orders: 200, kills: 5, workers: ['a'], database: { url } })

    const db = await openDb({ url, poolSize: 2 })
    try {
      const outcome = await verifyCrashOutcome(db, 200, seed)
      console.log(`crash test on PostgreSQL: ${JSON.stringify({ seed, ...run, outcome })}`)
      expectSurvived(run, outcome, seed, 5)
    } finally {
      await db.close()
    }
  }, 240_000)

  it('does the same with two worker processes on one database, each killed five times', async () => {
    const url = await freshSchema('two')
    const seed = crashSeed()
    console.log(`crash test on PostgreSQL, two workers: seed ${seed}`)
    const run = await runCrashScenario({
      seed,
      orders: 200,
      kills: 5,
      workers: ['a', 'b'],
      database: { url },
    })

    const db = await openDb({ url, poolSize: 2 })
    try {
      const outcome = await verifyCrashOutcome(db, 200, seed)
      console.log(`crash test on PostgreSQL, two workers: ${JSON.stringify({ seed, ...run, outcome })}`)
      expectSurvived(run, outcome, seed, 10)
      // While one worker was down, the other finished its runs.
      expect(outcome.ordersAcrossWorkers, `seed ${seed}`).toBeGreaterThan(0)
    } finally {
      await db.close()
    }
  }, 240_000)
})
