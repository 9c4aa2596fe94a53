import { createHash } from 'node:crypto'
import { KeelError } from '../errors/index.ts'
import type { Db, Queryable } from './db.ts'

/** One schema change. `id`s sort in the order they apply (`0001_create_runs`). */
export interface Migration {
  readonly id: string
  /** SQL applied going forward; several statements are fine. */
  readonly up: string
  /** SQL that undoes `up`, for rollbacks. */
  readonly down?: string
  /** Where the migration was read from (`migrations/0001_create_users.sql`); errors name it. */
  readonly source?: string
}

/** What {@link migrate} did. */
export interface MigrateResult {
  readonly applied: readonly string[]
  readonly alreadyApplied: readonly string[]
}

// Any constant works; it only has to be the same in every process that migrates this database.
const migrationLockKey = 4_206_661_337

/**
 * Applies the migrations of one `scope` (a capability such as `keel_flow`, or `app`) that have
 * not run yet, in one transaction under a PostgreSQL advisory lock: two replicas starting at
 * once cannot both apply a migration, the second waits and then finds nothing to do. A migration
 * that was edited after it ran fails with `KEEL_MIGRATION_CHECKSUM`, naming it.
 */
export async function migrate(
  db: Db,
  scope: string,
  migrations: readonly Migration[],
): Promise<MigrateResult> {
  const sorted = [...migrations].sort((a, b) => a.id.localeCompare(b.id))
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [migrationLockKey])
    await tx.query(createTable)
    const rows = await tx.query<{ id: string; checksum: string }>(
      'select id, checksum from keel_migrations where scope = $1',
      [scope],
    )
    const done = new Map(rows.map((row) => [row.id, row.checksum]))
    const applied: string[] = []
    const alreadyApplied: string[] = []
    for (const migration of sorted) {
      const sum = checksum(migration.up)
      const previous = done.get(migration.id)
      if (previous !== undefined) {
        if (previous !== sum) {
          throw new KeelError(
            'KEEL_MIGRATION_CHECKSUM',
            `migration ${name(scope, migration)} was edited after it was applied (checksum ${previous.slice(0, 12)} in the database, ${sum.slice(0, 12)} now); add a new migration instead`,
          )
        }
        alreadyApplied.push(migration.id)
        continue
      }
      try {
        // One statement per call: postgres.js prepares statements, which holds one each.
        for (const statement of splitStatements(migration.up)) await tx.query(statement)
      } catch (error) {
        throw new KeelError(
          'KEEL_MIGRATION_FAILED',
          `migration ${name(scope, migration)} failed: ${error instanceof Error ? error.message : error}`,
          { cause: error },
        )
      }
      await tx.query('insert into keel_migrations (scope, id, checksum) values ($1, $2, $3)', [
        scope,
        migration.id,
        sum,
      ])
      applied.push(migration.id)
    }
    return { applied, alreadyApplied }
  })
}

const createTable = `create table if not exists keel_migrations (
  scope text not null,
  id text not null,
  checksum text not null,
  applied_at timestamptz not null default now(),
  primary key (scope, id))`

const checksum = (sql: string) => createHash('sha256').update(sql.replace(/\r\n/g, '\n').trim()).digest('hex')

/** `scope/id`, and the file it came from when there is one. */
const name = (scope: string, migration: Migration) =>
  `${scope}/${migration.id}${migration.source ? ` (${migration.source})` : ''}`

interface AppliedRow {
  id: string
  checksum: string
  applied_at: Date
}

/** The recorded migrations of `scope`, in id order; none while `keel_migrations` does not exist. */
async function appliedRows(db: Queryable, scope: string): Promise<AppliedRow[]> {
  const [table] = await db.query<{ name: string | null }>(
    `select to_regclass('keel_migrations')::text as name`,
  )
  if (!table?.name) return []
  const rows = await db.query<AppliedRow>(
    'select id, checksum, applied_at from keel_migrations where scope = $1',
    [scope],
  )
  return rows.sort((a, b) => a.id.localeCompare(b.id))
}

/** Options of {@link rollback}. */
export interface RollbackOptions {
  /** How many of the last applied migrations to undo. Default 1. */
  steps?: number
}

/** What {@link rollback} did: the ids whose `down` ran, last applied first. */
export interface RollbackResult {
  readonly rolledBack: readonly string[]
}

/**
 * Undoes the last `steps` applied migrations of `scope` (by id, newest first): runs each one's
 * `down` and deletes its record, all in one transaction under the same advisory lock as
 * {@link migrate}. Before anything runs, every migration to undo must be in `migrations`, have a
 * `down`, and match its recorded checksum; otherwise it rejects naming the migration
 * (`KEEL_MIGRATION_FAILED`, or `KEEL_MIGRATION_CHECKSUM` for an edited one) and nothing is
 * rolled back. A `down` that fails rejects with `KEEL_MIGRATION_FAILED`, also undoing nothing.
 *
 * @example
 * ```ts
 * await rollback(db, 'app', migrations, { steps: 2 }) // { rolledBack: ['0003_…', '0002_…'] }
 * ```
 */
export async function rollback(
  db: Db,
  scope: string,
  migrations: readonly Migration[],
  options: RollbackOptions = {},
): Promise<RollbackResult> {
  const steps = options.steps ?? 1
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`rollback: steps must be a positive integer, got ${steps}`)
  }
  const byId = new Map(migrations.map((m) => [m.id, m]))
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [migrationLockKey])
    const undo = (await appliedRows(tx, scope)).reverse().slice(0, steps)
    const plan = undo.map((row) => {
      const migration = byId.get(row.id)
      if (!migration) {
        throw new KeelError(
          'KEEL_MIGRATION_FAILED',
          `cannot roll back migration ${scope}/${row.id}: it was applied but its file is missing; nothing was rolled back`,
        )
      }
      if (checksum(migration.up) !== row.checksum) {
        throw new KeelError(
          'KEEL_MIGRATION_CHECKSUM',
          `cannot roll back migration ${name(scope, migration)}: it was edited after it was applied, so its down may not undo what ran; nothing was rolled back`,
        )
      }
      const down = migration.down?.trim()
      if (!down) {
        throw new KeelError(
          'KEEL_MIGRATION_FAILED',
          `cannot roll back migration ${name(scope, migration)}: it has no down part; nothing was rolled back`,
        )
      }
      return { migration, down }
    })
    for (const { migration, down } of plan) {
      try {
        for (const statement of splitStatements(down)) await tx.query(statement)
      } catch (error) {
        throw new KeelError(
          'KEEL_MIGRATION_FAILED',
          `rolling back migration ${name(scope, migration)} failed: ${error instanceof Error ? error.message : error}; nothing was rolled back`,
          { cause: error },
        )
      }
      await tx.query('delete from keel_migrations where scope = $1 and id = $2', [scope, migration.id])
    }
    return { rolledBack: plan.map((step) => step.migration.id) }
  })
}

/**
 * Where a migration stands: `applied`; `pending` (not run yet); `missing-file` (recorded as
 * applied, but not among the migrations given); `checksum-mismatch` (applied, then edited).
 */
export type MigrationState = 'applied' | 'pending' | 'missing-file' | 'checksum-mismatch'

/** One row of {@link migrationStatus}. */
export interface MigrationStatus {
  readonly id: string
  readonly state: MigrationState
  /** When it was applied; `null` while pending. */
  readonly appliedAt: Date | null
  /** The file it was read from, when known. */
  readonly source?: string
}

/**
 * Every migration of `scope`, given or recorded, in id order with its {@link MigrationState}.
 * Read-only: takes no lock and creates nothing, so it is safe against a production database.
 */
export async function migrationStatus(
  db: Queryable,
  scope: string,
  migrations: readonly Migration[],
): Promise<MigrationStatus[]> {
  const applied = new Map((await appliedRows(db, scope)).map((row) => [row.id, row]))
  const statuses: MigrationStatus[] = migrations.map((migration) => {
    const row = applied.get(migration.id)
    const source = migration.source ? { source: migration.source } : {}
    if (!row) return { id: migration.id, state: 'pending', appliedAt: null, ...source }
    const state = row.checksum === checksum(migration.up) ? 'applied' : 'checksum-mismatch'
    return { id: migration.id, state, appliedAt: row.applied_at, ...source }
  })
  const given = new Set(migrations.map((m) => m.id))
  for (const row of applied.values()) {
    if (!given.has(row.id)) statuses.push({ id: row.id, state: 'missing-file', appliedAt: row.applied_at })
  }
  return statuses.sort((a, b) => a.id.localeCompare(b.id))
}

/**
 * Splits a script into statements on semicolons that end a line (only whitespace after them).
 * Semicolons inside quoted strings, quoted identifiers, comments and dollar-quoted bodies
 * (`$$ … $$`, `$body$ … $body$`, as in function definitions) do not split. Statements that are
 * only comments are dropped.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = []
  let start = 0
  let i = 0
  while (i < script.length) {
    const c = script[i]!
    if (c === '-' && script[i + 1] === '-') {
      const end = script.indexOf('\n', i)
      i = end === -1 ? script.length : end
    } else if (c === '/' && script[i + 1] === '*') {
      i = skipBlockComment(script, i)
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(script[i - 1] ?? '') && !/\w/.test(script[i - 2] ?? '')
      i = skipQuoted(script, i, c, escapes)
    } else if (c === '$') {
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(script.slice(i, i + 64))
      const tagged = tag && !/[\w$]/.test(script[i - 1] ?? '')
      if (tagged) {
        const end = script.indexOf(tag[0], i + tag[0].length)
        i = end === -1 ? script.length : end + tag[0].length
      } else {
        i++
      }
    } else if (c === ';' && /^[ \t\r]*(?:\n|$)/.test(script.slice(i + 1, i + 200))) {
      statements.push(script.slice(start, i))
      start = i + 1
      i++
    } else {
      i++
    }
  }
  statements.push(script.slice(start))
  return statements.map((s) => s.trim()).filter((s) => s.length > 0 && !/^(--[^\n]*\n?\s*)*$/.test(s))
}

/** The index just past a block comment starting at `i`; PostgreSQL's block comments nest. */
function skipBlockComment(script: string, i: number): number {
  let depth = 0
  while (i < script.length) {
    if (script.startsWith('/*', i)) {
      depth++
      i += 2
    } else if (script.startsWith('*/', i)) {
      depth--
      i += 2
      if (depth === 0) return i
    } else {
      i++
    }
  }
  return i
}

/** The index just past a string or quoted identifier opened at `i`; a doubled quote stays inside. */
function skipQuoted(script: string, i: number, quote: string, escapes: boolean): number {
  i++
  while (i < script.length) {
    const c = script[i]
    if (escapes && c === '\\') i += 2
    else if (c === quote && script[i + 1] === quote) i += 2
    else if (c === quote) return i + 1
    else i++
  }
  return i
}
