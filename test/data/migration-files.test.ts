import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseMigrationFile, readMigrationFiles } from 'keel/data'
import { isKeelError } from 'keel/errors'
import { afterEach, describe, expect, it } from 'vitest'
import { splitStatements } from '../../src/data/migrate.ts'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'keel-migrations-'))
  dirs.push(dir)
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isKeelError(error)) throw new Error(`expected a KeelError, got ${error}`)
  return { code: error.code, message: error.message }
}

function parseFailure(text: string): string {
  try {
    parseMigrationFile(text, 'migrations/0001_x.sql')
  } catch (error) {
    if (isKeelError(error) && error.code === 'KEEL_MIGRATION_FAILED') return error.message
    throw error
  }
  throw new Error('expected the file to be rejected')
}

describe('parseMigrationFile', () => {
  it('splits a file into its up and down sections, ignoring comments before the first marker', () => {
    const text = [
      '-- Users of the service.',
      '',
      '-- migrate:up',
      'create table users (id int primary key);',
      '',
      '-- migrate:down',
      'drop table users;',
      '',
    ].join('\n')
    expect(parseMigrationFile(text, 'f.sql')).toEqual({
      up: 'create table users (id int primary key);',
      down: 'drop table users;',
    })
  })

  it('accepts CRLF line ends, any case and spacing in the markers, and a file with no down section', () => {
    expect(parseMigrationFile('--  Migrate:UP\r\nselect 1;\r\n', 'f.sql')).toEqual({ up: 'select 1;' })
  })

  it('treats a down section holding only comments as no down', () => {
    expect(
      parseMigrationFile('-- migrate:up\nselect 1;\n-- migrate:down\n-- irreversible\n', 'f.sql'),
    ).toEqual({
      up: 'select 1;',
    })
  })

  it('rejects a file without an up section, naming the file and the line of its down marker', () => {
    expect(parseFailure('-- a comment\n-- migrate:down\ndrop table t;\n')).toBe(
      'migrations: migrations/0001_x.sql:2: no "-- migrate:up" section; start the file\'s forward SQL with it',
    )
    expect(parseFailure('')).toMatch(/^migrations: migrations\/0001_x\.sql:1: no "-- migrate:up" section/)
  })

  it('rejects SQL before the first marker, naming its line', () => {
    expect(parseFailure('-- header\ncreate table t (id int);\n-- migrate:up\nselect 1;\n')).toMatch(
      /^migrations: migrations\/0001_x\.sql:2: SQL before "-- migrate:up"/,
    )
  })

  it('rejects an empty up section, a repeated marker and an unknown marker, each with its line', () => {
    expect(parseFailure('-- migrate:up\n\n-- nothing yet\n-- migrate:down\ndrop table t;\n')).toMatch(
      /0001_x\.sql:1: the "-- migrate:up" section is empty/,
    )
    expect(parseFailure('-- migrate:up\nselect 1;\n-- migrate:up\nselect 2;\n')).toMatch(
      /0001_x\.sql:3: a second "-- migrate:up" \(the first is on line 1\)/,
    )
    expect(parseFailure('-- migrate:up\nselect 1;\n-- migrate:sideways\n')).toMatch(
      /0001_x\.sql:3: unknown marker "-- migrate:sideways"/,
    )
  })
})

describe('readMigrationFiles', () => {
  it('reads *.sql files sorted by name, with the name as id and the path as source, ignoring other files', async () => {
    const dir = migrationsDir({
      '0002_add_name.sql': '-- migrate:up\nalter table users add column name text;\n',
      '0001_create_users.sql':
        '-- migrate:up\ncreate table users (id int);\n-- migrate:down\ndrop table users;\n',
      'README.md': 'not a migration',
    })
    mkdirSync(join(dir, '0003_a_directory.sql'))
    expect(await readMigrationFiles(dir)).toEqual([
      {
        id: '0001_create_users',
        up: 'create table users (id int);',
        down: 'drop table users;',
        source: join(dir, '0001_create_users.sql'),
      },
      {
        id: '0002_add_name',
        up: 'alter table users add column name text;',
        source: join(dir, '0002_add_name.sql'),
      },
    ])
  })

  it('names the file and line when one file is malformed', async () => {
    const dir = migrationsDir({ '0001_ok.sql': '-- migrate:up\nselect 1;\n', '0002_bad.sql': 'select 2;\n' })
    expect(await failure(readMigrationFiles(dir))).toEqual({
      code: 'KEEL_MIGRATION_FAILED',
      message: `migrations: ${join(dir, '0002_bad.sql')}:1: SQL before "-- migrate:up"; every statement belongs to an up or down section`,
    })
  })

  it('rejects a .sql file whose name is not <number>_<name>.sql, naming it', async () => {
    const dir = migrationsDir({ 'create_users.sql': '-- migrate:up\nselect 1;\n' })
    expect((await failure(readMigrationFiles(dir))).message).toBe(
      `migrations: ${join(dir, 'create_users.sql')}: a migration file is named <number>_<name>.sql (0001_create_users.sql), got "create_users.sql"`,
    )
  })

  it('rejects two files with the same number, naming both', async () => {
    const dir = migrationsDir({
      '0001_create_users.sql': '-- migrate:up\nselect 1;\n',
      '1_create_orders.sql': '-- migrate:up\nselect 2;\n',
    })
    expect((await failure(readMigrationFiles(dir))).message).toBe(
      `migrations: ${join(dir, '1_create_orders.sql')}: duplicate migration number 1, also used by ${join(dir, '0001_create_users.sql')}`,
    )
  })

  it('rejects a directory that does not exist', async () => {
    const dir = join(tmpdir(), 'keel-no-such-migrations-dir')
    expect((await failure(readMigrationFiles(dir))).message).toBe(
      `migrations: cannot read the directory ${dir}: it does not exist`,
    )
  })
})

describe('splitStatements', () => {
  it('splits on semicolons that end a line and drops comment-only statements', () => {
    expect(
      splitStatements('create table a (id int);\n-- note\ncreate table b (id int);  \n-- trailing\n'),
    ).toEqual(['create table a (id int)', '-- note\ncreate table b (id int)'])
  })

  it('keeps $$ and $tag$ bodies whole, semicolons at line ends included', () => {
    const fn = [
      'create function touch() returns trigger language plpgsql as $$',
      'begin',
      '  new.updated_at := now();',
      '  return new;',
      'end;',
      '$$',
    ].join('\n')
    const tagged = [
      'create function twice(x int) returns int language plpgsql as $body$',
      'begin',
      "  raise notice 'inner $$ is text here;';",
      '  return x * 2;',
      'end;',
      '$body$',
    ].join('\n')
    expect(splitStatements(`${fn};\n${tagged};\nselect 1;\n`)).toEqual([fn, tagged, 'select 1'])
  })

  it('ignores semicolons and dollar signs inside strings, quoted identifiers and comments', () => {
    const script = [
      "insert into t values ('a;\n', '$$');",
      'select "odd;\n name" from t;',
      "/* a; \n comment $$ */ select 'it''s;\n';",
      "-- don't split here;\nselect $1::int;",
    ].join('\n')
    expect(splitStatements(script)).toEqual([
      "insert into t values ('a;\n', '$$')",
      'select "odd;\n name" from t',
      "/* a; \n comment $$ */ select 'it''s;\n'",
      "-- don't split here;\nselect $1::int",
    ])
  })
})
