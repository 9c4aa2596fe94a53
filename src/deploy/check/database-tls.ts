import { placeholderNames } from '../placeholder.ts'
import { configValue, fail, pass, type ReadinessCheck, skip, warn, whereSet } from './readiness-check.ts'

const modeInUrl = /[?&]sslmode=([a-z-]+)/

/**
 * The app reaches PostgreSQL over TLS that checks the server: `data.sslmode: verify-full` passes,
 * `require` (and libpq's `verify-ca`) warn, since they encrypt without checking the host name, and
 * `prefer`, `allow` or `disable` fail: an attacker on the path gets the password and the data.
 * Unset, the URL's own `sslmode` decides, which keel check can only see in a literal URL.
 */
export const databaseTlsCheck: ReadinessCheck = {
  id: 'database-tls',
  title: 'database connections use verified TLS',
  run(context) {
    if (!context.plan.services.includes('postgres')) return skip('the app uses no PostgreSQL')
    const configured = configValue<string>(context, 'data.sslmode')
    const url = configValue<string>(context, 'database.url')
    const fromUrl = url && placeholderNames(url).length === 0 ? modeInUrl.exec(url)?.[1] : undefined
    const mode = configured ?? fromUrl
    const key = configured ? 'data.sslmode' : 'database.url'
    const fix = `set data.sslmode: verify-full in profiles.${context.plan.profile} (and data.sslRootCert to the CA's PEM file when the server's certificate is not signed by a public CA)`
    if (mode === undefined) {
      return warn(
        'data.sslmode is not set: TLS depends on the sslmode of DATABASE_URL, which keel check cannot see',
        `${whereSet(context, 'data.sslmode')}: ${fix}`,
      )
    }
    if (mode === 'verify-full')
      return pass(`sslmode verify-full (${key}): encrypted, certificate and host name checked`)
    if (mode === 'require' || mode === 'verify-ca')
      return warn(
        `sslmode ${mode} (${key}): encrypted, but the server's host name is not checked`,
        `${whereSet(context, key)}: ${fix}`,
      )
    return fail(
      `sslmode ${mode} (${key}): the connection may be plain text`,
      `${whereSet(context, key)}: ${fix}`,
    )
  },
}
