import { KeelError } from '../errors/index.ts'
import { redactUrl } from '../log/index.ts'
import { countedSockets } from './counted-sockets.ts'
import type { Db, Queryable } from './db.ts'
import { postgresSsl, type SslMode } from './postgres-tls.ts'

/** Options of {@link openPostgresDb}. */
export interface PostgresDbOptions {
  /** `postgres://user:pass@host:5432/db?sslmode=require` */
  url: string
  /** Pool size. Default 10. */
  poolSize?: number
  /** Server-side `statement_timeout` in ms; 0 means none. Default 0. */
  statementTimeoutMs?: number
  /** Seconds an idle pooled connection stays open; 0 keeps it until the pool closes. Default 30. */
  idleTimeoutSeconds?: number
  /** TLS as libpq's `sslmode`; overrides `sslmode` in the URL. Unset: the URL's, else none. */
  sslmode?: SslMode
  /** PEM file of the CA that signed the server's certificate, for `verify-full`. */
  sslRootCert?: string
  /**
   * Prepare statements with parameters once per connection and reuse them. Default true; false
   * behind a pooler in transaction mode (PgBouncer before 1.21), where a connection's prepared
   * statements do not follow the client.
   */
  prepare?: boolean
}

/**
 * Opens a PostgreSQL pool with postgres.js (loaded only when a URL is configured) and checks
 * that the server answers, so a wrong URL fails at start-up rather than at the first request.
 */
export async function openPostgresDb(options: PostgresDbOptions): Promise<Db> {
  const { default: postgres } = await import('postgres')
  const ssl = options.sslmode ? postgresSsl(options.sslmode, options.sslRootCert) : undefined
  const sockets = countedSockets()
  const sql = postgres(options.url, {
    ...(ssl === undefined ? {} : { ssl }),
    // A documented option (README, "Custom socket") that postgres.js's type definitions leave out.
    ...({ socket: sockets.connect } as object),
    max: options.poolSize ?? 10,
    idle_timeout: options.idleTimeoutSeconds ?? 30,
    connect_timeout: 10,
    onnotice: () => {},
    connection: options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {},
    // PGlite returns int8 as a number while it fits; postgres.js would give a string. Same rows
    // from both drivers matter more than a bigint nobody asked for.
    types: {
      // postgres.js turns a string for a timestamp parameter into a Date before sending it, which
      // drops the microseconds PostgreSQL keeps (PGlite sends the string as written). Strings go
      // as they are; Dates as their ISO text; rows still come back as Dates.
      date: {
        to: 1184,
        from: [1082, 1114, 1184],
        serialize: (value: unknown) => (typeof value === 'string' ? value : (value as Date).toISOString()),
        parse: (value: string) => new Date(value),
      },
      int8: {
        to: 20,
        from: [20],
        serialize: (value: unknown) => String(value),
        parse: (value: string) => (Number.isSafeInteger(Number(value)) ? Number(value) : BigInt(value)),
      },
    },
  })
  try {
    await sql`select 1`
  } catch (error) {
    await sql.end({ timeout: 0 }).catch(() => {})
    throw new KeelError(
      'KEEL_DB_CONNECT',
      `cannot reach PostgreSQL at ${redactUrl(options.url)}: ${error instanceof Error ? error.message : error}${tlsHint(options.sslmode)}`,
      { cause: error },
    )
  }
  type Runner = Pick<typeof sql, 'unsafe'>
  // Statements with parameters are prepared once per connection and reused (the server parses
  // and plans them once); without parameters they go as simple queries, as postgres.js sends them.
  // One options object for every call: postgres.js copies it into each query, never changes it.
  const prepareOptions = options.prepare === false ? {} : { prepare: true }
  const noOptions = {}
  const prepared = (args: unknown[]) => (args.length > 0 ? prepareOptions : noOptions)
  // postgres.js queries are promises already: returned as they are, without an async wrapper
  // (a statement that throws at once, on a bad parameter, still rejects).
  const on = (target: Runner): Queryable => ({
    query<Row>(text: string, params?: readonly unknown[]) {
      try {
        const args = (params ?? []) as never[]
        return target.unsafe(text, args, prepared(args)) as unknown as Promise<Row[]>
      } catch (error) {
        return Promise.reject(error)
      }
    },
  })
  let closed = false
  return {
    driver: 'postgres',
    ...on(sql),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
      sql.begin((tx) => fn(on(tx as unknown as Runner))) as Promise<T>,
    openConnections: () => sockets.open,
    async execute(script) {
      await sql.unsafe(script)
    },
    async close() {
      if (closed) return
      closed = true
      await sql.end({ timeout: 5 })
    },
  }
}

const tlsHint = (mode: SslMode | undefined) =>
  mode === 'require' || mode === 'verify-full'
    ? ` (sslmode ${mode}: the server must accept TLS, and for verify-full present a certificate for this host signed by the trusted CA)`
    : ''
