import { existsSync } from 'node:fs'
import { relative } from 'node:path'
import {
  appMigrationScope,
  type Db,
  type MigrationStatus,
  migrationStatus,
  openDb,
  readMigrationFiles,
  type SslMode,
} from '../../data/index.ts'
import { isKeelError } from '../../errors/index.ts'
import { redactUrl } from '../../log/index.ts'
import {
  type CheckContext,
  configValue,
  fail,
  pass,
  type ReadinessCheck,
  skip,
  warn,
} from './readiness-check.ts'

/**
 * The database the profile deploys against has every migration file applied and none edited since.
 * Needs a real database URL (`--database-url` or `DATABASE_URL`); it only reads the migration
 * history (no lock, nothing created), so it is safe against production. Without a URL it warns
 * that nothing was checked rather than guessing.
 */
export const migrationsCheck: ReadinessCheck = {
  id: 'migrations',
  title: 'no pending or edited migrations',
  async run(context) {
    if (!context.plan.services.includes('postgres')) return skip('the app uses no database')
    const dir = shown(context.migrationsDir)
    if (!context.isMigrationsDirChosen && !existsSync(context.migrationsDir))
      return pass(`no migration files (${dir} does not exist)`)
    if (!context.databaseUrl)
      return warn(
        'not checked: no database URL',
        `pass --database-url URL (or set DATABASE_URL) to compare ${dir} with the database the profile deploys against`,
      )
    const where = redactUrl(context.databaseUrl)
    let statuses: MigrationStatus[]
    try {
      const migrations = await readMigrationFiles(context.migrationsDir)
      statuses = await withDb(context, (db) => migrationStatus(db, appMigrationScope, migrations))
    } catch (error) {
      const message = isKeelError(error) ? error.message : String((error as Error)?.message ?? error)
      return fail(
        `cannot read the migration status of ${where}: ${message}`,
        'check --database-url, the network path to the database and --migrations',
      )
    }
    const pending = statuses.filter((s) => s.state === 'pending').map((s) => s.id)
    const edited = statuses.filter((s) => s.state === 'checksum-mismatch').map((s) => s.id)
    const missing = statuses.filter((s) => s.state === 'missing-file').map((s) => s.id)
    const problems = [
      ...(pending.length > 0 ? [`pending: ${pending.join(', ')}`] : []),
      ...(edited.length > 0 ? [`edited after they were applied: ${edited.join(', ')}`] : []),
      ...(missing.length > 0 ? [`applied but their files are gone: ${missing.join(', ')}`] : []),
    ]
    if (problems.length > 0)
      return fail(
        `${where}: ${problems.join('; ')}`,
        pending.length > 0 && edited.length === 0 && missing.length === 0
          ? `run keel migrate --dir ${dir} --url <the database URL> before this version serves traffic`
          : `an applied migration must never change: restore the file from version control and add a new migration (keel migrate --status --dir ${dir} lists them)`,
      )
    return pass(
      `${statuses.length} migration${statuses.length === 1 ? '' : 's'} applied in ${where}, none pending`,
    )
  },
}

async function withDb<T>(context: CheckContext, use: (db: Db) => Promise<T>): Promise<T> {
  // The app's own TLS settings, so the check reaches the server as the app does.
  const sslmode = configValue<SslMode>(context, 'data.sslmode')
  const sslRootCert = configValue<string>(context, 'data.sslRootCert')
  const db = await openDb({
    url: context.databaseUrl,
    poolSize: 1,
    ...(sslmode ? { sslmode } : {}),
    ...(sslRootCert ? { sslRootCert } : {}),
  })
  try {
    return await use(db)
  } finally {
    await db.close().catch(() => {})
  }
}

const shown = (path: string) => relative(process.cwd(), path) || '.'
