import { readFileSync } from 'node:fs'
import { KeelError } from '../errors/index.ts'

/**
 * How a PostgreSQL connection uses TLS, as libpq's `sslmode` names it. `verify-ca` is left out:
 * it checks the chain but not the host name, which protects nothing a `verify-full` does not.
 */
export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-full'

export const sslModes: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-full']

/**
 * postgres.js's `ssl` option for a mode. `require` encrypts without checking the certificate
 * (libpq's meaning, and postgres.js's); `verify-full` checks the chain against `rootCert` (a PEM
 * file; the system's CAs when unset) and the host name.
 */
export function postgresSsl(
  mode: SslMode,
  rootCert?: string,
): false | 'prefer' | 'require' | { ca?: Buffer } {
  if (rootCert !== undefined && mode !== 'verify-full') {
    throw new KeelError(
      'KEEL_DB_CONNECT',
      `a root certificate (${rootCert}) is only used with sslmode verify-full, not ${mode}`,
    )
  }
  switch (mode) {
    case 'disable':
      return false
    case 'prefer':
    case 'require':
      return mode
    case 'verify-full': {
      if (rootCert === undefined) return {}
      try {
        return { ca: readFileSync(rootCert) }
      } catch (error) {
        throw new KeelError(
          'KEEL_DB_CONNECT',
          `cannot read the PostgreSQL root certificate ${rootCert}: ${(error as Error).message}`,
          { cause: error },
        )
      }
    }
  }
}
