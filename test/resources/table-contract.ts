import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Db, migrate, rollback } from 'keel/data'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTableSql, parseResource, type ResourceDefinition } from '../../src/resources/index.ts'

function fixture(name: string): ResourceDefinition {
  const file = join(import.meta.dirname, 'fixtures/valid', `${name}.yaml`)
  const result = parseResource(readFileSync(file, 'utf8'), file)
  if (!result.ok) throw new Error(JSON.stringify(result.issues))
  return result.definition
}

/** The message a statement fails with, so a test can name the constraint that refused it. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    return (error as Error).message
  }
  throw new Error('expected the statement to fail, but it succeeded')
}

/**
 * What the generated tables must do on every database: apply as migrations (split the way
 * migration files are), fill generated and default values, and refuse rows that break an enum,
 * a length, a range, a unique field or a reference. The PGlite and PostgreSQL tests call this.
 */
export function describeTableContract(name: string, open: () => Promise<Db>): void {
  describe(`generated tables on ${name}`, () => {
    let db: Db
    const users = fixture('users')
    const todos = fixture('todos')
    const migrations = [users, todos].map((resource, index) => ({
      id: `000${index + 1}_create_${resource.name}`,
      ...createTableSql(resource),
    }))
    let ann: string
    const org = '7d0a8c47-5d8c-4d6b-9a55-0c8f3f0d3e11'
    beforeAll(async () => {
      db = await open()
      expect(await migrate(db, 'app', migrations)).toEqual({
        applied: ['0001_create_users', '0002_create_todos'],
        alreadyApplied: [],
      })
      const [row] = await db.query<{ id: string }>(
        `insert into users (email, name) values ('ann@example.com', 'Ann') returning id`,
      )
      ann = row!.id
    })
    afterAll(async () => {
      await db?.close()
    })

    const insertTodo = (columns: Record<string, unknown>) => {
      const values = { title: 'Write docs', owner_id: ann, org_id: org, ...columns }
      const names = Object.keys(values)
      return db.query<Record<string, unknown>>(
        `insert into todos (${names.join(', ')}) values (${names.map((_, i) => `$${i + 1}`).join(', ')}) returning *`,
        Object.values(values),
      )
    }

    it('fills generated uuids and timestamps, defaults, and leaves deleted_at null', async () => {
      const [todo] = await insertTodo({})
      expect(todo).toMatchObject({
        done: false,
        priority: 'normal',
        due: null,
        deleted_at: null,
        owner_id: ann,
      })
      expect(todo!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      expect(todo!.created_at).toBeInstanceOf(Date)
      const [user] = await db.query('select role, score, visits, profile, born from users where id = $1', [
        ann,
      ])
      expect(user).toMatchObject({ role: 'member', score: 0.5, visits: 0, profile: { theme: 'light' } })
    })

    it('refuses a value outside the enum', async () => {
      expect(await failure(insertTodo({ priority: 'urgent' }))).toMatch(/todos_priority_check/)
    })

    it('refuses a string below min or above max length', async () => {
      expect(await failure(insertTodo({ title: '' }))).toMatch(/todos_title_check/)
      expect(await failure(insertTodo({ title: 'x'.repeat(201) }))).toMatch(/too long/)
      const tooLong = db.query(`insert into users (email, name) values ('bob@example.com', $1)`, [
        'x'.repeat(101),
      ])
      expect(await failure(tooLong)).toMatch(/users_name_check/)
    })

    it('refuses a number outside min/max', async () => {
      const old = db.query(`insert into users (email, name, age) values ('old@example.com', 'Old', 151)`)
      expect(await failure(old)).toMatch(/users_age_check/)
    })

    it('refuses a duplicate of a unique field', async () => {
      await insertTodo({ email: 'one@example.com' })
      expect(await failure(insertTodo({ email: 'one@example.com' }))).toMatch(/todos_email_key/)
    })

    it('refuses a reference to a row that does not exist, and deleting a referenced row', async () => {
      expect(await failure(insertTodo({ owner_id: '00000000-0000-4000-8000-000000000000' }))).toMatch(
        /todos_owner_id_fkey/,
      )
      expect(await failure(db.query('delete from users where id = $1', [ann]))).toMatch(/todos_owner_id_fkey/)
    })

    it('refuses null in a required column', async () => {
      expect(await failure(insertTodo({ title: null }))).toMatch(/null value in column "title"/)
    })

    it('creates the declared indexes', async () => {
      const rows = await db.query<{ indexname: string }>(
        `select indexname from pg_indexes where tablename = 'todos' order by indexname`,
      )
      expect(rows.map((row) => row.indexname)).toEqual([
        'todos_email_key',
        'todos_org_id_done_idx',
        'todos_pkey',
      ])
    })

    it('rolls back with the down part, dropping the tables', async () => {
      expect(await rollback(db, 'app', migrations, { steps: 2 })).toEqual({
        rolledBack: ['0002_create_todos', '0001_create_users'],
      })
      const [found] = await db.query<{ name: string | null }>(`select to_regclass('todos')::text as name`)
      expect(found?.name).toBeNull()
    })
  })
}
