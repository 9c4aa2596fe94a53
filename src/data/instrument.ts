import type { Registry } from 'prom-client'
import type { Logger } from '../log/index.ts'
import { BoundCounter, BoundGauge, BoundHistogram, perRegistry, SampledGauge } from '../telemetry/index.ts'
import type { Db, Queryable } from './db.ts'

/** Options of {@link instrumentDb}. */
export interface InstrumentDbOptions {
  /** Where the `keel_db_*` metrics go (`app.metrics.registry`); unset records none. */
  registry?: Registry
  /** Where slow statements are logged at warn; unset logs none. */
  logger?: Logger
  /** A statement that runs longer than this is logged; 0 turns the log off. Default 500. */
  slowQueryMs?: number
  /**
   * Connections the driver may open (`data.poolSize` for PostgreSQL, 1 for PGlite), published as
   * `keel_db_pool_max` so that in-flight statements read as a share of the pool: at or above 1
   * statements queue for a connection. Also marks a slow statement that started with every
   * connection busy (`queued: true` in the slow-query log): its duration includes the wait.
   */
  poolMax?: number
}

/** The `operation` label: the statement's first keyword. */
export type DbOperation = 'select' | 'insert' | 'update' | 'delete' | 'other'

/**
 * Wraps a {@link Db} so that every statement, inside transactions too, is measured: duration,
 * count by outcome and statements in flight, by driver and operation, plus transactions by
 * outcome. A statement slower than `slowQueryMs` is logged at warn with its SQL text (collapsed
 * and cut at 200 characters), never with its parameters.
 *
 * @example
 * ```ts
 * const db = instrumentDb(await openDb(), {
 *   registry: app.metrics.registry,
 *   logger: app.logger('keel:data'),
 *   slowQueryMs: 200,
 * })
 * await db.query('select * from users where id = $1', [id]) // keel_db_queries_total{operation="select"}
 * ```
 */
export function instrumentDb(db: Db, options: InstrumentDbOptions = {}): Db {
  const probe = createProbe(db.driver, options)
  const queryable = new MeasuredQueryable(db, probe)
  // Read at scrape time: the pool opens and closes connections without telling anyone.
  const connections = options.registry
    ? dbMetrics(options.registry).poolConnections.labels(db.driver)
    : undefined
  const readConnections = () => db.openConnections()
  connections?.add(readConnections)
  return {
    driver: db.driver,
    query: queryable.query.bind(queryable),
    openConnections: readConnections,
    async transaction(fn) {
      // An open transaction holds a connection, statement or not.
      probe.held++
      try {
        const result = await db.transaction((tx) => fn(new MeasuredQueryable(tx, probe, true)))
        probe.commits.inc()
        return result
      } catch (error) {
        probe.rollbacks.inc()
        throw error
      } finally {
        probe.held--
      }
    },
    async execute(script) {
      const series = probe.series[operationOf(script)]
      const queued = probe.start(false)
      const startedAt = performance.now()
      let outcome = series.error
      try {
        await db.execute(script)
        outcome = series.ok
      } finally {
        probe.finish(script, series, outcome, startedAt, queued)
      }
    },
    async close() {
      try {
        await db.close()
      } finally {
        connections?.delete(readConnections)
      }
    },
  }
}

/** Runs statements on `target` and records each one on the probe. */
class MeasuredQueryable implements Queryable {
  readonly #target: Queryable
  readonly #probe: Probe
  /** Inside a transaction, whose connection is its own: a statement there never waits for the pool. */
  readonly #inTransaction: boolean

  constructor(target: Queryable, probe: Probe, inTransaction = false) {
    this.#target = target
    this.#probe = probe
    this.#inTransaction = inTransaction
  }

  // then() rather than async/await: one promise per statement instead of two, on the hot path.
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    const probe = this.#probe
    const series = probe.series[operationOf(sql)]
    const queued = probe.start(this.#inTransaction)
    const startedAt = performance.now()
    let running: Promise<Row[]>
    try {
      running = this.#target.query<Row>(sql, params)
    } catch (error) {
      probe.finish(sql, series, series.error, startedAt, queued)
      return Promise.reject(error)
    }
    return running.then(
      (rows) => {
        probe.finish(sql, series, series.ok, startedAt, queued)
        return rows
      },
      (error: unknown) => {
        probe.finish(sql, series, series.error, startedAt, queued)
        throw error
      },
    )
  }
}

interface Increment {
  inc(): void
}

/** The series of one operation, bound to their labels once so a statement builds no label object. */
interface OperationSeries {
  readonly duration: { observe(seconds: number): void }
  readonly ok: Increment
  readonly error: Increment
}

/** What one instrumented Db records into, bound once to its driver. */
interface Probe {
  readonly series: Readonly<Record<DbOperation, OperationSeries>>
  readonly commits: Increment
  readonly rollbacks: Increment
  /**
   * Connections busy as far as this Db can tell: statements outside transactions running now,
   * plus open transactions.
   */
  held: number
  /**
   * A statement starts: counted in flight, and whether it started with every connection busy
   * (`undefined` inside a transaction, whose connection is its own).
   */
  start(inTransaction: boolean): boolean | undefined
  finish(
    sql: string,
    series: OperationSeries,
    outcome: Increment,
    startedAt: number,
    queued: boolean | undefined,
  ): void
}

const operations: readonly DbOperation[] = ['select', 'insert', 'update', 'delete', 'other']
const noop = { inc() {}, observe() {} }

function createProbe(driver: Db['driver'], options: InstrumentDbOptions): Probe {
  const metrics = options.registry ? dbMetrics(options.registry) : undefined
  const series = {} as Record<DbOperation, OperationSeries>
  for (const operation of operations) {
    series[operation] = metrics
      ? {
          duration: metrics.duration.labels(driver, operation),
          ok: metrics.queries.labels(driver, operation, 'ok'),
          error: metrics.queries.labels(driver, operation, 'error'),
        }
      : { duration: noop, ok: noop, error: noop }
  }
  const inFlight = metrics ? metrics.inFlight.labels(driver) : noop
  if (metrics && options.poolMax !== undefined) metrics.poolMax.labels(driver).value = options.poolMax
  const logger = options.logger
  const slowQueryMs = options.slowQueryMs ?? 500
  const slowAfterMs = logger && slowQueryMs > 0 ? slowQueryMs : Number.POSITIVE_INFINITY
  const poolMax = options.poolMax ?? Number.POSITIVE_INFINITY
  return {
    series,
    commits: metrics ? metrics.transactions.labels(driver, 'commit') : noop,
    rollbacks: metrics ? metrics.transactions.labels(driver, 'rollback') : noop,
    held: 0,
    start(inTransaction) {
      inFlight.inc()
      if (inTransaction) return undefined
      return this.held++ >= poolMax
    },
    finish(sql, statement, outcome, startedAt, queued) {
      const ms = performance.now() - startedAt
      inFlight.inc(-1)
      if (queued !== undefined) this.held--
      statement.duration.observe(ms / 1000)
      outcome.inc()
      if (ms > slowAfterMs) logger!.warn(slowQueryFields(sql, ms, queued), 'slow query')
    },
  }
}

/** The `keel_db_*` metrics of one registry. */
interface DbMetrics {
  readonly duration: BoundHistogram
  readonly queries: BoundCounter
  readonly inFlight: BoundGauge
  readonly poolMax: BoundGauge
  readonly poolConnections: SampledGauge
  readonly transactions: BoundCounter
}

/** Statement latency buckets in seconds: 0.5 ms to 10 s. */
const durationBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The database metrics on `registry`, created on first use and shared by every Db using it.
 * Bound metrics (telemetry/bound-metrics.ts): prom-client hashes the labels inside every observe,
 * even on a child, and every statement records three series.
 */
const dbMetrics = perRegistry(
  (registry: Registry): DbMetrics => ({
    duration: new BoundHistogram({
      name: 'keel_db_query_duration_seconds',
      help: 'Database statement duration, by driver and operation (first SQL keyword)',
      labelNames: ['driver', 'operation'],
      buckets: durationBuckets,
      registry,
    }),
    queries: new BoundCounter({
      name: 'keel_db_queries_total',
      help: 'Database statements run, by driver, operation and outcome (ok, error)',
      labelNames: ['driver', 'operation', 'outcome'],
      registry,
    }),
    inFlight: new BoundGauge({
      name: 'keel_db_queries_in_flight',
      help: 'Database statements running now',
      labelNames: ['driver'],
      registry,
    }),
    poolMax: new BoundGauge({
      name: 'keel_db_pool_max',
      help: 'Connections the database pool may open; keel_db_queries_in_flight above it wait for one',
      labelNames: ['driver'],
      registry,
    }),
    poolConnections: new SampledGauge({
      name: 'keel_db_pool_connections',
      help: 'Connections the database pool has open now (opened on demand up to keel_db_pool_max, idle ones closed)',
      labelNames: ['driver'],
      registry,
    }),
    transactions: new BoundCounter({
      name: 'keel_db_transactions_total',
      help: 'Database transactions finished, by driver and outcome (commit, rollback)',
      labelNames: ['driver', 'outcome'],
      registry,
    }),
  }),
)

/**
 * The operation of a statement: its first keyword, past whitespace, comments and opening
 * parentheses. Anything but select/insert/update/delete (`with`, DDL, `begin`) is `other`.
 */
export function operationOf(sql: string): DbOperation {
  let i = 0
  const length = sql.length
  while (i < length) {
    const c = sql.charCodeAt(i)
    if (c === 32 || c === 40 || (c >= 9 && c <= 13)) i++
    else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i)
      i = end === -1 ? length : end + 1
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2)
      i = end === -1 ? length : end + 2
    } else break
  }
  // The four keywords are all six letters long; the seventh character must end the word.
  if (isWordChar(sql.charCodeAt(i + 6))) return 'other'
  // Compared in place, case-insensitively, rather than through slice().toLowerCase(): this runs
  // for every statement and then allocates nothing.
  for (const operation of keywords) {
    if (isKeywordAt(sql, i, operation)) return operation
  }
  return 'other'
}

const keywords = ['select', 'insert', 'update', 'delete'] as const

/** Whether `sql` holds the lower-case ASCII `word` at `i`, in any case (`| 32` lower-cases A-Z only onto a-z). */
function isKeywordAt(sql: string, i: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) {
    if ((sql.charCodeAt(i + k) | 32) !== word.charCodeAt(k)) return false
  }
  return true
}

/** Letters, digits, `_` and `$` continue an identifier; NaN (past the end) does not. */
const isWordChar = (c: number) =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127

/** The SQL text for the slow-query log: whitespace collapsed to single spaces, at most 200 characters. */
export function statementText(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().slice(0, 200)
}

/**
 * A statement's name, from a comment that opens it: `/* name: todos.list *\/` (what resource
 * routes send) or sqlc's `-- name: ListTodos`. The comment travels to the server too, so the
 * name shows in `pg_stat_activity` and `pg_stat_statements`.
 */
const namePattern = /^\s*(?:\/\*\s*name:\s*([^\s*]+)\s*\*\/|--\s*name:\s*(\S+)[^\n]*(?:\n|$))/

/** What the slow-query log says of a statement: its name if it has one, its text, never its parameters. */
function slowQueryFields(sql: string, ms: number, queued: boolean | undefined): Record<string, unknown> {
  const named = namePattern.exec(sql)
  return {
    ...(named ? { name: named[1] ?? named[2] } : {}),
    statement: statementText(named ? sql.slice(named[0].length) : sql),
    duration_ms: Math.round(ms),
    ...(queued ? { queued: true } : {}),
  }
}
