import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import type { Db } from 'keel/data'
import { queue } from 'keel/jobs'
import { describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { type JobsDatabase, startJobsApp } from './support/jobs-app.ts'

/** Where one test's apps keep their jobs; the job rows are read once those apps stopped. */
export interface DrainPlace {
  readonly database: JobsDatabase
  /** The jobs schema (`jobs.schema`) of the apps. */
  readonly schema: string
  /** A connection of the test's own, outliving the apps' (which close on stop). */
  open(): Promise<Db>
}

const Work = Type.Object({ label: Type.String() })

async function jobRow(place: DrainPlace, id: string) {
  const db = await place.open()
  try {
    const [row] = await db.query<{ state: string; retry_count: number; output: { message?: string } | null }>(
      `select state::text as state, retry_count, output from ${place.schema}.job where id = $1`,
      [id],
    )
    return row
  } finally {
    await db.close()
  }
}

/**
 * Drain on shutdown, on either driver: `placeFor(name)` gives each test a place of its own, which
 * the test's second app shares with its first so that it picks up what the first left.
 */
export function describeDrainContract(label: string, placeFor: (name: string) => Promise<DrainPlace>): void {
  describe(`jobs on app stop, on ${label}`, () => {
    it('lets a running job finish before stop resolves, and completes it', async () => {
      const place = await placeFor('finish')
      const events: string[] = []
      const slow = queue('slow', {
        data: Work,
        handler: async (data) => {
          events.push(`start ${data.label}`)
          await sleep(700)
          events.push(`end ${data.label}`)
        },
      })
      const { app, jobs } = await startJobsApp(place.database, [slow], { schema: place.schema })
      const id = await jobs.send(slow, { label: 'a' })
      await eventually(() => expect(events).toEqual(['start a']))
      await app.stop()
      events.push('stopped')
      expect(events).toEqual(['start a', 'end a', 'stopped'])
      expect(await jobRow(place, id!)).toMatchObject({ state: 'completed', retry_count: 0 })
    }, 60_000)

    it('leaves a job that ignores its signal past the drain time for a retry, which the next app runs', async () => {
      const place = await placeFor('interrupt')
      let signalled = false
      let finished = false
      // Held until the test ends (not a timer a slow stop could outlast): it ignores the signal on purpose.
      let release = () => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const stubborn = queue('stubborn', {
        data: Work,
        retryLimit: 3,
        handler: async (_data, ctx) => {
          ctx.signal.addEventListener('abort', () => {
            signalled = true
          })
          await held
          finished = true
        },
      })
      const first = await startJobsApp(place.database, [stubborn], {
        schema: place.schema,
        drainTimeoutMs: 300,
      })
      const id = await first.jobs.send(stubborn, { label: 'b' })
      await eventually(async () => expect((await first.jobs.getJob(stubborn, id!))?.state).toBe('active'))
      await first.app.stop()
      expect(signalled).toBe(true)
      // stop() returned once the drain time was over, with the handler still held.
      expect(finished).toBe(false)
      const left = await jobRow(place, id!)
      expect(left?.state).toBe('retry')
      expect(left?.output?.message).toContain('drain time is over')

      const attempts: number[] = []
      const healed = queue('stubborn', {
        data: Work,
        retryLimit: 3,
        handler: (_data, ctx) => void attempts.push(ctx.attempt),
      })
      const second = await startJobsApp(place.database, [healed], { schema: place.schema })
      try {
        await eventually(
          async () => expect((await second.jobs.getJob(healed, id!))?.state).toBe('completed'),
          { timeoutMs: 20_000 },
        )
        expect(attempts).toEqual([2])
      } finally {
        release()
        await second.app.stop()
      }
    }, 60_000)
  })
}
