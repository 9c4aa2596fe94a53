import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { migrate, openPgliteDb, readMigrationFiles } from 'keel/data'
import { afterAll, describe, expect, it } from 'vitest'
import { createTableSql, loadResources } from '../../src/resources/index.ts'
import { runKeel } from '../support/cli.ts'

const fixtures = resolve(import.meta.dirname, '../resources/fixtures')

async function keel(...args: string[]) {
  return runKeel(args)
}

const temporary: string[] = []
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true })
})

/** A project with the valid resources and no migrations directory yet. */
function project(resources = 'valid'): {
  root: string
  generate: (...args: string[]) => ReturnType<typeof keel>
} {
  const root = mkdtempSync(join(tmpdir(), 'keel-generate-'))
  temporary.push(root)
  cpSync(join(fixtures, resources), join(root, 'resources'), { recursive: true })
  return {
    root,
    generate: (...args) =>
      keel(
        'migrate',
        'generate',
        ...args,
        '--dir',
        join(root, 'resources'),
        '--migrations',
        join(root, 'migrations'),
      ),
  }
}

describe('keel migrate generate', () => {
  it('writes numbered create-table migrations that migration files read and that apply', async () => {
    const { root, generate } = project()
    const users = await generate('users')
    expect(users).toEqual({
      code: 0,
      out: `wrote ${join(root, 'migrations/0001_create_users.sql')} (apply it with keel migrate)\n`,
      err: '',
    })
    expect((await generate('todos')).out).toContain('migrations/0002_create_todos.sql')

    const text = readFileSync(join(root, 'migrations/0002_create_todos.sql'), 'utf8')
    expect(text.split('\n').slice(0, 3)).toEqual([
      `-- Created by keel migrate generate from ${join(root, 'resources/todos.yaml')} (resource todos, version 1).`,
      '-- migrate:up',
      'create table "todos" (',
    ])
    const todos = (await loadResources(join(root, 'resources'))).find(
      (resource) => resource.name === 'todos',
    )!
    const migrations = await readMigrationFiles(join(root, 'migrations'))
    expect(migrations.map((m) => m.id)).toEqual(['0001_create_users', '0002_create_todos'])
    expect(migrations[1]).toMatchObject(createTableSql(todos))

    const db = await openPgliteDb()
    try {
      expect((await migrate(db, 'app', migrations)).applied).toEqual([
        '0001_create_users',
        '0002_create_todos',
      ])
      const columns = await db.query<{ column_name: string }>(
        `select column_name from information_schema.columns where table_name = 'todos' order by ordinal_position`,
      )
      expect(columns.map((c) => c.column_name)).toContain('deleted_at')
    } finally {
      await db.close()
    }
  })

  it('refuses when a migration already creates the table, naming it, and writes nothing', async () => {
    const { root, generate } = project()
    mkdirSync(join(root, 'migrations'))
    const handWritten = join(root, 'migrations/0007_users.sql')
    writeFileSync(
      handWritten,
      '-- migrate:up\nCREATE TABLE IF NOT EXISTS public."users" (id uuid primary key);\n',
    )
    const refused = await generate('users')
    expect(refused.code).toBe(1)
    expect(refused.out).toBe('')
    expect(refused.err).toBe(
      `keel: migrate generate: ${handWritten} already creates table users; nothing written (to change the table, add a migration that alters it)\n`,
    )
    expect((await readMigrationFiles(join(root, 'migrations'))).map((m) => m.id)).toEqual(['0007_users'])
    // The next number follows the highest one, in the same width.
    expect((await generate('todos')).out).toContain('migrations/0008_create_todos.sql')
  })

  it('refuses a resource whose referenced table has no migration yet, naming the command to run', async () => {
    const { root, generate } = project()
    const refused = await generate('todos')
    expect(refused.code).toBe(1)
    expect(refused.err).toBe(
      `keel: migrate generate: todos references users, but no migration in ${join(root, 'migrations')} creates that table; nothing written (run keel migrate generate users first)\n`,
    )
  })

  it('keeps the width of timestamp-numbered migrations', async () => {
    const { root, generate } = project()
    mkdirSync(join(root, 'migrations'))
    writeFileSync(join(root, 'migrations/20250101120000_init.sql'), '-- migrate:up\nselect 1;\n')
    const written = await generate('users', '--json')
    expect(JSON.parse(written.out)).toEqual({
      file: join(root, 'migrations/20250101120001_create_users.sql'),
      id: '20250101120001_create_users',
      resource: 'users',
    })
  })

  it('exits 2 for an unknown resource (suggesting the near one) and for a missing or extra name', async () => {
    const { generate } = project()
    const unknown = await generate('user')
    expect(unknown.code).toBe(2)
    expect(unknown.err).toMatch(/^keel: unknown resource "user" in .*resources; did you mean "users"\?\n$/)
    const missing = await generate()
    expect(missing.code).toBe(2)
    expect(missing.err).toBe(
      'keel: migrate generate needs a resource name: keel migrate generate <resource>\n',
    )
    expect((await generate('users', 'todos')).err).toBe(
      'keel: migrate generate takes one resource, got 2: users todos\n',
    )
    const noDir = await keel('migrate', 'generate', 'users', '--dir', 'no/such/dir')
    expect(noDir).toEqual({
      code: 2,
      out: '',
      err: 'keel: --dir no/such/dir: the directory does not exist\n',
    })
  })

  it('exits 1 listing every issue when the resource files are invalid', async () => {
    const { generate } = project('broken-refs')
    const result = await generate('tasks')
    expect(result.code).toBe(1)
    expect(result.err).toMatch(
      /^keel: resources: 6 problems\n {2}- .*projects\.yaml:5:48 {2}fields\.owner_id\.ref {2}unknown resource "usres"/,
    )
  })

  it('is described by keel migrate --help and has its own --help', async () => {
    expect((await keel('migrate', '--help')).out).toContain('keel migrate generate <resource>')
    const help = await keel('migrate', 'generate', '--help')
    expect(help.code).toBe(0)
    expect(help.out).toMatch(/^keel migrate generate: write the migration that creates a resource's table/)
  })
})
