import { resolve } from 'node:path'
import { type ConfigSection, type LoadedConfig, loadConfig } from '../config/index.ts'
import { type Db, dataSection, type SslMode } from '../data/index.ts'
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

/** The database a command opens: what `openDb` takes. */
export interface DatabaseTarget {
  url?: string
  dataDir?: string
  sslmode?: SslMode
  sslRootCert?: string
}

/**
 * The database a command works on: `--url`, `--data-dir`, `DATABASE_URL`, then the config's
 * `database.url` and `data.dataDir`; with a URL, the config's `data.sslmode` and `data.sslRootCert`
 * too, so the CLI reaches the server over TLS as the app does. Without any database, refuses: the
 * app would use an in-memory PGlite, which the command would create, act on and throw away.
 */
export function databaseTarget(
  flags: DatabaseFlags,
  command: string,
  sections: readonly ConfigSection[] = [],
): DatabaseTarget {
  return databaseTargetWith(flags, command, sections).target
}

/** {@link databaseTarget}, with the config it read (for commands that need more of it). */
export function databaseTargetWith<T = Record<string, unknown>>(
  flags: DatabaseFlags,
  command: string,
  sections: readonly ConfigSection[] = [],
): { target: DatabaseTarget; config: LoadedConfig<T & DataConfig> } {
  if (flags.url !== undefined && flags['data-dir'] !== undefined) {
    throw usageError('--url and --data-dir cannot be combined: one selects PostgreSQL, the other PGlite')
  }
  const config = loadConfig<T & DataConfig>({
    profile: flags.profile,
    sections: [dataSection, ...sections],
    ignoreUnknownSections: true,
  })
  const { sslmode, sslRootCert, dataDir } = config.values.data
  const url =
    flags.url || (flags['data-dir'] ? undefined : process.env.DATABASE_URL || config.values.database.url)
  if (url) {
    return {
      target: {
        url,
        ...(sslmode ? { sslmode } : {}),
        ...(sslRootCert ? { sslRootCert: resolve(sslRootCert) } : {}),
      },
      config,
    }
  }
  const dir = flags['data-dir'] ?? dataDir
  if (dir) return { target: { dataDir: resolve(dir) }, config }
  throw usageError(
    `no database for keel ${command}: pass --url or --data-dir, or set DATABASE_URL, database.url or data.dataDir (profile ${config.profile}); without them the app uses an in-memory PGlite that lives only as long as the app`,
  )
}

interface DataConfig {
  database: { url?: string }
  data: { dataDir?: string; sslmode?: SslMode; sslRootCert?: string }
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
