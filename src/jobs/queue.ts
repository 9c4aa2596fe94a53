import type { Static, TSchema } from '@sinclair/typebox'
import { KeelError } from '../errors/index.ts'
import type { Logger } from '../log/index.ts'

/** What a job handler gets besides its data. */
export interface JobContext {
  /** The job id: stable across retries, the idempotency key of the job's effects. */
  readonly id: string
  /** The queue's name. */
  readonly queue: string
  /** 1 on the first attempt, 2 on the first retry, … */
  readonly attempt: number
  /** Retries already spent (`attempt - 1`). */
  readonly retryCount: number
  /** Retries the job may spend before it becomes a dead letter. */
  readonly retryLimit: number
  /** Aborts when the job expires (`expireInSeconds`) or when shutdown's drain time is over. */
  readonly signal: AbortSignal
  /** `keel:jobs` with `queue` and `job_id` bound. */
  readonly logger: Logger
}

/** A job handler: resolves to complete the job, throws (or rejects) to fail this attempt. */
export type JobHandler<Data> = (data: Data, ctx: JobContext) => Promise<unknown> | unknown

/** A cron schedule that sends one job to its queue whenever the expression fires. */
export interface CronSchedule<Data> {
  /** A 5-field (or 6-field, with seconds) cron expression: `*\/5 * * * *`. */
  readonly expression: string
  /** The data of each scheduled job; checked against the queue schema at start. */
  readonly data: Data
  /** IANA time zone the expression is read in. Default `UTC`. */
  readonly tz?: string
}

/** Options of {@link queue}. */
export interface QueueOptions<S extends TSchema> {
  /** TypeBox schema of the job data: an object. Checked at `send` and again before the handler runs. */
  readonly data: S
  /** Runs each job with its checked data. */
  readonly handler: JobHandler<Static<S>>
  /** Retries after the first failed attempt before the job is dead. Default 2. */
  readonly retryLimit?: number
  /** Seconds between attempts (the base delay with `retryBackoff`). Default 0; 1 with backoff. */
  readonly retryDelaySeconds?: number
  /** Exponential backoff with jitter: about `retryDelaySeconds * 2^retry`. Default false. */
  readonly retryBackoff?: boolean
  /** Default priority of sent jobs: higher runs first. Default 0. */
  readonly priority?: number
  /** An attempt running longer than this fails (and its signal aborts). Default 900 (15 min). */
  readonly expireInSeconds?: number
  /** Jobs of this queue one process runs at once. Default: `jobs.concurrency`. */
  readonly concurrency?: number
  /**
   * Another queue of the same module that also receives each dead letter (its data, with the
   * error as output), for a handler that reacts: alert, compensate, notify.
   */
  readonly deadLetter?: string
  /** Sends a job on this schedule (pg-boss keeps one schedule per queue). */
  readonly cron?: CronSchedule<Static<S>>
}

/**
 * A typed job queue: its name, data schema, handler and policies. Defined once, passed to
 * {@link jobs} (which runs it) and to `send` (which types the data).
 *
 * @example
 * ```ts
 * const welcome = queue('welcome-email', {
 *   data: Type.Object({ userId: Type.String(), email: Type.String({ format: 'email' }) }),
 *   retryLimit: 5,
 *   retryDelaySeconds: 10,
 *   retryBackoff: true,
 *   handler: async ({ userId, email }, ctx) => mailer.send(email, { userId, idempotencyKey: ctx.id }),
 * })
 * ```
 */
export interface JobQueue<S extends TSchema = TSchema> {
  readonly name: string
  readonly options: QueueOptions<S>
}

/** Any queue, whatever its data. */
// biome-ignore lint/suspicious/noExplicitAny: a queue's handler takes its own data type; any list holds many.
export type AnyJobQueue = JobQueue<any>

/** The data type a queue accepts. */
export type JobData<Q extends AnyJobQueue> = Q extends JobQueue<infer S> ? Static<S> : never

/** Queue names pg-boss and SQL identifiers both accept; `.` and `-` allowed, 1-100 chars. */
const queueName = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/
const cronShape = /^\s*\S+(\s+\S+){4,5}\s*$/

/**
 * Defines a typed job queue. Bad options fail here, at definition, naming the queue and option.
 *
 * @example
 * ```ts
 * const report = queue('nightly-report', {
 *   data: Type.Object({ day: Type.Optional(Type.String()) }),
 *   cron: { expression: '0 3 * * *', data: {}, tz: 'Europe/Paris' },
 *   handler: async (data, ctx) => buildReport(data.day, ctx.signal),
 * })
 * ```
 * @throws KeelError `KEEL_JOB_INVALID_QUEUE`
 */
export function queue<S extends TSchema>(name: string, options: QueueOptions<S>): JobQueue<S> {
  const fail = (what: string) => new KeelError('KEEL_JOB_INVALID_QUEUE', `queue "${name}": ${what}`)
  if (typeof name !== 'string' || !queueName.test(name) || name.startsWith('__pgboss')) {
    throw new KeelError(
      'KEEL_JOB_INVALID_QUEUE',
      `queue name ${JSON.stringify(name)}: expected 1-100 letters, digits, "_", "." or "-", not starting with "__pgboss"`,
    )
  }
  if (typeof options !== 'object' || options === null) throw fail('options are required')
  const schema = options.data as TSchema | undefined
  if (typeof schema !== 'object' || schema === null) throw fail('data: a TypeBox object schema is required')
  if (typeof schema.type === 'string' && schema.type !== 'object') {
    throw fail(`data: job data is a JSON object, the schema says type "${schema.type}"`)
  }
  if (typeof options.handler !== 'function') throw fail('handler: expected a function')
  const integer = (key: keyof QueueOptions<S>, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const value = options[key]
    if (value === undefined) return
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw fail(`${key}: expected an integer ${min}-${max}, got ${JSON.stringify(value)}`)
    }
  }
  integer('retryLimit', 0, 1000)
  integer('retryDelaySeconds', 0)
  integer('priority', -1_000_000, 1_000_000)
  // pg-boss caps expiry below 24 hours.
  integer('expireInSeconds', 1, 86_399)
  integer('concurrency', 1, 1000)
  if (options.retryBackoff !== undefined && typeof options.retryBackoff !== 'boolean') {
    throw fail('retryBackoff: expected a boolean')
  }
  if (options.deadLetter !== undefined) {
    if (typeof options.deadLetter !== 'string' || !queueName.test(options.deadLetter)) {
      throw fail(`deadLetter: expected a queue name, got ${JSON.stringify(options.deadLetter)}`)
    }
    if (options.deadLetter === name) throw fail('deadLetter: a queue cannot be its own dead-letter queue')
  }
  const cron = options.cron
  if (cron !== undefined) {
    if (typeof cron !== 'object' || cron === null || typeof cron.expression !== 'string') {
      throw fail('cron: expected { expression, data, tz? }')
    }
    if (!cronShape.test(cron.expression)) {
      throw fail(`cron.expression: expected 5 or 6 fields, got ${JSON.stringify(cron.expression)}`)
    }
    if (cron.tz !== undefined && (typeof cron.tz !== 'string' || cron.tz.length === 0)) {
      throw fail('cron.tz: expected an IANA time zone name')
    }
  }
  return Object.freeze({ name, options: Object.freeze({ ...options }) })
}
