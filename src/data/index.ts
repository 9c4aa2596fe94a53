export { type DatabaseModule, type DatabaseOptions, database, dataSection } from './database-module.ts'
export type { Db, Queryable } from './db.ts'
export { GroupCommit } from './group-commit.ts'
export { type DbOperation, type InstrumentDbOptions, instrumentDb } from './instrument.ts'
export {
  type MigrateResult,
  type Migration,
  type MigrationState,
  type MigrationStatus,
  migrate,
  migrationStatus,
  type RollbackOptions,
  type RollbackResult,
  rollback,
} from './migrate.ts'
export { appMigrationScope, parseMigrationFile, readMigrationFiles } from './migration-files.ts'
export { type OpenDbOptions, openDb } from './open-db.ts'
export { openPgliteDb } from './pglite-db.ts'
export { openPostgresDb, type PostgresDbOptions } from './postgres-db.ts'
export { type SslMode, sslModes } from './postgres-tls.ts'
