import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import { database, dataSection } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import { afterEach, describe, expect, it } from 'vitest'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { testApp } from '../support/test-app.ts'

const running: App[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

async function started(app: App): Promise<string> {
  running.push(app)
  const { url } = await app.start()
  return url
}

describe('database()', () => {
  it('opens embedded PGlite on start, checks it in /ready, measures its queries and closes it on stop', async () => {
    const data = database()
    const { app } = testApp({ modules: [data] })
    const url = await started(app)

    const ready = await fetch(`${url}/ready`)
    expect(ready.status).toBe(200)
    const body = (await ready.json()) as { checks: unknown[] }
    expect(body.checks).toEqual([
      expect.objectContaining({ name: 'database', status: 'pass', critical: true }),
    ])

    expect(data.db.driver).toBe('pglite')
    await data.db.execute('create table notes (id int primary key, body text)')
    await data.db.query('insert into notes values ($1, $2)', [1, 'hello'])
    expect(await data.db.query('select id, body from notes')).toEqual([{ id: 1, body: 'hello' }])

    const samples = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
    const inserts = findSamples(samples, 'keel_db_queries_total', {
      driver: 'pglite',
      operation: 'insert',
      outcome: 'ok',
    })
    expect(inserts.map((s) => s.value)).toEqual([1])
    // One connection: PGlite serves one statement at a time.
    expect(findSamples(samples, 'keel_db_pool_max', { driver: 'pglite' }).map((s) => s.value)).toEqual([1])
    expect(
      findSamples(samples, 'keel_db_pool_connections', { driver: 'pglite' }).map((s) => s.value),
    ).toEqual([1])

    // No server in use today, but replicas of this app need PostgreSQL.
    expect(app.describe().modules).toEqual([
      expect.objectContaining({ name: 'database', driver: 'pglite', services: [], stores: ['postgres'] }),
    ])
    expect(app.describe().healthChecks).toEqual([{ name: 'database', critical: true }])

    const db = data.db
    await app.stop()
    await expect(db.query('select 1')).rejects.toThrow()
  })

  it('throws KEEL_APP_STATE when db is read before the app started', () => {
    const data = database()
    testApp({ modules: [data] })
    let error: unknown
    try {
      void data.db
    } catch (caught) {
      error = caught
    }
    expect(isKeelError(error)).toBe(true)
    expect((error as KeelError).code).toBe('KEEL_APP_STATE')
    expect((error as Error).message).toMatch(/database opens when the app starts/)
  })

  it('declares the data section with its defaults, and refuses a bad value naming the key', () => {
    const data = database()
    const { app } = testApp({ modules: [data] })
    expect(app.section(dataSection)).toEqual({
      poolSize: 10,
      poolIdleSeconds: 30,
      statementTimeoutMs: 0,
      prepareStatements: true,
      slowQueryMs: 500,
    })
    expect(() => testApp({ yaml: 'data:\n  poolSize: 0\n', modules: [database()] })).toThrow(
      /keel\.yaml:2 data\.poolSize/,
    )
    expect(() => testApp({ yaml: 'data:\n  poolIdleSeconds: -1\n', modules: [database()] })).toThrow(
      /keel\.yaml:2 data\.poolIdleSeconds/,
    )
  })

  it('keeps data in data.dataDir across app restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keel-data-'))
    dirs.push(dataDir)
    const yaml = `data:\n  dataDir: ${JSON.stringify(dataDir)}\n`
    const first = database()
    const one = testApp({ yaml, modules: [first] }).app
    await started(one)
    await first.db.execute("create table kept (v text); insert into kept values ('still here');")
    await one.stop()

    const second = database()
    await started(testApp({ yaml, modules: [second] }).app)
    expect(await second.db.query('select v from kept')).toEqual([{ v: 'still here' }])
  }, 60_000)

  it('logs slow statements from keel:data at the configured threshold', async () => {
    const data = database()
    const { app, logs } = testApp({ yaml: 'data:\n  slowQueryMs: 10\n', modules: [data] })
    await started(app)
    await data.db.query('select pg_sleep(0.05), $1::text as token', ['not-for-logs'])
    const slow = logs.records.filter((r) => r.msg === 'slow query')
    expect(slow).toEqual([
      expect.objectContaining({
        level: 'warn',
        module: 'keel:data',
        statement: 'select pg_sleep(0.05), $1::text as token',
      }),
    ])
    expect(logs.text).not.toContain('not-for-logs')
  })
})
