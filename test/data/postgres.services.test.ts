import type { App } from 'keel/app'
import { type Db, database, openDb, openPostgresDb } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { testApp } from '../support/test-app.ts'
import { describeDbContract, rejection } from './db-contract.ts'

// Everything this run creates lives in its own schema, dropped at the end, so parallel runs on
// one server never see each other's tables or migration records.
const schemas = postgresSchemas('keel_test')
let schemaUrl: string
let schema: string
beforeAll(async () => {
  schemaUrl = await schemas.fresh('data')
  schema = new URL(schemaUrl).searchParams.get('search_path')!
})

describeDbContract('PostgreSQL', async () => {
  const db = await openDb({ url: schemaUrl, poolSize: 5 })
  expect(db.driver).toBe('postgres')
  return db
})

describe('PostgreSQL connection', () => {
  it('fails a URL nobody answers with KEEL_DB_CONNECT, and the message keeps the password out', async () => {
    const password = 's3cret-pa55word'
    const error = await rejection(openDb({ url: `postgres://keel:${password}@127.0.0.1:1/test` }))
    expect(isKeelError(error)).toBe(true)
    expect((error as KeelError).code).toBe('KEEL_DB_CONNECT')
    expect(error.message).toContain('127.0.0.1:1')
    expect(error.message).not.toContain(password)
  })

  it('prepares statements with parameters, and re-prepares one whose table changed under it', async () => {
    const db = await openPostgresDb({ url: schemaUrl, poolSize: 1 })
    try {
      await db.execute('create table prepared_notes (id int primary key, body text)')
      await db.query('insert into prepared_notes values ($1, $2)', [1, 'a'])
      const read = () => db.query('select * from prepared_notes where id = $1', [1])
      expect(await read()).toEqual([{ id: 1, body: 'a' }])
      const prepared = (on: Db) =>
        on.query<{ count: number }>(
          `select count(*)::int as count from pg_prepared_statements where statement like '%from prepared_notes where id%'`,
        )
      expect(await prepared(db)).toEqual([{ count: 1 }])
      // The cached plan's result type changes: postgres.js prepares the statement again.
      await db.execute('alter table prepared_notes add column done boolean default false')
      expect(await read()).toEqual([{ id: 1, body: 'a', done: false }])
    } finally {
      await db.close()
    }
    const unprepared = await openPostgresDb({ url: schemaUrl, poolSize: 1, prepare: false })
    try {
      expect(await unprepared.query('select body from prepared_notes where id = $1', [1])).toEqual([
        { body: 'a' },
      ])
      const [row] = await unprepared.query<{ count: number }>(
        `select count(*)::int as count from pg_prepared_statements where statement like '%from prepared_notes where id%'`,
      )
      expect(row).toEqual({ count: 0 })
    } finally {
      await unprepared.close()
    }
  })

  it('sends a timestamp string as written, microseconds included, and a Date as its instant', async () => {
    const db = await openPostgresDb({ url: schemaUrl, poolSize: 1 })
    try {
      const [row] = await db.query<{ text: string; date: Date }>(
        `select to_char($1::timestamptz at time zone 'UTC', 'HH24:MI:SS.US') as text, $2::timestamptz as date`,
        ['2026-01-02T03:04:05.123456Z', new Date('2026-01-02T03:04:05.678Z')],
      )
      expect(row).toEqual({ text: '03:04:05.123456', date: new Date('2026-01-02T03:04:05.678Z') })
    } finally {
      await db.close()
    }
  })

  it('cancels a statement that outlives statementTimeoutMs', async () => {
    const db = await openPostgresDb({ url: schemaUrl, statementTimeoutMs: 50, poolSize: 1 })
    try {
      const error = await rejection(db.query('select pg_sleep(2)'))
      expect(error.message).toMatch(/statement timeout/)
      expect(await db.query('select 1 as ok')).toEqual([{ ok: 1 }])
    } finally {
      await db.close()
    }
  })

  it('counts the pool connections it opens on demand, closes when idle, and ends on close', async () => {
    const db = await openPostgresDb({ url: schemaUrl, poolSize: 4, idleTimeoutSeconds: 1 })
    try {
      // Open checked the server with one statement, on one connection.
      expect(db.openConnections()).toBe(1)
      const sleepers = Array.from({ length: 6 }, () =>
        db.query<{ pid: number }>('select pg_backend_pid() as pid, pg_sleep(0.2)'),
      )
      const pids = new Set((await Promise.all(sleepers)).map(([row]) => row!.pid))
      // Six statements at once grew the pool to its size; the server saw as many backends.
      expect(pids.size).toBe(4)
      expect(db.openConnections()).toBe(4)
      const deadline = Date.now() + 5_000
      while (db.openConnections() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(db.openConnections()).toBe(0)
      // The next statement opens one again.
      await db.query('select 1')
      expect(db.openConnections()).toBe(1)
    } finally {
      await db.close()
    }
    expect(db.openConnections()).toBe(0)
  })
})

describe('database() on PostgreSQL', () => {
  let app: App | undefined
  afterAll(async () => {
    await app?.stop()
  })

  it('uses database.url, reports the postgres service and checks it in /ready', async () => {
    const data = database()
    app = testApp({ modules: [data], overrides: { database: { url: schemaUrl } } }).app
    const { url } = await app.start()
    expect(data.db.driver).toBe('postgres')
    expect(await data.db.query<{ schema: string }>('select current_schema() as schema')).toEqual([{ schema }])
    expect(app.describe().modules).toEqual([
      expect.objectContaining({ name: 'database', driver: 'postgres', services: ['postgres'] }),
    ])
    expect(app.describe().services).toContain('postgres')
    const ready = (await (await fetch(`${url}/ready`)).json()) as { checks: unknown[] }
    expect(ready.checks).toEqual([expect.objectContaining({ name: 'database', status: 'pass' })])
    const db = data.db
    await app.stop()
    await expect(db.query('select 1')).rejects.toThrow()
  })

  it('cancels a statement that outlives data.statementTimeoutMs from keel.yaml, and runs a shorter one', async () => {
    const data = database()
    const { app: timed } = testApp({
      yaml: 'data:\n  statementTimeoutMs: 1000\n',
      modules: [data],
      overrides: { database: { url: schemaUrl } },
    })
    await timed.start()
    try {
      expect(await data.db.query('show statement_timeout')).toEqual([{ statement_timeout: '1s' }])
      const error = await rejection(data.db.query('select pg_sleep(5)'))
      expect(error.message).toMatch(/canceling statement due to statement timeout/)
      expect(await data.db.query('select pg_sleep(0.1)::text as slept, 1 as ok')).toEqual([
        { slept: '', ok: 1 },
      ])
    } finally {
      await timed.stop()
    }
  })

  it('publishes the open connections, closing idle ones after data.poolIdleSeconds', async () => {
    const data = database()
    const { app: idle } = testApp({
      modules: [data],
      overrides: { database: { url: schemaUrl }, data: { poolSize: 3, poolIdleSeconds: 1 } },
    })
    const { url } = await idle.start()
    try {
      const connections = async () => {
        const samples = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
        return findSamples(samples, 'keel_db_pool_connections', { driver: 'postgres' }).map((s) => s.value)
      }
      await Promise.all([1, 2, 3].map(() => data.db.query('select pg_sleep(0.1)')))
      expect(await connections()).toEqual([3])
      const deadline = Date.now() + 5_000
      while (data.db.openConnections() > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50))
      expect(await connections()).toEqual([0])
    } finally {
      await idle.stop()
    }
  })
})
