import { resolve } from 'node:path'
import type { App } from '../../app/index.ts'
import { deploymentPlan } from '../deployment-plan.ts'
import { placeholderNames } from '../placeholder.ts'
import { corsCheck } from './cors.ts'
import { databaseTlsCheck } from './database-tls.ts'
import { databaseUrlCheck } from './database-url.ts'
import { inspectorCheck } from './inspector.ts'
import { migrationsCheck } from './migrations.ts'
import { logFormatCheck, metricsCheck, tracingCheck } from './observability.ts'
import { probesCheck } from './probes.ts'
import { rateLimitsCheck } from './rate-limits.ts'
import type { CheckContext, CheckItem, CheckStatus, ReadinessCheck } from './readiness-check.ts'
import { resourcesCheck } from './resources.ts'
import { secretsCheck } from './secrets.ts'
import { serverHostCheck } from './server-host.ts'
import { drainDelayCheck, shutdownDeadlineCheck } from './shutdown.ts'

/** Every readiness item, in the order the report shows them. */
export const readinessChecks: readonly ReadinessCheck[] = [
  secretsCheck,
  databaseTlsCheck,
  databaseUrlCheck,
  migrationsCheck,
  probesCheck,
  resourcesCheck,
  shutdownDeadlineCheck,
  drainDelayCheck,
  serverHostCheck,
  corsCheck,
  rateLimitsCheck,
  inspectorCheck,
  logFormatCheck,
  tracingCheck,
  metricsCheck,
]

/** The outcome of {@link checkReadiness}. */
export interface ReadinessReport {
  readonly profile: string
  readonly service: string
  readonly items: CheckItem[]
  /** How many items came out each way. */
  readonly summary: Record<CheckStatus, number>
}

/** Options of {@link checkReadiness}. */
export interface CheckReadinessOptions {
  /** The entry module, as `deploymentPlan` takes it. */
  entry: string
  /**
   * PostgreSQL to look for pending migrations in. Default: `DATABASE_URL` when it holds a real
   * URL (not a `keel gen` placeholder); unset: the migrations item warns that it was not checked.
   */
  databaseUrl?: string
  /**
   * Directory of migration files, absolute or relative to the app's root (createApp's `root`).
   * Default: `migrations` there; a chosen directory must exist.
   */
  migrationsDir?: string
}

/**
 * Judges the production readiness of an app loaded for a profile (`loadAppForDeploy`): secrets,
 * database TLS and migrations, probes, resources, shutdown timing, CORS, rate limits, the
 * inspector and the operations basics. Every item says pass, warn, fail or skip in one line, with
 * a hint naming the key to change on warn and fail. Nothing is started; only the migrations item
 * connects, and only when given a database URL.
 *
 * @example
 * ```ts
 * const app = await loadAppForDeploy('app.ts', 'prod')
 * const report = await checkReadiness(app, { entry: 'app.ts' })
 * if (report.summary.fail > 0) process.exitCode = 1
 * ```
 */
export async function checkReadiness(app: App, options: CheckReadinessOptions): Promise<ReadinessReport> {
  const plan = deploymentPlan(app, { entry: options.entry })
  const databaseUrl = options.databaseUrl ?? realUrl(process.env.DATABASE_URL)
  const context: CheckContext = {
    app,
    plan,
    ...(databaseUrl ? { databaseUrl } : {}),
    migrationsDir: resolve(app.config.root, options.migrationsDir ?? 'migrations'),
    isMigrationsDirChosen: options.migrationsDir !== undefined,
  }
  const items: CheckItem[] = []
  for (const check of readinessChecks) {
    const outcome = await check.run(context)
    items.push({ id: check.id, ...outcome })
  }
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0, skip: 0 }
  for (const item of items) summary[item.status]++
  return { profile: plan.profile, service: plan.name, items, summary }
}

/** `DATABASE_URL` when it is a URL someone set, not a placeholder left by a deploy load. */
function realUrl(value: string | undefined): string | undefined {
  if (!value || placeholderNames(value).length > 0) return undefined
  return value
}
