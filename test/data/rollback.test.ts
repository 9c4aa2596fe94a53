import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { App } from 'keel/app'
import {
  type Db,
  database,
  type Migration,
  migrate,
  migrationStatus,
  openPgliteDb,
  rollback,
} from 'keel/data'
import { isKeelError } from 'keel/errors'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

// One embedded database for the file; each test works in its own scope and tables.
let db: Db
beforeAll(async () => {
  db = await openPgliteDb()
})
afterAll(async () => {
  await db?.close()
})

const tables = async (prefix: string) =>
  (
    await db.query<{ name: string }>(
      `select table_name as name from information_schema.tables where table_name like $1 order by 1`,
      [`${prefix}%`],
    )
  ).map((row) => row.name)

const recorded = async (scope: string) =>
  (
    await db.query<{ id: string }>('select id from keel_migrations where scope = $1 order by id', [scope])
  ).map((row) => row.id)

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isKeelError(error)) throw new Error(`expected a KeelError, got ${error}`)
  return { code: error.code, message: error.message }
}

const createTable = (id: string, table: string, source?: string): Migration => ({
  id,
  up: `create table ${table} (id int primary key);`,
  down: `drop table ${table};`,
  ...(source ? { source } : {}),
})

describe('migrationStatus', () => {
  it('reports every migration pending before keel_migrations exists, creating nothing', async () => {
    expect(await migrationStatus(db, 'st0', [createTable('0001_a', 'st0_a')])).toEqual([
      { id: '0001_a', state: 'pending', appliedAt: null },
    ])
    expect(await db.query(`select to_regclass('keel_migrations')::text as name`)).toEqual([{ name: null }])
  })

  it('tells applied, pending, checksum-mismatch (an edited file) and missing-file apart', async () => {
    const files = [
      createTable('0001_a', 'st1_a'),
      createTable('0002_b', 'st1_b'),
      createTable('0003_c', 'st1_c', 'migrations/0003_c.sql'),
    ]
    await migrate(db, 'st1', files)
    const edited = { ...files[1]!, up: 'create table st1_b (id bigint primary key);' }
    const now = [files[0]!, edited, createTable('0004_d', 'st1_d', 'migrations/0004_d.sql')]

    const statuses = await migrationStatus(db, 'st1', now)
    expect(statuses).toEqual([
      { id: '0001_a', state: 'applied', appliedAt: expect.any(Date) },
      { id: '0002_b', state: 'checksum-mismatch', appliedAt: expect.any(Date) },
      { id: '0003_c', state: 'missing-file', appliedAt: expect.any(Date) },
      { id: '0004_d', state: 'pending', appliedAt: null, source: 'migrations/0004_d.sql' },
    ])
    expect(Date.now() - statuses[0]!.appliedAt!.getTime()).toBeLessThan(60_000)
  })
})

describe('rollback', () => {
  it('undoes the last applied migration by default and more with steps, newest first, removing their records', async () => {
    const files: Migration[] = [
      createTable('0001_a', 'rb1_a'),
      {
        id: '0002_touch',
        up: [
          'create table rb1_t (id int primary key, email text);',
          'create function rb1_lower() returns trigger language plpgsql as $$',
          'begin',
          '  new.email := lower(new.email);',
          '  return new;',
          'end;',
          '$$;',
          'create trigger rb1_lower before insert on rb1_t for each row execute function rb1_lower();',
        ].join('\n'),
        down: 'drop table rb1_t;\ndrop function rb1_lower();',
      },
      createTable('0003_c', 'rb1_c'),
    ]
    await migrate(db, 'rb1', files)
    await db.query(`insert into rb1_t values (1, 'Ada@Example.org')`)
    expect(await db.query('select email from rb1_t')).toEqual([{ email: 'ada@example.org' }])

    expect(await rollback(db, 'rb1', files)).toEqual({ rolledBack: ['0003_c'] })
    expect(await tables('rb1_')).toEqual(['rb1_a', 'rb1_t'])
    expect(await recorded('rb1')).toEqual(['0001_a', '0002_touch'])

    expect(await rollback(db, 'rb1', files, { steps: 5 })).toEqual({ rolledBack: ['0002_touch', '0001_a'] })
    expect(await tables('rb1_')).toEqual([])
    expect(await recorded('rb1')).toEqual([])
    expect(await rollback(db, 'rb1', files)).toEqual({ rolledBack: [] })

    // What was rolled back applies again.
    expect((await migrate(db, 'rb1', files)).applied).toEqual(['0001_a', '0002_touch', '0003_c'])
  })

  it('rolls back nothing when one migration to undo has no down, naming it', async () => {
    const files = [
      createTable('0001_a', 'rb2_a', 'migrations/0001_a.sql'),
      { id: '0002_b', up: 'create table rb2_b (id int);', source: 'migrations/0002_b.sql' },
      createTable('0003_c', 'rb2_c'),
    ]
    await migrate(db, 'rb2', files)
    expect(await failure(rollback(db, 'rb2', files, { steps: 3 }))).toEqual({
      code: 'KEEL_MIGRATION_FAILED',
      message:
        'cannot roll back migration rb2/0002_b (migrations/0002_b.sql): it has no down part; nothing was rolled back',
    })
    expect(await tables('rb2_')).toEqual(['rb2_a', 'rb2_b', 'rb2_c'])
    expect(await recorded('rb2')).toEqual(['0001_a', '0002_b', '0003_c'])
  })

  it('rolls back nothing when a down fails, naming the migration and the database error', async () => {
    const files = [
      createTable('0001_a', 'rb3_a'),
      { id: '0002_b', up: 'create table rb3_b (id int);', down: 'drop table rb3_nope;' },
    ]
    await migrate(db, 'rb3', files)
    const { code, message } = await failure(
      rollback(db, 'rb3', [{ ...files[0]!, down: 'drop table rb3_a;' }, files[1]!], { steps: 2 }),
    )
    expect(code).toBe('KEEL_MIGRATION_FAILED')
    expect(message).toMatch(
      /^rolling back migration rb3\/0002_b failed: .*rb3_nope.*; nothing was rolled back$/,
    )
    expect(await recorded('rb3')).toEqual(['0001_a', '0002_b'])
  })

  it('refuses to roll back a migration edited after it ran, or one whose file is gone', async () => {
    const files = [createTable('0001_a', 'rb4_a'), createTable('0002_b', 'rb4_b', 'migrations/0002_b.sql')]
    await migrate(db, 'rb4', files)
    const edited = [files[0]!, { ...files[1]!, up: 'create table rb4_b (id text primary key);' }]
    expect(await failure(rollback(db, 'rb4', edited))).toEqual({
      code: 'KEEL_MIGRATION_CHECKSUM',
      message:
        'cannot roll back migration rb4/0002_b (migrations/0002_b.sql): it was edited after it was applied, so its down may not undo what ran; nothing was rolled back',
    })
    expect(await failure(rollback(db, 'rb4', [files[0]!]))).toEqual({
      code: 'KEEL_MIGRATION_FAILED',
      message:
        'cannot roll back migration rb4/0002_b: it was applied but its file is missing; nothing was rolled back',
    })
    expect(await recorded('rb4')).toEqual(['0001_a', '0002_b'])
  })

  it('rejects steps that are not a positive integer', async () => {
    await expect(rollback(db, 'rb5', [], { steps: 0 })).rejects.toThrow(RangeError)
  })
})

// database() applies migration files on start; tested here as it shares the migration runner.
describe('database() with migration files', () => {
  const apps: App[] = []
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.stop().catch(() => {})))
  })

  function appWith(files: Record<string, string>, profile: string, yaml?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'keel-module-migrations-'))
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
    const data = database({ migrations: dir })
    // prod waits 5 s for load balancers on stop; nothing routes here.
    const overrides = { shutdown: { drainDelayMs: 0 } }
    const { app } = testApp({ modules: [data], profile, overrides, ...(yaml ? { yaml } : {}) })
    apps.push(app)
    return { app, data }
  }

  const notes = { '0001_notes.sql': '-- migrate:up\ncreate table notes (id int);\n' }

  it('applies them on start in the test profile, and not in prod unless data.migrateOnStart says so', async () => {
    const inTest = appWith(notes, 'test')
    const inProd = appWith(notes, 'prod')
    const opted = appWith(notes, 'prod', 'data:\n  migrateOnStart: true\n')
    await Promise.all([inTest.app.start(), inProd.app.start(), opted.app.start()])
    expect(await inTest.data.db.query('select id from keel_migrations')).toEqual([{ id: '0001_notes' }])
    expect(await inProd.data.db.query(`select to_regclass('notes')::text as name`)).toEqual([{ name: null }])
    expect(await opted.data.db.query('select id from keel_migrations')).toEqual([{ id: '0001_notes' }])
  })

  it('finds migrations/ in the service root createApp was given, not in the working directory', async () => {
    const root = mkdtempSync(join(tmpdir(), 'keel-module-root-'))
    mkdirSync(join(root, 'migrations'))
    writeFileSync(join(root, 'migrations', '0001_notes.sql'), notes['0001_notes.sql'])
    const data = database()
    const { app } = testApp({ root, modules: [data], profile: 'test' })
    apps.push(app)
    await app.start()
    expect(await data.db.query('select id from keel_migrations')).toEqual([{ id: '0001_notes' }])
  })

  it('fails start with the migration error, naming the file', async () => {
    const { app } = appWith({ '0001_bad.sql': '-- migrate:up\ncreate tabel oops (id int);\n' }, 'dev')
    await expect(app.start()).rejects.toThrow(/0001_bad\.sql/)
  })
})
