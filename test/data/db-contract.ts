import { type Db, type Migration, migrate } from 'keel/data'
import { isKeelError, type KeelError } from 'keel/errors'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** A table or scope name no other test (or parallel run on the same database) uses. */
export const unique = (base: string) => `${base}_${Math.random().toString(36).slice(2, 10)}`

/** The error a promise rejects with, so a test can assert on its code and message. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    return error as Error
  }
  throw new Error('expected the promise to reject, but it resolved')
}

/**
 * What every {@link Db} driver must do the same way: the tests of each driver call this with a
 * way to open a handle. Every handle `open()` returns must reach the same database (two handles
 * race migrations on PostgreSQL). The tests share one handle and give their tables and migration
 * scopes unique names, so they never see each other's data, nor that of parallel runs.
 */
export function describeDbContract(name: string, open: () => Promise<Db>): void {
  describe(`Db contract: ${name}`, () => {
    let shared: Db | undefined
    const extra: Db[] = []
    beforeAll(async () => {
      shared = await open()
    })
    afterAll(async () => {
      await Promise.all([shared, ...extra.splice(0)].map((db) => db?.close()))
    })

    /** The suite's handle; `fresh` opens another one to the same database, closed after the suite. */
    async function opened(fresh = false): Promise<Db> {
      if (!fresh) return shared!
      const db = await open()
      extra.push(db)
      return db
    }

    /** A table of `(id int primary key, value text)` with a unique name. */
    async function itemsTable(db: Db): Promise<string> {
      const table = unique('items')
      await db.query(`create table ${table} (id int primary key, value text)`)
      return table
    }

    const tableExists = async (db: Db, table: string) => {
      const [row] = await db.query<{ found: string | null }>('select to_regclass($1)::text as found', [table])
      return row?.found !== null
    }

    it('returns typed rows: int4 and safe int8 as numbers, numeric as a string, booleans, Dates, parsed jsonb, null', async () => {
      const db = await opened()
      const table = unique('typed')
      await db.query(`create table ${table} (
        i4 int4, i8 int8, big int8, amount numeric(12, 2), flag boolean, at timestamptz,
        doc jsonb, list jsonb, note text)`)
      const at = new Date('2024-02-29T12:34:56.789Z')
      const doc = { name: 'Ada', nested: { tags: ['a', 'b'], count: 2, none: null }, ok: true }
      await db.query(`insert into ${table} values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
        42,
        Number.MAX_SAFE_INTEGER,
        2n ** 53n + 1n,
        '12.50',
        true,
        at,
        doc,
        [1, 'two', { three: 3 }],
        null,
      ])
      const rows = await db.query(`select * from ${table}`)
      expect(rows).toHaveLength(1)
      const row = rows[0]!
      expect({ ...row }).toEqual({
        i4: 42,
        i8: Number.MAX_SAFE_INTEGER,
        big: 2n ** 53n + 1n,
        amount: '12.50',
        flag: true,
        at,
        doc,
        list: [1, 'two', { three: 3 }],
        note: null,
      })
      expect(row.at).toBeInstanceOf(Date)
      expect(typeof row.i8).toBe('number')
      expect(typeof row.amount).toBe('string')
    })

    it('sends parameters apart from the SQL: a value that looks like SQL is stored verbatim', async () => {
      const db = await opened()
      const table = await itemsTable(db)
      const nasty = `'); drop table ${table}; --`
      await db.query(`insert into ${table} (id, value) values ($1, $2)`, [1, nasty])
      const rows = await db.query<{ value: string }>(`select value from ${table} where value = $1`, [nasty])
      expect(rows.map((r) => r.value)).toEqual([nasty])
      expect(await tableExists(db, table)).toBe(true)
    })

    it('commits a transaction and resolves with what its function returned', async () => {
      const db = await opened()
      const table = await itemsTable(db)
      const result = await db.transaction(async (tx) => {
        await tx.query(`insert into ${table} values (1, 'a'), (2, 'b')`)
        const [row] = await tx.query<{ n: number }>(`select count(*)::int as n from ${table}`)
        return row!.n
      })
      expect(result).toBe(2)
      expect(await db.query(`select id from ${table} order by id`)).toEqual([{ id: 1 }, { id: 2 }])
    })

    it('rolls a transaction back when its function throws, and rethrows that error', async () => {
      const db = await opened()
      const table = await itemsTable(db)
      const boom = new Error('changed my mind')
      const error = await rejection(
        db.transaction(async (tx) => {
          await tx.query(`insert into ${table} values (1, 'a')`)
          throw boom
        }),
      )
      expect(error).toBe(boom)
      expect(await db.query(`select * from ${table}`)).toEqual([])
    })

    it('rolls the whole transaction back when a statement in it fails', async () => {
      const db = await opened()
      const table = await itemsTable(db)
      const error = await rejection(
        db.transaction(async (tx) => {
          await tx.query(`insert into ${table} values (1, 'first')`)
          await tx.query(`insert into ${table} values (1, 'duplicate key')`)
        }),
      )
      expect(error.message).toMatch(/duplicate key/)
      expect(await db.query(`select * from ${table}`)).toEqual([])
      // The handle is still usable afterwards.
      await db.query(`insert into ${table} values (2, 'after')`)
      expect(await db.query(`select id from ${table}`)).toEqual([{ id: 2 }])
    })

    it('rolls back and rejects a transaction whose failed statement was caught inside it', async () => {
      const db = await opened()
      const table = await itemsTable(db)
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`insert into ${table} values (1, 'first')`)
          await tx.query(`insert into ${table} values (1, 'duplicate key')`).catch(() => {})
          return 'carried on'
        }),
      ).rejects.toThrow()
      expect(await db.query(`select * from ${table}`)).toEqual([])
    })

    it('execute runs a script of several statements', async () => {
      const db = await opened()
      const table = unique('script')
      await db.execute(`
        create table ${table} (id int primary key, value text);
        insert into ${table} values (1, 'one');
        insert into ${table} values (2, 'two; not a statement end');
      `)
      expect(await db.query(`select id, value from ${table} order by id`)).toEqual([
        { id: 1, value: 'one' },
        { id: 2, value: 'two; not a statement end' },
      ])
    })

    it('keeps concurrent transactions apart: 20 read-increment-write transactions give exactly 20', async () => {
      const db = await opened()
      const table = unique('counter')
      await db.execute(
        `create table ${table} (id int primary key, n int not null); insert into ${table} values (1, 0);`,
      )
      await Promise.all(
        Array.from({ length: 20 }, () =>
          db.transaction(async (tx) => {
            const [row] = await tx.query<{ n: number }>(`select n from ${table} where id = 1 for update`)
            await new Promise((resolve) => setTimeout(resolve, 1))
            await tx.query(`update ${table} set n = $1 where id = 1`, [row!.n + 1])
          }),
        ),
      )
      expect(await db.query(`select n from ${table}`)).toEqual([{ n: 20 }])
    })

    describe('migrate()', () => {
      const create = (table: string): Migration => ({
        id: '0001_create',
        up: `create table ${table} (id int primary key, value text);\ninsert into ${table} values (1, 'seed');`,
      })

      it('applies pending migrations once, in id order; a second call applies nothing', async () => {
        const db = await opened()
        const scope = unique('scope')
        const table = unique('migrated')
        const migrations: Migration[] = [
          { id: '0002_add_column', up: `alter table ${table} add column extra int default 7` },
          create(table),
        ]
        expect(await migrate(db, scope, migrations)).toEqual({
          applied: ['0001_create', '0002_add_column'],
          alreadyApplied: [],
        })
        expect(await migrate(db, scope, migrations)).toEqual({
          applied: [],
          alreadyApplied: ['0001_create', '0002_add_column'],
        })
        expect(await db.query(`select id, value, extra from ${table}`)).toEqual([
          { id: 1, value: 'seed', extra: 7 },
        ])
        const recorded = await db.query('select id from keel_migrations where scope = $1 order by id', [
          scope,
        ])
        expect(recorded).toEqual([{ id: '0001_create' }, { id: '0002_add_column' }])
      })

      it('refuses a migration edited after it ran with KEEL_MIGRATION_CHECKSUM, naming scope and id', async () => {
        const db = await opened()
        const scope = unique('scope')
        const table = unique('migrated')
        await migrate(db, scope, [create(table)])
        const edited = { ...create(table), up: `${create(table).up}\ninsert into ${table} values (2, 'x');` }
        const error = await rejection(migrate(db, scope, [edited]))
        expect(isKeelError(error)).toBe(true)
        expect((error as KeelError).code).toBe('KEEL_MIGRATION_CHECKSUM')
        expect(error.message).toContain(`${scope}/0001_create`)
        expect(await db.query(`select id from ${table}`)).toEqual([{ id: 1 }])
      })

      it('fails a broken migration with KEEL_MIGRATION_FAILED and keeps nothing of it', async () => {
        const db = await opened()
        const scope = unique('scope')
        const table = unique('half')
        const broken: Migration = {
          id: '0001_broken',
          up: `create table ${table} (id int);\ninsert into ${table} values (1);\nselect no_such_column from ${table};`,
        }
        const error = await rejection(migrate(db, scope, [broken]))
        expect(isKeelError(error)).toBe(true)
        expect((error as KeelError).code).toBe('KEEL_MIGRATION_FAILED')
        expect(error.message).toContain(`${scope}/0001_broken`)
        expect(error.message).toContain('no_such_column')
        expect(await tableExists(db, table)).toBe(false)
        // Not recorded either: once fixed, the same id applies (no checksum complaint).
        const fixed = { ...broken, up: `create table ${table} (id int);\ninsert into ${table} values (1);` }
        expect(await migrate(db, scope, [fixed])).toEqual({ applied: ['0001_broken'], alreadyApplied: [] })
        expect(await db.query(`select id from ${table}`)).toEqual([{ id: 1 }])
      })

      it('applies each migration exactly once when two migrate() calls race', async () => {
        const first = await opened()
        // Two connections to one server race through the advisory lock; PGlite has one
        // connection, so there the race is two calls on the same handle.
        const second = first.driver === 'postgres' ? await opened(true) : first
        const scope = unique('scope')
        const table = unique('raced')
        // Not idempotent: a second application would fail on `create table` or double the insert.
        const migrations = [create(table), { id: '0002_more', up: `insert into ${table} values (2, 'more')` }]
        const results = await Promise.all([
          migrate(first, scope, migrations),
          migrate(second, scope, migrations),
        ])
        const applied = results.map((r) => r.applied).sort((a, b) => b.length - a.length)
        expect(applied).toEqual([['0001_create', '0002_more'], []])
        expect(await first.query(`select id from ${table} order by id`)).toEqual([{ id: 1 }, { id: 2 }])
      })
    })

    it('rejects queries, transactions and scripts once closed; closing twice is fine', async () => {
      const db = await opened(true)
      await db.query('select 1')
      await db.close()
      await db.close()
      await expect(db.query('select 1')).rejects.toThrow()
      await expect(db.transaction((tx) => tx.query('select 1'))).rejects.toThrow()
      await expect(db.execute('select 1')).rejects.toThrow()
    })
  })
}
