import { describeSource } from '../../config/index.ts'
import { configValue, entryOf, pass, type ReadinessCheck, skip, warn } from './readiness-check.ts'

/**
 * The profile points the app at PostgreSQL by configuration. Without `database.url` the app uses
 * DATABASE_URL when the pod has it and silently falls back to embedded PGlite when it does not:
 * each replica then keeps its own data. `database.url: ${DATABASE_URL}` (no default) makes a
 * missing variable fail the start instead.
 */
export const databaseUrlCheck: ReadinessCheck = {
  id: 'database-url',
  title: 'the profile requires a database server',
  run(context) {
    const { plan } = context
    if (!plan.services.includes('postgres')) return skip('the app uses no database')
    const url = entryOf(context, 'database.url')
    if (url?.value) return pass(`database.url from ${describeSource(url.source)}`)
    const dataDir = configValue<string>(context, 'data.dataDir')
    return warn(
      `database.url is not set in profile ${plan.profile}: without DATABASE_URL the app starts on embedded PGlite (${dataDir ?? 'in memory'}), which replicas do not share`,
      `database.url (not set): add database.url: \${DATABASE_URL} to profiles.${plan.profile} of keel.yaml, so a missing variable fails the start`,
    )
  },
}
