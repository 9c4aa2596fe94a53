import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openPostgresDb } from 'keel/data'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'
import { postgresSchemas } from '../support/postgres-schemas.ts'

async function keel(args: string[]) {
  return runKeel(['migrate', ...args])
}

const schemas = postgresSchemas('keel_cli_migrate')
let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'keel-cli-migrate-pg-'))
  mkdirSync(join(dir, 'migrations'))
  writeFileSync(
    join(dir, 'migrations/0001_create_users.sql'),
    `-- migrate:up
create table users (id int primary key, email text not null);
create function users_lower_email() returns trigger language plpgsql as $$
begin
  new.email := lower(new.email);
  return new;
end;
$$;
create trigger users_lower before insert on users for each row execute function users_lower_email();

-- migrate:down
drop table users;
drop function users_lower_email();
`,
  )
  writeFileSync(
    join(dir, 'migrations/0002_add_name.sql'),
    '-- migrate:up\nalter table users add column name text;\n\n-- migrate:down\nalter table users drop column name;\n',
  )
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('keel migrate on PostgreSQL', () => {
  it('applies, lists, rolls back and re-applies, with the password kept out of its output', async () => {
    const url = new URL(await schemas.fresh('cli'))
    url.username = 'postgres'
    url.password = 'not-needed-with-trust'
    const migrations = join(dir, 'migrations')
    const applied = await keel(['--url', url.toString(), '--dir', migrations])
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    expect(applied.out).toContain('applied 2 migrations (postgres://postgres:[REDACTED]@127.0.0.1:5432/test')
    expect(applied.out).not.toContain('not-needed-with-trust')

    const db = await openPostgresDb({ url: url.toString(), poolSize: 1 })
    try {
      await db.query(`insert into users (id, email, name) values (1, 'ADA@EXAMPLE.COM', 'Ada')`)
      expect(await db.query('select email from users')).toEqual([{ email: 'ada@example.com' }])
    } finally {
      await db.close()
    }

    const status = await keel(['--url', url.toString(), '--dir', migrations, '--status', '--json'])
    expect(status.code).toBe(0)
    expect(
      JSON.parse(status.out).migrations.map((m: { id: string; state: string }) => [m.id, m.state]),
    ).toEqual([
      ['0001_create_users', 'applied'],
      ['0002_add_name', 'applied'],
    ])

    const rolledBack = await keel([
      '--url',
      url.toString(),
      '--dir',
      migrations,
      '--rollback',
      '--steps',
      '2',
      '--json',
    ])
    expect(JSON.parse(rolledBack.out)).toEqual({ rolledBack: ['0002_add_name', '0001_create_users'] })
    const again = await keel(['--url', url.toString(), '--dir', migrations, '--json'])
    expect(JSON.parse(again.out)).toEqual({
      applied: ['0001_create_users', '0002_add_name'],
      alreadyApplied: [],
    })
  })

  it('exits 1 naming the host when the server cannot be reached', async () => {
    const result = await keel([
      '--url',
      'postgres://keel:secret@127.0.0.1:1/nowhere',
      '--dir',
      join(dir, 'migrations'),
    ])
    expect(result.code).toBe(1)
    expect(result.err).toContain('cannot reach PostgreSQL at postgres://keel:[REDACTED]@127.0.0.1:1/nowhere')
    expect(result.err).not.toContain('secret')
  })
})
