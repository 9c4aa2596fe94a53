import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { Type } from '@sinclair/typebox'
import type { App, KeelModule, ModuleDescription } from '../app/index.ts'
import { defineConfigSection } from '../config/index.ts'
import { KeelError } from '../errors/index.ts'
import { type Logger, redactUrl } from '../log/index.ts'
import type { Db } from './db.ts'
import { instrumentDb } from './instrument.ts'
import { migrate } from './migrate.ts'
import { appMigrationScope, readMigrationFiles } from './migration-files.ts'
import { openDb } from './open-db.ts'
import { sslModes } from './postgres-tls.ts'

/**
 * The `data` config section. The server URL is the kernel's `database.url` (`DATABASE_URL`);
 * these settings tune whichever driver it selects.
 */
export const dataSection = defineConfigSection('data', {
  dataDir: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'PGlite data directory (relative to the working directory); unset keeps it in memory',
    }),
  ),
  poolSize: Type.Integer({ minimum: 1, default: 10, description: 'PostgreSQL connections in the pool' }),
  poolIdleSeconds: Type.Integer({
    minimum: 0,
    default: 30,
    description: 'seconds an idle PostgreSQL connection stays open; 0 keeps it until the pool closes',
  }),
  statementTimeoutMs: Type.Integer({
    minimum: 0,
    default: 0,
    description: 'PostgreSQL statement_timeout; 0 means none',
  }),
  sslmode: Type.Optional(
    Type.Union(
      sslModes.map((mode) => Type.Literal(mode)),
      {
        description:
          "PostgreSQL TLS: disable, prefer, require (encrypt, no certificate check) or verify-full (check the certificate and host name); unset: the URL's sslmode, else none",
      },
    ),
  ),
  sslRootCert: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'PEM file of the CA that signed the PostgreSQL server certificate, for verify-full',
    }),
  ),
  prepareStatements: Type.Boolean({
    default: true,
    description:
      'PostgreSQL: prepare statements with parameters once per connection; false behind a transaction-mode pooler (PgBouncer before 1.21)',
  }),
  slowQueryMs: Type.Integer({
    minimum: 0,
    default: 500,
    description: 'statements slower than this are logged at warn; 0 turns the log off',
  }),
  migrateOnStart: Type.Optional(
    Type.Boolean({
      description:
        'apply the migration files on start; unset: yes in the dev and test profiles, no elsewhere',
    }),
  ),
})

/** Options of {@link database}. */
export interface DatabaseOptions {
  /** Module name, also the name of its health check. Default `database`. */
  name?: string
  /**
   * Directory of migration files ({@link readMigrationFiles}) applied on start when
   * `data.migrateOnStart` allows it (by default in the dev and test profiles only). Relative to
   * the service root (createApp's `root`, else the working directory). Default: `migrations`
   * there, when it exists. `false` never migrates.
   */
  migrations?: string | false
}

/** The database module: a {@link KeelModule} that holds the app's {@link Db} once started. */
export interface DatabaseModule extends KeelModule {
  readonly config: typeof dataSection
  /** The open, instrumented database. @throws KeelError `KEEL_APP_STATE` before the app started. */
  readonly db: Db
}

/**
 * The app's database as a module. On start it opens PostgreSQL when `database.url` is set and
 * embedded PGlite otherwise (in `data.dataDir`, or in memory), measures every statement into the
 * app's metrics (`keel_db_*`), logs slow statements from `keel:data`, and adds a critical health
 * check that runs `select 1`. In the dev and test profiles (or as `data.migrateOnStart` says) it
 * first applies the app's migration files, and a failing one fails the start. On stop it closes
 * the database.
 *
 * @example
 * ```ts
 * const data = database()
 * const app = createApp({ modules: [data] })
 * app.get('/users/:id', async (ctx) => {
 *   const [user] = await data.db.query('select id, name from users where id = $1', [ctx.params.id])
 *   return user
 * })
 * ```
 */
export function database(options: DatabaseOptions = {}): DatabaseModule {
  const name = options.name ?? 'database'
  let db: Db | undefined
  let url: string | undefined
  return {
    name,
    config: dataSection,
    get db(): Db {
      if (!db) {
        throw new KeelError(
          'KEEL_APP_STATE',
          `module "${name}": the database opens when the app starts; read .db from a handler or after app.start()`,
        )
      }
      return db
    },
    async start(app: App) {
      const settings = app.section(dataSection)
      url = app.config.values.database.url
      const raw = await openDb({
        url,
        dataDir: settings.dataDir,
        poolSize: settings.poolSize,
        idleTimeoutSeconds: settings.poolIdleSeconds,
        statementTimeoutMs: settings.statementTimeoutMs,
        prepare: settings.prepareStatements,
        ...(settings.sslmode ? { sslmode: settings.sslmode } : {}),
        ...(settings.sslRootCert ? { sslRootCert: settings.sslRootCert } : {}),
      })
      const log = app.logger('keel:data')
      try {
        await migrateOnStart(app, raw, settings.migrateOnStart, options.migrations, log)
        // The check uses the raw handle: probes are not the app's queries.
        app.health.add({ name, critical: true, check: () => raw.query('select 1').then(() => {}) })
      } catch (error) {
        await raw.close()
        throw error
      }
      db = instrumentDb(raw, {
        registry: app.metrics.registry,
        logger: log,
        slowQueryMs: settings.slowQueryMs,
        poolMax: raw.driver === 'postgres' ? settings.poolSize : 1,
      })
      log.info(
        url
          ? { driver: raw.driver, url: redactUrl(url) }
          : { driver: raw.driver, dataDir: settings.dataDir ?? ':memory:' },
        `database open (${raw.driver})`,
      )
    },
    async stop(app: App) {
      app.health.remove(name)
      await db?.close()
    },
    describe(): ModuleDescription {
      // `stores` says what the app keeps its data in whatever the driver today: a deployment with
      // replicas needs PostgreSQL even where development runs on PGlite.
      const stores = { stores: ['postgres'] }
      return db
        ? { services: url ? ['postgres'] : [], driver: db.driver, ...stores }
        : { services: [], ...stores }
    },
  }
}

/**
 * Applies the app's migration files when the profile allows it. A directory named by the option
 * must exist; the default one is optional. A failing or edited migration rejects, failing start.
 */
async function migrateOnStart(
  app: App,
  db: Db,
  enabled: boolean | undefined,
  option: string | false | undefined,
  log: Logger,
): Promise<void> {
  if (option === false) return
  if (!(enabled ?? ['dev', 'test'].includes(app.config.profile))) return
  const dir = resolve(app.config.root, option ?? 'migrations')
  if (option === undefined && !existsSync(dir)) return
  const { applied } = await migrate(db, appMigrationScope, await readMigrationFiles(dir))
  if (applied.length > 0) log.info({ applied, dir }, `applied ${applied.length} migration(s)`)
}
