import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { queue } from 'keel/jobs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobsCommand } from '../../src/cli/commands/jobs.ts'
import { eventually } from '../flow/support/eventually.ts'
import { startJobsApp } from '../jobs/support/jobs-app.ts'
import { runKeel } from '../support/cli.ts'

/** A stream that keeps what is written to it. */
const dir = mkdtempSync(join(tmpdir(), 'keel-cli-jobs-'))
const dataDir = join(dir, 'pgdata')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// An app ran once in the data directory: two jobs completed, one dead letter, one still waiting.
beforeAll(async () => {
  const mail = queue('mail', {
    data: Type.Object({ to: Type.String() }),
    retryLimit: 0,
    handler: ({ to }) => {
      if (to === 'bounce') throw new Error('mailbox full')
    },
  })
  const report = queue('report', { data: Type.Object({}), handler: () => {} })
  const { app, jobs } = await startJobsApp({ dataDir }, [mail, report])
  try {
    await jobs.send(mail, { to: 'ada' })
    await jobs.send(mail, { to: 'alan' })
    await jobs.send(mail, { to: 'bounce' })
    await jobs.send(report, {}, { delaySeconds: 3600 })
    await eventually(async () => {
      const counts = await jobs.counts()
      expect(counts.find((c) => c.queue === 'mail')).toMatchObject({ completed: 2, failed: 1 })
    })
  } finally {
    await app.stop()
  }
}, 60_000)

describe('keel jobs', () => {
  it('prints each queue with its jobs by state, dead letters as FAILED (DEAD)', async () => {
    const { text, code } = await jobsCommand(['--data-dir', dataDir])
    expect(code).toBe(0)
    const lines = text.trim().split('\n')
    expect(lines[0]).toBe(`jobs in schema "keel_jobs" (PGlite ${dataDir}):`)
    expect(lines[1]!.split(/\s{2,}/)).toEqual([
      'QUEUE',
      'CREATED',
      'RETRY',
      'ACTIVE',
      'COMPLETED',
      'CANCELLED',
      'FAILED (DEAD)',
    ])
    expect(lines[2]!.split(/\s+/)).toEqual(['mail', '0', '0', '0', '2', '0', '1'])
    expect(lines[3]!.split(/\s+/)).toEqual(['report', '1', '0', '0', '0', '0', '0'])
  })

  it('answers --json with the counts per queue', async () => {
    const { text, code } = await jobsCommand(['--data-dir', dataDir, '--json'])
    expect(code).toBe(0)
    expect(JSON.parse(text)).toEqual({
      schema: 'keel_jobs',
      queues: [
        { queue: 'mail', created: 0, retry: 0, active: 0, completed: 2, cancelled: 0, failed: 1 },
        { queue: 'report', created: 1, retry: 0, active: 0, completed: 0, cancelled: 0, failed: 0 },
      ],
    })
  })

  it('exits 1 naming the schema when the database has no jobs schema', async () => {
    const { text, code } = await jobsCommand(['--data-dir', dataDir, '--schema', 'other_jobs'])
    expect(code).toBe(1)
    expect(text).toContain('no jobs schema "other_jobs"')
  })

  it('exits 2 naming the flag for bad arguments, through main', async () => {
    const run = (args: string[]) => runKeel(['jobs', ...args])
    const both = await run(['--url', 'postgres://x@127.0.0.1/db', '--data-dir', dataDir])
    expect(both.code).toBe(2)
    expect(both.err).toContain('--url and --data-dir cannot be combined')
    const schema = await run(['--data-dir', dataDir, '--schema', 'Bad-Name'])
    expect(schema.code).toBe(2)
    expect(schema.err).toContain('--schema')
    const unknown = await run(['--nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toContain('--nope')
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    expect(help.out).toContain('keel jobs:')
  })
})
