import {
  appMigrationScope,
  type MigrationStatus,
  migrate,
  migrationStatus,
  openDb,
  readMigrationFiles,
  rollback,
} from '../../data/index.ts'
import { closeQuietly, databaseFlagsHelp, databaseTarget, where } from '../database-target.ts'
import { parseFlags } from '../parse-flags.ts'
import { table } from '../table.ts'
import { usageError } from '../usage-error.ts'
import { migrateGenerateCommand } from './migrate-generate.ts'

export const migrateHelp = `keel migrate: apply, roll back or list the app's migration files

Usage: keel migrate [--status | --rollback [--steps N]] [--dir DIR] [--url URL | --data-dir DIR]
                    [--profile NAME] [--json]
       keel migrate generate <resource> [--dir DIR] [--migrations DIR]   (write a resource's create-table migration)

  (no flag)       apply the pending migrations
  --status        list every migration: applied, pending, missing-file or checksum-mismatch
  --rollback      run the down part of the last applied migration
  --steps N       with --rollback: undo the last N applied migrations (default 1)
  --dir DIR       directory of the migration files (default: migrations)
${databaseFlagsHelp}
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
  if (args[0] === 'generate') return migrateGenerateCommand(args.slice(1))
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
  // Flags, then files, then the database: a bad file is reported without opening it.
  const target = databaseTarget(flags, 'migrate')
  const migrations = await readMigrationFiles(flags.dir ?? 'migrations')
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
