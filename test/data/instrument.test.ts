import { type Db, instrumentDb, openDb } from 'keel/data'
import { createLogger } from 'keel/log'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { operationOf, statementText } from '../../src/data/instrument.ts'
import { LogCapture } from '../support/log-capture.ts'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { rejection, unique } from './db-contract.ts'

// One embedded database for the file: opening PGlite is the slow part; every test has its tables.
let raw: Db
beforeAll(async () => {
  raw = await openDb()
})
afterAll(async () => {
  await raw.close()
})

const samplesOf = async (registry: Registry) => parsePrometheusText(await registry.metrics())
const value = async (registry: Registry, name: string, labels: Record<string, string>) =>
  findSamples(await samplesOf(registry), name, labels).reduce((sum, s) => sum + s.value, 0)

function jsonLogger() {
  const logs = new LogCapture()
  const logger = createLogger({ level: 'info', format: 'json', destination: 'stdout', stream: logs })
  return { logs, logger: logger.module('keel:data') }
}

describe('instrumentDb metrics', () => {
  it('counts statements by driver, operation and outcome, and times them', async () => {
    const registry = new Registry()
    const db = instrumentDb(raw, { registry })
    const table = unique('metered')
    await db.query(`create table ${table} (id int primary key, value text)`)
    await db.query(`insert into ${table} values ($1, $2)`, [1, 'a'])
    await db.query(`  -- a comment first\n  UPDATE ${table} set value = $1`, ['b'])
    await db.query(`select * from ${table}`)
    await db.query(`(select id from ${table})`)
    await db.query(`delete from ${table} where id = $1`, [1])
    await rejection(db.query(`select no_such_column from ${table}`))

    const samples = await samplesOf(registry)
    const total = (operation: string, outcome: string) =>
      findSamples(samples, 'keel_db_queries_total', { driver: 'pglite', operation, outcome })[0]?.value
    expect(total('other', 'ok')).toBe(1)
    expect(total('insert', 'ok')).toBe(1)
    expect(total('update', 'ok')).toBe(1)
    expect(total('select', 'ok')).toBe(2)
    expect(total('select', 'error')).toBe(1)
    expect(total('delete', 'ok')).toBe(1)
    // Every series exists from the start at 0, so a rate over it has a baseline.
    expect(total('insert', 'error')).toBe(0)
    const count = (operation: string) =>
      findSamples(samples, 'keel_db_query_duration_seconds_count', { driver: 'pglite', operation })[0]?.value
    expect([count('select'), count('insert'), count('update'), count('delete'), count('other')]).toEqual([
      3, 1, 1, 1, 1,
    ])
    expect(findSamples(samples, 'keel_db_queries_in_flight', { driver: 'pglite' })[0]?.value).toBe(0)
  })

  it('records statements inside transactions, and transactions by commit or rollback', async () => {
    const registry = new Registry()
    const db = instrumentDb(raw, { registry })
    const table = unique('tx')
    await db.execute(`create table ${table} (id int primary key)`)
    await db.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1)`)
      await tx.query(`insert into ${table} values (2)`)
    })
    await rejection(
      db.transaction(async (tx) => {
        await tx.query(`insert into ${table} values (3)`)
        await tx.query(`insert into ${table} values (3)`)
      }),
    )
    expect(await value(registry, 'keel_db_transactions_total', { outcome: 'commit' })).toBe(1)
    expect(await value(registry, 'keel_db_transactions_total', { outcome: 'rollback' })).toBe(1)
    expect(await value(registry, 'keel_db_queries_total', { operation: 'insert', outcome: 'ok' })).toBe(3)
    expect(await value(registry, 'keel_db_queries_total', { operation: 'insert', outcome: 'error' })).toBe(1)
    // execute() scripts count too, under their first keyword.
    expect(await value(registry, 'keel_db_queries_total', { operation: 'other', outcome: 'ok' })).toBe(1)
  })

  it('counts a statement in flight until it finishes', async () => {
    const registry = new Registry()
    const db = instrumentDb(raw, { registry })
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    // PGlite has one connection: a query issued while a transaction is open waits for it.
    const transaction = db.transaction(() => gate)
    const waiting = db.query('select 1')
    const inFlight = () => value(registry, 'keel_db_queries_in_flight', { driver: 'pglite' })
    expect(await inFlight()).toBe(1)
    release()
    await Promise.all([transaction, waiting])
    expect(await inFlight()).toBe(0)
  })

  it('shares one set of metrics between Dbs on the same registry instead of clashing', async () => {
    const registry = new Registry()
    const first = instrumentDb(raw, { registry })
    const second = instrumentDb(raw, { registry })
    await first.query('select 1')
    await second.query('select 2')
    expect(await value(registry, 'keel_db_queries_total', { operation: 'select', outcome: 'ok' })).toBe(2)
    const other = new Registry()
    await instrumentDb(raw, { registry: other }).query('select 3')
    expect(await value(other, 'keel_db_queries_total', { operation: 'select' })).toBe(1)
    expect(await value(registry, 'keel_db_queries_total', { operation: 'select' })).toBe(2)
  })

  it('reads the open connections of every pool at scrape time, and stops reading a closed one', async () => {
    const registry = new Registry()
    const connections = () => value(registry, 'keel_db_pool_connections', { driver: 'pglite' })
    let open = 3
    // The shared database must stay open for the other tests: its stand-ins only pretend to close.
    const first = instrumentDb({ ...raw, openConnections: () => open, close: async () => {} }, { registry })
    const second = instrumentDb({ ...raw, close: async () => {} }, { registry })
    expect(first.openConnections()).toBe(3)
    expect(await connections()).toBe(3 + 1)
    open = 5
    expect(await connections()).toBe(5 + 1)
    await first.close()
    expect(await connections()).toBe(1)
    await second.close()
    expect(await connections()).toBe(0)
    // PGlite itself reports its one connection while open.
    expect(raw.openConnections()).toBe(1)
  })

  it('passes rows, errors and transaction results through unchanged', async () => {
    const db = instrumentDb(raw, {})
    expect(db.driver).toBe('pglite')
    expect(await db.query<{ n: number }>('select $1::int as n', [7])).toEqual([{ n: 7 }])
    expect(await db.transaction(async (tx) => (await tx.query<{ n: number }>('select 8 as n'))[0]?.n)).toBe(8)
    const error = await rejection(db.query('select 1/0'))
    expect(error.message).toMatch(/division by zero/)
  })
})

describe('instrumentDb slow-query log', () => {
  it('logs a slow statement at warn with its SQL text and duration, never its parameters', async () => {
    const { logs, logger } = jsonLogger()
    const db = instrumentDb(raw, { logger, slowQueryMs: 10 })
    const secret = 'hunter2-card-4111111111111111'
    await db.query('select pg_sleep(0.05),\n       $1::text   as   card', [secret])
    await db.transaction((tx) => tx.query('select pg_sleep(0.05), $1::text as inside', [secret]))
    const slow = logs.records.filter((r) => r.msg === 'slow query')
    expect(slow).toEqual([
      expect.objectContaining({
        level: 'warn',
        module: 'keel:data',
        statement: 'select pg_sleep(0.05), $1::text as card',
        duration_ms: expect.any(Number),
      }),
      expect.objectContaining({ statement: 'select pg_sleep(0.05), $1::text as inside' }),
    ])
    expect(slow[0]!.duration_ms as number).toBeGreaterThan(10)
    expect(logs.text).not.toContain(secret)
  })

  it('marks a slow statement that started with every connection busy as queued', async () => {
    const { logs, logger } = jsonLogger()
    // PGlite has one connection, as poolMax says: a second statement waits for the first.
    const db = instrumentDb(raw, { logger, slowQueryMs: 30, poolMax: 1 })
    await Promise.all([db.query('select pg_sleep(0.05), 1 as first'), db.query('select 2 as second')])
    // A transaction holds the connection: a statement outside it waits, the ones inside do not.
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const transaction = db.transaction(async (tx) => {
      await gate
      await tx.query('select pg_sleep(0.05), 3 as inside')
    })
    const outside = db.query('select 4 as outside')
    setTimeout(release, 20)
    await Promise.all([transaction, outside])
    const slow = logs.records.filter((r) => r.msg === 'slow query')
    const byStatement = Object.fromEntries(slow.map((r) => [String(r.statement), r.queued]))
    expect(byStatement).toEqual({
      'select pg_sleep(0.05), 1 as first': undefined,
      'select 2 as second': true,
      'select pg_sleep(0.05), 3 as inside': undefined,
      'select 4 as outside': true,
    })
  })

  it('names a statement by its opening name comment, in the /* */ form or sqlc -- form', async () => {
    const { logs, logger } = jsonLogger()
    const db = instrumentDb(raw, { logger, slowQueryMs: 10 })
    await db.query('/* name: todos.list */ select pg_sleep(0.05), $1::text as a', ['x'])
    await db.query('-- name: ListTodos :many\nselect   pg_sleep(0.05)')
    await db.query('/* not a name */ select pg_sleep(0.05)')
    await db.query('select pg_sleep(0.05) /* name: late */')
    const slow = logs.records.filter((r) => r.msg === 'slow query')
    expect(slow.map((r) => [r.name, r.statement])).toEqual([
      ['todos.list', 'select pg_sleep(0.05), $1::text as a'],
      ['ListTodos', 'select pg_sleep(0.05)'],
      [undefined, '/* not a name */ select pg_sleep(0.05)'],
      [undefined, 'select pg_sleep(0.05) /* name: late */'],
    ])
  })

  it('cuts a long statement at 200 characters', async () => {
    const { logs, logger } = jsonLogger()
    const db = instrumentDb(raw, { logger, slowQueryMs: 10 })
    const columns = Array.from({ length: 60 }, (_, i) => `${i} as column_${i}`).join(',\n  ')
    await db.query(`select pg_sleep(0.05),\n  ${columns}`)
    const statements = logs.records.filter((r) => r.msg === 'slow query').map((r) => String(r.statement))
    expect(statements).toEqual([statementText(`select pg_sleep(0.05),\n  ${columns}`)])
    expect(statements[0]).toHaveLength(200)
    expect(statements[0]).toMatch(/^select pg_sleep\(0\.05\), 0 as column_0, 1 as column_1, /)
  })

  it('logs nothing when slowQueryMs is 0, or for statements under the threshold', async () => {
    const { logs, logger } = jsonLogger()
    await instrumentDb(raw, { logger, slowQueryMs: 0 }).query('select pg_sleep(0.05)')
    await instrumentDb(raw, { logger, slowQueryMs: 60_000 }).query('select 1')
    expect(logs.lines).toEqual([])
  })
})

describe('operationOf', () => {
  it.each([
    ['select 1', 'select'],
    ['SELECT 1', 'select'],
    ['\n  insert into t values (1)', 'insert'],
    ['-- why\n/* how */ Update t set a = 1', 'update'],
    ['delete from t', 'delete'],
    ['(select 1) union (select 2)', 'select'],
    ['select', 'select'],
    ['selection', 'other'],
    ['select_x()', 'other'],
    ['with x as (select 1) select * from x', 'other'],
    ['create table t (a int)', 'other'],
    ['', 'other'],
    ['-- only a comment', 'other'],
  ])('%j is %s', (sql, operation) => {
    expect(operationOf(sql)).toBe(operation)
  })
})
