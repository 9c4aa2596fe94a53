import type { Db } from './db.ts'
import { openPgliteDb } from './pglite-db.ts'
import { openPostgresDb, type PostgresDbOptions } from './postgres-db.ts'

/** Options of {@link openDb}: a URL selects PostgreSQL, otherwise embedded PGlite. */
export interface OpenDbOptions extends Partial<PostgresDbOptions> {
  /** Directory for PGlite's files; unset keeps the embedded database in memory. */
  dataDir?: string
}

/**
 * Opens the app's database: PostgreSQL when `url` is set (`DATABASE_URL`), embedded PGlite
 * otherwise, so `npm start` works on a bare machine and production points at a server.
 */
export function openDb(options: OpenDbOptions = {}): Promise<Db> {
  if (options.url) return openPostgresDb({ ...options, url: options.url })
  return openPgliteDb(options.dataDir ? { dataDir: options.dataDir } : {})
}
