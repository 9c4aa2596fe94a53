import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'
import { postgresSchemas } from '../support/postgres-schemas.ts'

const entry = 'test/deploy/fixtures/check-migrations/app.ts'
const migrations = 'test/deploy/fixtures/check-migrations/migrations'
const schemas = postgresSchemas('keel_check')
const edited = mkdtempSync(join(tmpdir(), 'keel-check-migrations-'))
afterAll(() => rmSync(edited, { recursive: true, force: true }))

interface JsonReport {
  items: Array<{ id: string; status: string; message: string; hint: string | null }>
}

async function migrationsItem(url: string, dir = migrations) {
  const { out, err } = await runKeel([
    'check',
    '--entry',
    entry,
    '--database-url',
    url,
    '--migrations',
    dir,
    '--json',
  ])
  if (!out) throw new Error(`keel check printed nothing: ${err}`)
  return (JSON.parse(out) as JsonReport).items.find((i) => i.id === 'migrations')!
}

describe('keel check: migrations against PostgreSQL', () => {
  it('fails while a migration is pending and passes once keel migrate applied it', async () => {
    const url = await schemas.fresh('pending')
    const before = await migrationsItem(url)
    expect(before.status).toBe('fail')
    expect(before.message).toMatch(
      /^postgres:\/\/\[REDACTED\]@127\.0\.0\.1:5432\/test\?search_path=keel_check_\w+: pending: 0001_create_notes$/,
    )
    expect(before.hint).toContain(`run keel migrate --dir ${migrations}`)

    const migrated = await runKeel(['migrate', '--dir', migrations, '--url', url])
    expect(migrated.err).toBe('')
    expect(migrated.code).toBe(0)
    expect(migrated.out).toContain('0001_create_notes')

    const after = await migrationsItem(url)
    expect(after.status).toBe('pass')
    expect(after.message).toMatch(/^1 migration applied in postgres:\/\/.*, none pending$/)
    expect(after.hint).toBeNull()
  })

  it('fails when an applied migration was edited since', async () => {
    const url = await schemas.fresh('edited')
    expect((await runKeel(['migrate', '--dir', migrations, '--url', url])).code).toBe(0)
    cpSync(migrations, edited, { recursive: true })
    writeFileSync(
      join(edited, '0001_create_notes.sql'),
      '-- migrate:up\ncreate table notes (id serial primary key, body text);\n-- migrate:down\ndrop table notes;\n',
    )
    const item = await migrationsItem(url, edited)
    expect(item.status).toBe('fail')
    expect(item.message).toContain('edited after they were applied: 0001_create_notes')
    expect(item.hint).toContain('an applied migration must never change')
  })

  it('reads DATABASE_URL when no flag is given', async () => {
    const url = await schemas.fresh('env')
    const saved = process.env.DATABASE_URL
    process.env.DATABASE_URL = url
    try {
      const { out } = await runKeel(['check', '--entry', entry, '--migrations', migrations, '--json'])
      const item = (JSON.parse(out) as JsonReport).items.find((i) => i.id === 'migrations')!
      expect(item).toMatchObject({
        status: 'fail',
        message: expect.stringContaining('pending: 0001_create_notes'),
      })
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL
      else process.env.DATABASE_URL = saved
    }
  })
})
