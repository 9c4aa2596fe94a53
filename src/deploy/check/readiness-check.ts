import type { App } from '../../app/index.ts'
import { type ConfigEntry, describeSource } from '../../config/index.ts'
import type { DeploymentPlan } from '../deployment-plan.ts'

/**
 * How one readiness item came out. `skip` means the item does not apply to this app (no database,
 * no inspector): it is shown, never counted as a failure.
 */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip'

/** One line of the readiness report. */
export interface CheckItem {
  /** Stable identifier, for CI filters and the docs: `secrets`, `database-tls`, `cors`, … */
  readonly id: string
  readonly status: CheckStatus
  /** One line saying what was found. */
  readonly message: string
  /** On warn and fail: what to change, naming the key and where it is set. */
  readonly hint?: string
}

/** What every check reads: the app loaded for the profile, its plan and the command's options. */
export interface CheckContext {
  readonly app: App
  readonly plan: DeploymentPlan
  /** A real database URL to look for pending migrations in; unset: that item is not checked. */
  readonly databaseUrl?: string
  /** Directory of the app's migration files (absolute). */
  readonly migrationsDir: string
  /** Whether `migrationsDir` was chosen (`--migrations`): then it must exist. */
  readonly isMigrationsDirChosen: boolean
}

/** A readiness item: an id and the function that judges it. */
export interface ReadinessCheck {
  readonly id: string
  /** A few words for the docs and `--help`. */
  readonly title: string
  run(context: CheckContext): Omit<CheckItem, 'id'> | Promise<Omit<CheckItem, 'id'>>
}

type Outcome = Omit<CheckItem, 'id'>

/** A passing outcome. */
export const pass = (message: string): Outcome => ({ status: 'pass', message })
/** A warning: worth fixing, does not fail the check unless `--strict`. */
export const warn = (message: string, hint: string): Outcome => ({ status: 'warn', message, hint })
/** A failure: the profile is not ready for production. */
export const fail = (message: string, hint: string): Outcome => ({ status: 'fail', message, hint })
/** The item does not apply to this app. */
export const skip = (message: string): Outcome => ({ status: 'skip', message })

/** The loaded config entry of `key`, if the app has one (optional keys that are unset have none). */
export function entryOf(context: CheckContext, key: string): ConfigEntry | undefined {
  return context.app.config.entries().find((entry) => entry.key === key)
}

/** The value of `key` in the loaded config (`undefined` when unset or unknown). */
export function configValue<T>(context: CheckContext, key: string): T | undefined {
  return entryOf(context, key)?.value as T | undefined
}

/**
 * Where `key` gets its value, as a hint starts: `keel.yaml:12 (profile prod) todo.jwtSecret`, or
 * `data.sslmode (not set)` when nobody set it (a default applies, or nothing does).
 */
export function whereSet(context: CheckContext, key: string): string {
  const entry = entryOf(context, key)
  if (!entry || entry.source.kind === 'default') return `${key} (not set)`
  return `${describeSource(entry.source)} ${key}`
}

/** Whether `key` (or any key under it) was set by someone: a file, the environment or an override. */
export function isChosen(context: CheckContext, key: string): boolean {
  return context.app.config
    .entries()
    .some((e) => (e.key === key || e.key.startsWith(`${key}.`)) && e.source.kind !== 'default')
}
