import type { App } from 'keel/app'
import { type DatabaseModule, database, openPostgresDb } from 'keel/data'
import { type AnyJobQueue, type JobsModule, jobs } from 'keel/jobs'
import type { LogCapture } from '../../support/log-capture.ts'
import { testApp } from '../../support/test-app.ts'

/** Where a test's jobs live: PGlite (in memory or a data directory) or a PostgreSQL URL. */
export type JobsDatabase = { readonly url: string } | { readonly dataDir?: string }

/** A started app with a database and a jobs module, tuned to poll fast. */
export interface JobsApp {
  readonly app: App
  readonly data: DatabaseModule
  readonly jobs: JobsModule
  readonly logs: LogCapture
}

let schemas = 0

/** A fresh jobs schema name, unique to this process, for tests sharing a PostgreSQL database. */
export const freshJobsSchema = () => `jobs_${process.pid}_${Date.now().toString(36)}_${++schemas}`

/** Drops every schema {@link freshJobsSchema} named in this process; for a file's afterAll. */
export async function dropFreshJobsSchemas(url: string): Promise<void> {
  const db = await openPostgresDb({ url, poolSize: 1 })
  try {
    const rows = await db.query<{ name: string }>(
      'select nspname as name from pg_namespace where nspname like $1',
      [`jobs\\_${process.pid}\\_%`],
    )
    for (const { name } of rows) await db.query(`drop schema ${name} cascade`)
  } finally {
    await db.close()
  }
}

/**
 * Starts an app on `where` with `queues`: workers poll every 0.5 s (pg-boss's least), maintenance
 * (expiry of dead workers' jobs) runs every second. `jobs` overrides the section.
 */
export async function startJobsApp(
  where: JobsDatabase,
  queues: readonly AnyJobQueue[],
  jobsConfig: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Promise<JobsApp> {
  const data = database({ migrations: false })
  const module = jobs({ database: data, queues })
  const { app, logs } = testApp({
    modules: [data, module],
    overrides: {
      ...('url' in where ? { database: { url: where.url } } : {}),
      ...('dataDir' in where && where.dataDir ? { data: { dataDir: where.dataDir } } : {}),
      jobs: { pollingIntervalSeconds: 0.5, maintenanceIntervalSeconds: 1, concurrency: 1, ...jobsConfig },
      ...extra,
    },
  })
  await app.start()
  return { app, data, jobs: module, logs }
}
