import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import { openDb } from 'keel/data'
import { queue } from 'keel/jobs'
import { afterAll, describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { startJobsApp } from './support/jobs-app.ts'

// Drain on shutdown, on PGlite in a data directory: the test reads the job rows after the app
// (and its database) stopped, and a second app picks up what the first one left.

const dir = mkdtempSync(join(tmpdir(), 'keel-jobs-drain-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const Work = Type.Object({ label: Type.String() })

async function jobRow(dataDir: string, id: string) {
  const db = await openDb({ dataDir })
  try {
    const [row] = await db.query<{ state: string; retry_count: number; output: { message?: string } | null }>(
      'select state::text as state, retry_count, output from keel_jobs.job where id = $1',
      [id],
    )
    return row
  } finally {
    await db.close()
  }
}

describe('jobs on app stop', () => {
  it('lets a running job finish before stop resolves, and completes it', async () => {
    const dataDir = join(dir, 'finish')
    const events: string[] = []
    const slow = queue('slow', {
      data: Work,
      handler: async (data) => {
        events.push(`start ${data.label}`)
        await sleep(700)
        events.push(`end ${data.label}`)
      },
    })
    const { app, jobs } = await startJobsApp({ dataDir }, [slow])
    const id = await jobs.send(slow, { label: 'a' })
    await eventually(() => expect(events).toEqual(['start a']))
    await app.stop()
    events.push('stopped')
    expect(events).toEqual(['start a', 'end a', 'stopped'])
    expect(await jobRow(dataDir, id!)).toMatchObject({ state: 'completed', retry_count: 0 })
  }, 60_000)

  it('leaves a job that ignores its signal past the drain time for a retry, which the next app runs', async () => {
    const dataDir = join(dir, 'interrupt')
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
    const first = await startJobsApp({ dataDir }, [stubborn], { drainTimeoutMs: 300 })
    const id = await first.jobs.send(stubborn, { label: 'b' })
    await eventually(async () => expect((await first.jobs.getJob(stubborn, id!))?.state).toBe('active'))
    await first.app.stop()
    expect(signalled).toBe(true)
    // stop() returned once the drain time was over, with the handler still held.
    expect(finished).toBe(false)
    const left = await jobRow(dataDir, id!)
    expect(left?.state).toBe('retry')
    expect(left?.output?.message).toContain('drain time is over')

    const attempts: number[] = []
    const healed = queue('stubborn', {
      data: Work,
      retryLimit: 3,
      handler: (_data, ctx) => void attempts.push(ctx.attempt),
    })
    const second = await startJobsApp({ dataDir }, [healed])
    try {
      await eventually(async () => expect((await second.jobs.getJob(healed, id!))?.state).toBe('completed'), {
        timeoutMs: 20_000,
      })
      expect(attempts).toEqual([2])
    } finally {
      release()
      await second.app.stop()
    }
  }, 60_000)
})
