import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from '@sinclair/typebox'
import { isKeelError, type KeelError } from 'keel/errors'
import { queue } from 'keel/jobs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eventually } from '../flow/support/eventually.ts'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { freshJobsSchema, type JobsApp, type JobsDatabase, startJobsApp } from './support/jobs-app.ts'

/** The rejection of `promise`, or a failure when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<KeelError> {
  try {
    await promise
  } catch (error) {
    if (isKeelError(error)) return error
    throw error
  }
  throw new Error('expected a rejection')
}

/**
 * The behaviour the jobs module must show on either driver: `where` gives the database (PGlite
 * or a PostgreSQL schema). One app runs every queue of the first block.
 */
export function describeJobsContract(label: string, where: () => Promise<JobsDatabase>): void {
  const seen = new Map<
    string,
    Array<{ data: Record<string, unknown>; attempt: number; at: number; id: string }>
  >()
  const record = (name: string, data: Record<string, unknown>, attempt: number, id: string) => {
    const list = seen.get(name) ?? []
    list.push({ data, attempt, at: Date.now(), id })
    seen.set(name, list)
  }
  const runs = (name: string) => seen.get(name) ?? []

  const greet = queue('greet', {
    data: Type.Object({ name: Type.String({ minLength: 1 }), times: Type.Integer({ minimum: 1 }) }),
    handler: (data, ctx) => {
      record('greet', data, ctx.attempt, ctx.id)
      return { greeting: `hello ${data.name}`.repeat(data.times) }
    },
  })
  const flakyDead = queue('flaky.dead', {
    data: Type.Object({ n: Type.Integer() }),
    handler: (data, ctx) => record('flaky.dead', data, ctx.attempt, ctx.id),
  })
  const flaky = queue('flaky', {
    data: Type.Object({ n: Type.Integer() }),
    retryLimit: 2,
    retryDelaySeconds: 1,
    retryBackoff: true,
    deadLetter: 'flaky.dead',
    handler: (data, ctx) => {
      record('flaky', data, ctx.attempt, ctx.id)
      throw new Error(`flaky ${data.n} attempt ${ctx.attempt}`)
    },
  })
  let onceHealed = false
  const once = queue('once', {
    data: Type.Object({ label: Type.String() }),
    retryLimit: 0,
    handler: (data, ctx) => {
      record('once', data, ctx.attempt, ctx.id)
      if (!onceHealed) throw new Error(`once ${data.label} is broken`)
    },
  })
  const later = queue('later', {
    data: Type.Object({ label: Type.String() }),
    handler: (data, ctx) => record('later', data, ctx.attempt, ctx.id),
  })
  const ordered = queue('ordered', {
    data: Type.Object({ label: Type.String() }),
    concurrency: 1,
    handler: (data, ctx) => record('ordered', data, ctx.attempt, ctx.id),
  })
  const inTx = queue('in-tx', {
    data: Type.Object({ label: Type.String() }),
    handler: (data, ctx) => record('in-tx', data, ctx.attempt, ctx.id),
  })
  let active = 0
  let maxActive = 0
  const parallel = queue('parallel', {
    data: Type.Object({ k: Type.Integer() }),
    concurrency: 3,
    handler: async (data, ctx) => {
      active++
      maxActive = Math.max(maxActive, active)
      await sleep(150)
      active--
      record('parallel', data, ctx.attempt, ctx.id)
    },
  })
  const nightly = queue('nightly', {
    data: Type.Object({ region: Type.String() }),
    cron: { expression: '0 3 * * *', data: { region: 'eu' }, tz: 'Europe/Paris' },
    handler: () => {},
  })
  // Always due: the last time of '* * * * *' is under a minute ago whenever the schedules are checked.
  const minutely = queue('minutely', {
    data: Type.Object({ tick: Type.String() }),
    cron: { expression: '* * * * *', data: { tick: 'from cron' } },
    handler: (data, ctx) => record('minutely', data, ctx.attempt, ctx.id),
  })
  const queues = [greet, flakyDead, flaky, once, later, ordered, inTx, parallel, nightly, minutely]

  describe(`jobs on ${label}`, () => {
    let ctx: JobsApp
    const schema = freshJobsSchema()
    beforeAll(async () => {
      // Schedules checked every second, so a due one fires within seconds of the start, not 30.
      ctx = await startJobsApp(await where(), queues, { schema, cronCheckIntervalSeconds: 1 })
    }, 60_000)
    afterAll(async () => {
      await ctx?.app.stop()
    })

    it('runs a sent job with its typed data and completes it with the handler result', async () => {
      const id = await ctx.jobs.send(greet, { name: 'ada', times: 2 })
      expect(id).toMatch(/^[0-9a-f-]{36}$/)
      const job = await eventually(async () => {
        const found = await ctx.jobs.getJob(greet, id!)
        expect(found?.state).toBe('completed')
        return found!
      })
      expect(runs('greet')).toEqual([
        expect.objectContaining({ data: { name: 'ada', times: 2 }, attempt: 1, id }),
      ])
      expect(job).toMatchObject({ id, queue: 'greet', data: { name: 'ada', times: 2 }, retryCount: 0 })
      expect(job.output).toEqual({ greeting: 'hello adahello ada' })
    })

    it('rejects data the schema refuses at send, naming the queue and the failing path, and stores nothing', async () => {
      const error = await rejection(ctx.jobs.send(greet, { name: 'ada', times: 0 }))
      expect(error.code).toBe('KEEL_JOB_INVALID_DATA')
      expect(error.status).toBe(422)
      expect(error.message).toContain('queue "greet"')
      expect(error.message).toContain('/times')
      const missing = await rejection(ctx.jobs.send('greet', { times: 1 }))
      expect(missing.message).toContain('/name')
      const notObject = await rejection(ctx.jobs.send('greet', [1] as never))
      expect(notObject.message).toContain('must be a JSON object')
      const unknown = await rejection(ctx.jobs.send('nope', {}))
      expect(unknown.code).toBe('KEEL_JOB_UNKNOWN_QUEUE')
      expect(unknown.message).toContain('"nope"')
      const badOption = await rejection(ctx.jobs.send(greet, { name: 'a', times: 1 }, { delaySeconds: -1 }))
      expect(badOption.code).toBe('KEEL_JOB_INVALID_OPTIONS')
      expect(badOption.message).toContain('delaySeconds')
      const counts = await ctx.jobs.counts()
      expect(counts.find((c) => c.queue === 'greet')).toMatchObject({ created: 0, retry: 0, active: 0 })
    })

    it('retries a failing job with growing backoff, then makes it a dead letter and forwards a copy', async () => {
      const id = await ctx.jobs.send(flaky, { n: 7 })
      const letters = await eventually(
        async () => {
          const list = await ctx.jobs.deadLetters.list('flaky')
          expect(list).toHaveLength(1)
          return list
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      )
      const attempts = runs('flaky')
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3])
      expect(new Set(attempts.map((a) => a.id))).toEqual(new Set([id]))
      // Backoff with jitter: the first retry waits 1-2 s, the second 2-4 s (plus polling).
      expect(attempts[1]!.at - attempts[0]!.at).toBeGreaterThanOrEqual(900)
      expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(1900)
      expect(letters[0]).toMatchObject({ id, queue: 'flaky', data: { n: 7 }, attempts: 3 })
      expect((letters[0]!.error as { message: string }).message).toBe('flaky 7 attempt 3')
      expect((await ctx.jobs.getJob(flaky, id!))?.state).toBe('failed')
      await eventually(() => expect(runs('flaky.dead').map((r) => r.data)).toEqual([{ n: 7 }]))
    }, 30_000)

    it('lists dead letters, retries one in place under the same id and discards another', async () => {
      const first = await ctx.jobs.send(once, { label: 'first' })
      const second = await ctx.jobs.send(once, { label: 'second' })
      const letters = await eventually(async () => {
        const list = await ctx.jobs.deadLetters.list('once')
        expect(list).toHaveLength(2)
        return list
      })
      expect(letters.map((l) => l.id).sort()).toEqual([first, second].sort())
      expect(letters.find((l) => l.id === first)).toMatchObject({ data: { label: 'first' }, attempts: 1 })
      onceHealed = true
      await ctx.jobs.deadLetters.retry('once', first!)
      await eventually(async () => expect((await ctx.jobs.getJob(once, first!))?.state).toBe('completed'))
      expect(
        runs('once')
          .filter((r) => r.id === first)
          .map((r) => r.attempt),
      ).toEqual([1, 2])
      await ctx.jobs.deadLetters.discard('once', second!)
      expect(await ctx.jobs.getJob(once, second!)).toBeNull()
      expect(await ctx.jobs.deadLetters.list('once')).toEqual([])
      const gone = await rejection(ctx.jobs.deadLetters.retry('once', second!))
      expect(gone.code).toBe('KEEL_JOB_NOT_FOUND')
      const badId = await rejection(ctx.jobs.deadLetters.discard('once', 'not-a-uuid'))
      expect(badId.code).toBe('KEEL_JOB_INVALID_OPTIONS')
    })

    it('does not run a delayed job before its time', async () => {
      const sentAt = Date.now()
      const id = await ctx.jobs.send(later, { label: 'in 2 s' }, { delaySeconds: 2 })
      await sleep(1200)
      const state = (await ctx.jobs.getJob(later, id!))?.state
      const ranSoFar = [...runs('later')]
      // Waiting is only checked if this process looked in time: under load the sleep can outlast 2 s.
      if (Date.now() - sentAt < 2000) {
        expect(ranSoFar).toEqual([])
        expect(state).toBe('created')
      }
      await eventually(() => expect(runs('later')).toHaveLength(1), { timeoutMs: 15_000 })
      expect(runs('later')[0]!.at - sentAt).toBeGreaterThanOrEqual(2000)
    })

    it('runs due jobs by priority, highest first', async () => {
      // Written in one transaction, so all three are there when the worker next looks.
      await ctx.data.db.transaction(async (tx) => {
        await ctx.jobs.send(ordered, { label: 'low' }, { tx, priority: 1 })
        await ctx.jobs.send(ordered, { label: 'high' }, { tx, priority: 10 })
        await ctx.jobs.send(ordered, { label: 'mid' }, { tx, priority: 5 })
      })
      await eventually(() => expect(runs('ordered')).toHaveLength(3))
      expect(runs('ordered').map((r) => r.data.label)).toEqual(['high', 'mid', 'low'])
    })

    it('sends inside a transaction: a committed job runs, a rolled back one never exists', async () => {
      const committed = await ctx.data.db.transaction((tx) => ctx.jobs.send(inTx, { label: 'kept' }, { tx }))
      let rolledBack: string | null = null
      await expect(
        ctx.data.db.transaction(async (tx) => {
          rolledBack = await ctx.jobs.send(inTx, { label: 'dropped' }, { tx })
          throw new Error('the order failed')
        }),
      ).rejects.toThrow('the order failed')
      expect(rolledBack).toMatch(/^[0-9a-f-]{36}$/)
      await eventually(async () => expect((await ctx.jobs.getJob(inTx, committed!))?.state).toBe('completed'))
      await sleep(700)
      expect(await ctx.jobs.getJob(inTx, rolledBack!)).toBeNull()
      expect(runs('in-tx').map((r) => r.data.label)).toEqual(['kept'])
    })

    it('keeps at most `concurrency` jobs of a queue running at once, and reaches it', async () => {
      await Promise.all(Array.from({ length: 9 }, (_, k) => ctx.jobs.send(parallel, { k })))
      await eventually(() => expect(runs('parallel')).toHaveLength(9), { timeoutMs: 10_000 })
      expect(maxActive).toBe(3)
    })

    it('registers the cron schedule in the jobs schema and describes it', async () => {
      const rows = await ctx.data.db.query<{ name: string; cron: string; timezone: string; data: unknown }>(
        `select name, cron, timezone, data from ${schema}.schedule order by name`,
      )
      expect(rows).toEqual([
        { name: 'minutely', cron: '* * * * *', timezone: 'UTC', data: { tick: 'from cron' } },
        { name: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Paris', data: { region: 'eu' } },
      ])
      const described = ctx.app.describe().modules.find((m) => m.name === 'jobs') as unknown as {
        jobs: Array<Record<string, unknown>>
      }
      expect(described.jobs.find((j) => j.name === 'nightly')).toMatchObject({
        schedule: { expression: '0 3 * * *', tz: 'Europe/Paris' },
      })
      expect(described.jobs.find((j) => j.name === 'flaky')).toEqual({
        name: 'flaky',
        schedule: null,
        retryLimit: 2,
        retryDelaySeconds: 1,
        retryBackoff: true,
        expireInSeconds: 900,
        priority: 0,
        concurrency: 1,
        deadLetter: 'flaky.dead',
      })
    })

    it('fires a due schedule: its job is sent with the cron data, runs and completes', async () => {
      // The check sends it to pg-boss's hand-off queue, whose worker looks every 5 s.
      const [first] = await eventually(
        () => {
          expect(runs('minutely').length).toBeGreaterThan(0)
          return runs('minutely')
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      )
      expect(first).toMatchObject({ data: { tick: 'from cron' }, attempt: 1 })
      await eventually(async () =>
        expect(await ctx.jobs.getJob(minutely, first!.id)).toMatchObject({
          state: 'completed',
          queue: 'minutely',
          data: { tick: 'from cron' },
        }),
      )
    })

    it('exposes processed counts, durations and queue depth in the app metrics, and a passing health check', async () => {
      const samples = parsePrometheusText(await ctx.app.metrics.registry.metrics())
      const processed = (q: string, outcome: string) =>
        findSamples(samples, 'keel_jobs_processed_total', { queue: q, outcome })[0]?.value
      expect(processed('greet', 'completed')).toBe(1)
      expect(processed('flaky', 'retried')).toBe(2)
      expect(processed('flaky', 'failed')).toBe(1)
      expect(processed('parallel', 'completed')).toBe(9)
      expect(findSamples(samples, 'keel_jobs_duration_seconds_count', { queue: 'parallel' })[0]?.value).toBe(
        9,
      )
      const depth = (q: string, state: string) =>
        findSamples(samples, 'keel_jobs_queue_depth', { queue: q, state })[0]?.value
      expect(depth('parallel', 'completed')).toBe(9)
      expect(depth('flaky', 'failed')).toBe(1)
      expect(depth('greet', 'created')).toBe(0)
      const health = await ctx.app.health.run()
      expect(health.checks).toContainEqual(expect.objectContaining({ name: 'jobs', status: 'pass' }))
    })
  })
}
