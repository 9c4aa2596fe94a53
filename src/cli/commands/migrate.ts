import { resolve } from 'node:path'
import { loadConfig } from '../../config/index.ts'
import {
  appMigrationScope,
  type Db,
  dataSection,
  type MigrationStatus,
  migrate,
  migrationStatus,
  openDb,
  readMigrationFiles,
  rollback,
} from '../../data/index.ts'
import { redactUrl } from '../../log/index.ts'
import { parseFlags } from '../parse-flags.ts'
import { table } from '../table.ts'
import { usageError } from '../usage-error.ts'

export const migrateHelp = `keel migrate: apply, roll back or list the app's migration files

Usage: keel migrate [--status | --rollback [--steps N]] [--dir DIR] [--url URL | --data-dir DIR]
                    [--profile NAME] [--json]

  (no flag)       apply the pending migrations
  --status        list every migration: applied, pending, missing-file or checksum-mismatch
  --rollback      run the down part of the last applied migration
  --steps N       with --rollback: undo the last N applied migrations (default 1)
  --dir DIR       directory of the migration files (default: migrations)
  --url URL       PostgreSQL URL (default: DATABASE_URL, else database.url from the config)
  --data-dir DIR  an embedded PGlite data directory (default: data.dataDir from the config)
  --profile NAME  profile used to read the config (default: KEEL_PROFILE, else dev)
  --json          machine-readable output

Exit codes: 0 success, 1 a migration failed, or a file was edited or is missing after it was
applied, 2 bad arguments or no database configured.`

interface MigrateFlags {
  status?: boolean
  rollback?: boolean
  steps?: string
  dir?: string
  url?: string
  'data-dir'?: string
  profile?: string
  json?: boolean
  help?: boolean
}

/** What the command printed and the exit code it chose. */
export interface MigrateOutcome {
  text: string
  code: number
}

/** Runs `keel migrate` with the arguments after the command name. */
export async function migrateCommand(args: string[]): Promise<MigrateOutcome> {
  const { values } = parseFlags(args, {
    status: { type: 'boolean' },
    rollback: { type: 'boolean' },
    steps: { type: 'string' },
    dir: { type: 'string' },
    url: { type: 'string' },
    'data-dir': { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  const flags = values as MigrateFlags
  if (flags.help) return { text: `${migrateHelp}\n`, code: 0 }
  if (flags.status && flags.rollback) throw usageError('--status and --rollback cannot be combined')
  if (flags.steps !== undefined && !flags.rollback) throw usageError('--steps needs --rollback')
  const steps = flags.steps === undefined ? 1 : Number(flags.steps)
  if (!/^\d+$/.test(flags.steps ?? '1') || steps < 1) {
    throw usageError(`--steps: expected a positive integer, got "${flags.steps}"`)
  }
  if (flags.url !== undefined && flags['data-dir'] !== undefined) {
    throw usageError('--url and --data-dir cannot be combined: one selects PostgreSQL, the other PGlite')
  }
  // Files first: a bad file is reported without opening the database.
  const migrations = await readMigrationFiles(flags.dir ?? 'migrations')
  const target = databaseTarget(flags.url, flags['data-dir'], flags.profile)
  const db = await openDb(target)
  try {
    if (flags.status)
      return statusOutcome(await migrationStatus(db, appMigrationScope, migrations), flags.json)
    if (flags.rollback) {
      const { rolledBack } = await rollback(db, appMigrationScope, migrations, { steps })
      if (flags.json) return { text: `${JSON.stringify({ rolledBack }, null, 2)}\n`, code: 0 }
      return { text: listed('rolled back', rolledBack, 'nothing to roll back', where(target)), code: 0 }
    }
    const result = await migrate(db, appMigrationScope, migrations)
    if (flags.json) return { text: `${JSON.stringify(result, null, 2)}\n`, code: 0 }
    return { text: listed('applied', result.applied, 'nothing to apply: up to date', where(target)), code: 0 }
  } finally {
    await closeQuietly(db)
  }
}

/**
 * The database to migrate: `--url`, `--data-dir`, `DATABASE_URL`, then the config's
 * `database.url` and `data.dataDir`. Without any, refuses: an in-memory PGlite would be created,
 * migrated and thrown away.
 */
function databaseTarget(
  url: string | undefined,
  dataDir: string | undefined,
  profile: string | undefined,
): { url?: string; dataDir?: string } {
  if (url) return { url }
  if (dataDir) return { dataDir: resolve(dataDir) }
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL }
  const config = loadConfig<{ database: { url?: string }; data: { dataDir?: string } }>({
    profile,
    sections: [dataSection],
    ignoreUnknownSections: true,
  })
  if (config.values.database.url) return { url: config.values.database.url }
  if (config.values.data.dataDir) return { dataDir: resolve(config.values.data.dataDir) }
  throw usageError(
    `no database to migrate: pass --url or --data-dir, or set DATABASE_URL, database.url or data.dataDir (profile ${config.profile}); without them the app uses an in-memory PGlite, which migrating would not change`,
  )
}

const where = (target: { url?: string; dataDir?: string }) =>
  target.url ? redactUrl(target.url) : `PGlite ${target.dataDir}`

function listed(verb: string, ids: readonly string[], none: string, place: string): string {
  if (ids.length === 0) return `${none} (${place})\n`
  return `${verb} ${ids.length} migration${ids.length === 1 ? '' : 's'} (${place}):\n${ids.map((id) => `  ${id}`).join('\n')}\n`
}

/** Exit 1 when history disagrees with the files: an applied file edited or deleted. */
function statusOutcome(statuses: MigrationStatus[], json: boolean | undefined): MigrateOutcome {
  const code = statuses.some((s) => s.state === 'checksum-mismatch' || s.state === 'missing-file') ? 1 : 0
  if (json) {
    const migrations = statuses.map((s) => ({
      id: s.id,
      state: s.state,
      appliedAt: s.appliedAt?.toISOString() ?? null,
    }))
    return { text: `${JSON.stringify({ migrations }, null, 2)}\n`, code }
  }
  if (statuses.length === 0) return { text: 'no migrations\n', code }
  const rows = [
    ['ID', 'STATE', 'APPLIED AT'],
    ...statuses.map((s) => [s.id, s.state, s.appliedAt?.toISOString() ?? '']),
  ]
  return { text: `${table(rows)}\n`, code }
}

async function closeQuietly(db: Db): Promise<void> {
  try {
    await db.close()
  } catch {
    // The command's own outcome matters more than a failed close.
  }
}
