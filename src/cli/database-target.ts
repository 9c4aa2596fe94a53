import { resolve } from 'node:path'
import { loadConfig } from '../config/index.ts'
import { type Db, dataSection } from '../data/index.ts'
import { redactUrl } from '../log/index.ts'
import { usageError } from './usage-error.ts'

/** The database flags the commands that open a database share. */
export interface DatabaseFlags {
  url?: string
  'data-dir'?: string
  profile?: string
}

/** The help lines for {@link DatabaseFlags}. */
export const databaseFlagsHelp = `  --url URL       PostgreSQL URL (default: DATABASE_URL, else database.url from the config)
  --data-dir DIR  an embedded PGlite data directory (default: data.dataDir from the config)
  --profile NAME  profile used to read the config (default: KEEL_PROFILE, else dev)`

/**
 * The database a command works on: `--url`, `--data-dir`, `DATABASE_URL`, then the config's
 * `database.url` and `data.dataDir`. Without any, refuses: the app would use an in-memory PGlite,
 * which the command would create, act on and throw away.
 */
export function databaseTarget(flags: DatabaseFlags, command: string): { url?: string; dataDir?: string } {
  if (flags.url !== undefined && flags['data-dir'] !== undefined) {
    throw usageError('--url and --data-dir cannot be combined: one selects PostgreSQL, the other PGlite')
  }
  if (flags.url) return { url: flags.url }
  if (flags['data-dir']) return { dataDir: resolve(flags['data-dir']) }
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL }
  const config = loadConfig<{ database: { url?: string }; data: { dataDir?: string } }>({
    profile: flags.profile,
    sections: [dataSection],
    ignoreUnknownSections: true,
  })
  if (config.values.database.url) return { url: config.values.database.url }
  if (config.values.data.dataDir) return { dataDir: resolve(config.values.data.dataDir) }
  throw usageError(
    `no database for keel ${command}: pass --url or --data-dir, or set DATABASE_URL, database.url or data.dataDir (profile ${config.profile}); without them the app uses an in-memory PGlite that lives only as long as the app`,
  )
}

/** Where a target points, with any password in the URL redacted. */
export const where = (target: { url?: string; dataDir?: string }): string =>
  target.url ? redactUrl(target.url) : `PGlite ${target.dataDir}`

/** Closes `db`, ignoring a failure: the command's own outcome matters more. */
export async function closeQuietly(db: Db): Promise<void> {
  try {
    await db.close()
  } catch {
    // Nothing to add to the command's outcome.
  }
}
