import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runKeel } from '../support/cli.ts'

const repo = resolve(import.meta.dirname, '../..')

/** Runs the real `keel migrate` in `cwd`, with only the given environment. */
function keel(cwd: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [join(repo, 'bin/keel.mjs'), 'migrate', ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmpdir(), ...env },
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk
  })
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk
  })
  return new Promise<{ code: number | null; out: string; err: string }>((done, fail) => {
    child.on('error', fail)
    child.on('close', (code) => done({ code, out, err }))
  })
}

/** Runs `keel migrate` in this process, skipping the start-up of a spawned one. */
async function inProcess(args: string[]) {
  return runKeel(['migrate', ...args])
}

const users = `-- migrate:up
create table users (id int primary key, email text not null);

create function users_lower_email() returns trigger language plpgsql as $$
begin
  new.email := lower(new.email);
  return new;
end;
$$;

-- migrate:down
drop table users;
drop function users_lower_email();
`
const names = `-- migrate:up
alter table users add column name text;

-- migrate:down
alter table users drop column name;
`

let root: string
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'keel-cli-migrate-'))
  mkdirSync(join(root, 'migrations'))
  writeFileSync(join(root, 'migrations/0001_create_users.sql'), users)
  writeFileSync(join(root, 'migrations/0002_add_name.sql'), names)
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

// Each spawn starts tsx (and most open PGlite), so the tests run side by side.
describe.concurrent('keel migrate', () => {
  // One data directory goes through apply, rollback and an edited file, in order.
  it('applies pending files, rolls back, and exits 1 naming an edited file in migrate and --status', async () => {
    const applied = await keel(root, ['--data-dir', 'db', '--json'])
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    expect(JSON.parse(applied.out)).toEqual({
      applied: ['0001_create_users', '0002_add_name'],
      alreadyApplied: [],
    })

    // In this process to save a start-up; its paths are given absolute.
    const rolledBack = await inProcess([
      '--dir',
      join(root, 'migrations'),
      '--data-dir',
      join(root, 'db'),
      '--rollback',
    ])
    expect(rolledBack).toEqual({
      code: 0,
      out: `rolled back 1 migration (PGlite ${join(root, 'db')}):\n  0002_add_name\n`,
      err: '',
    })

    writeFileSync(
      join(root, 'migrations/0001_create_users.sql'),
      users.replace('email text', 'email varchar'),
    )
    const edited = await keel(root, ['--data-dir', 'db'])
    expect(edited.code).toBe(1)
    expect(edited.out).toBe('')
    expect(edited.err).toMatch(
      /^keel: migration app\/0001_create_users \(migrations\/0001_create_users\.sql\) was edited after it was applied/,
    )

    // The data directory from the config, here through its environment variable.
    const status = await keel(root, ['--status'], { KEEL_DATA__DATA_DIR: 'db' })
    expect(status.code).toBe(1)
    const lines = status.out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+STATE\s+APPLIED AT$/)
    expect(lines[1]).toMatch(/^0001_create_users\s+checksum-mismatch\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/)
    expect(lines[2]).toMatch(/^0002_add_name\s+pending\s*$/)
  })

  it('exits 2 on a bad flag, naming it', async () => {
    const result = await keel(root, ['--stpes', '2', '--json'])
    expect(result.code).toBe(2)
    expect(JSON.parse(result.out)).toEqual({ error: 'KEEL_CLI_USAGE', message: "unknown flag '--stpes'" })
  })

  // These fail before any database opens, so they run in this process.
  it('exits 2 on flags that do not go together or a bad --steps', async () => {
    expect(await inProcess(['--steps', '2'])).toEqual({
      code: 2,
      out: '',
      err: 'keel: --steps needs --rollback\n',
    })
    expect(await inProcess(['--rollback', '--steps', '0'])).toEqual({
      code: 2,
      out: '',
      err: 'keel: --steps: expected a positive integer, got "0"\n',
    })
    expect((await inProcess(['--status', '--rollback'])).code).toBe(2)
    expect((await inProcess(['--url', 'postgres://localhost/x', '--data-dir', 'db'])).code).toBe(2)
  })

  it('refuses to migrate an in-memory database with exit 2', async () => {
    const result = await keel(root, [])
    expect(result.code).toBe(2)
    expect(result.err).toMatch(/^keel: no database for keel migrate: pass --url or --data-dir/)
    expect(result.err).toMatch(/in-memory PGlite/)
  })

  it('exits 1 naming the file and line of a malformed migration, before opening a database', async () => {
    const dir = join(root, 'broken')
    mkdirSync(dir)
    writeFileSync(join(dir, '0001_oops.sql'), '-- forgot the marker\ncreate table t (id int);\n')
    expect(await inProcess(['--dir', dir, '--data-dir', join(root, 'unused')])).toEqual({
      code: 1,
      out: '',
      err: `keel: migrations: ${join(dir, '0001_oops.sql')}:2: SQL before "-- migrate:up"; every statement belongs to an up or down section\n`,
    })
  })
})
