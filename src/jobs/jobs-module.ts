import type { Tracer } from '@opentelemetry/api'
import type PgBoss from 'pg-boss'
import type { App, KeelModule, ModuleDescription } from '../app/index.ts'
import type { DatabaseModule } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
import { bossDb, bossDbOn, type TrackedBossDb } from './boss-db.ts'
import { type DeadLetters, deadLettersOn } from './dead-letters.ts'
import { checkJobData } from './job-data.ts'
import { type JobInfo, jobId, jobInfoOf } from './job-info.ts'
import { type FetchedJob, runJob } from './job-runner.ts'
import { jobsSection } from './jobs-section.ts'
import { loadPgBoss } from './load-pg-boss.ts'
import { jobMetrics } from './metrics.ts'
import type { AnyJobQueue, JobData } from './queue.ts'
import { type QueueCounts, queueCounts } from './queue-counts.ts'
import { provisionQueues } from './queue-setup.ts'
import { reconcileSchedules, type ScheduleDescription, scheduleOf } from './schedules.ts'
import { bossSendOptions, type SendOptions } from './send-options.ts'

/** Options of {@link jobs}. */
export interface JobsOptions {
  /** The database module whose `db` holds the jobs; the jobs module starts after it. */
  readonly database: DatabaseModule
  /** The queues this app defines, runs and describes. */
  readonly queues: readonly AnyJobQueue[]
  /** Module name, also the name of its health check. Default `jobs`. */
  readonly name?: string
}

/** A queue as the app description shows it. */
export interface QueueDescription {
  readonly name: string
  readonly schedule: ScheduleDescription | null
  readonly retryLimit: number
  readonly retryDelaySeconds: number
  readonly retryBackoff: boolean
  readonly expireInSeconds: number
  readonly priority: number
  /** Jobs one process runs at once; null before start when the queue leaves it to the config. */
  readonly concurrency: number | null
  readonly deadLetter: string | null
}

/** The jobs module: a {@link KeelModule} that runs background jobs and cron on the app's database. */
export interface JobsModule extends KeelModule {
  readonly config: typeof jobsSection
  readonly queues: readonly AnyJobQueue[]
  /**
   * Sends a job: checks its data against the queue schema, writes it (in `options.tx` when
   * given) and resolves to its id, or null when `id` or `singletonKey` found one already.
   * @throws KeelError `KEEL_JOB_UNKNOWN_QUEUE`, `KEEL_JOB_INVALID_DATA`, `KEEL_JOB_INVALID_OPTIONS`,
   *   `KEEL_APP_STATE` before start.
   */
  send<Q extends AnyJobQueue>(queue: Q, data: JobData<Q>, options?: SendOptions): Promise<string | null>
  send(queue: string, data: Record<string, unknown>, options?: SendOptions): Promise<string | null>
  /** A job by id with its state, from the job table or the archive; null when there is none. */
  getJob(queue: AnyJobQueue | string, id: string): Promise<JobInfo | null>
  /** Jobs per queue of this module and state. */
  counts(): Promise<QueueCounts[]>
  /** List, retry and discard the jobs that failed their last attempt. */
  readonly deadLetters: DeadLetters
  describe(): ModuleDescription & { jobs: QueueDescription[] }
}

/** After the drain time, how long an aborted handler gets to settle before the attempt is given up. */
const graceMs = 500

/** Out of the module's stop deadline, the time kept for the grace, pg-boss's 500 ms poll and last writes. */
const unwindMarginMs = (deadlineMs: number) => Math.min(2000, Math.floor(deadlineMs / 4))

/**
 * Background jobs and cron on PostgreSQL with pg-boss, on the database module's `db` (embedded
 * PGlite or PostgreSQL alike). On start it creates the job schema (`jobs.schema`), provisions the
 * queues and their retry policies, reconciles cron schedules, starts `concurrency` workers per
 * queue, reports `keel_jobs_*` metrics and spans, and adds a non-critical health check. On stop
 * it stops fetching, lets running jobs finish within the drain time, then aborts their signals;
 * a job that still does not finish is failed into a retry, never lost.
 *
 * Delivery is at least once: a job whose worker dies runs again after it expires. Make effects
 * exactly-once by keying them on `ctx.id`, the job id, which stays the same across retries.
 *
 * @example
 * ```ts
 * const data = database()
 * const emails = jobs({ database: data, queues: [welcome] })
 * const app = createApp({ modules: [data, emails] })
 * app.post('/users', async (ctx) => {
 *   const user = await createUser(ctx.body)
 *   await emails.send(welcome, { userId: user.id, email: user.email })
 *   return user
 * })
 * ```
 */
export function jobs(options: JobsOptions): JobsModule {
  const name = options.name ?? 'jobs'
  if (!options.database || typeof options.database.name !== 'string') {
    throw new KeelError(
      'KEEL_JOB_INVALID_QUEUE',
      `module "${name}": options.database must be a database() module`,
    )
  }
  const defined = [...(options.queues ?? [])]
  const byName = new Map<string, AnyJobQueue>()
  for (const queue of defined) {
    if (typeof queue?.name !== 'string' || typeof queue.options?.handler !== 'function') {
      throw new KeelError('KEEL_JOB_INVALID_QUEUE', `module "${name}": queues must be made with queue()`)
    }
    if (byName.has(queue.name)) {
      throw new KeelError('KEEL_JOB_INVALID_QUEUE', `module "${name}": two queues are named "${queue.name}"`)
    }
    byName.set(queue.name, queue)
  }
  for (const queue of defined) {
    const target = queue.options.deadLetter
    if (target !== undefined && !byName.has(target)) {
      throw new KeelError(
        'KEEL_JOB_INVALID_QUEUE',
        `queue "${queue.name}": deadLetter "${target}" is not a queue of module "${name}"`,
      )
    }
  }
  const queueOf = (target: AnyJobQueue | string): AnyJobQueue => {
    const queueName = typeof target === 'string' ? target : target?.name
    const found = typeof queueName === 'string' ? byName.get(queueName) : undefined
    if (!found) {
      throw new KeelError(
        'KEEL_JOB_UNKNOWN_QUEUE',
        `module "${name}" has no queue ${JSON.stringify(queueName)} (it has: ${[...byName.keys()].join(', ') || 'none'})`,
        { status: 404 },
      )
    }
    return found
  }

  let boss: PgBoss | undefined
  let adapter: TrackedBossDb | undefined
  let schema = 'keel_jobs'
  let concurrency: number | undefined
  let drainTimeoutMs: number | undefined
  let isRunning = false
  let removeDepthSource: (() => void) | undefined
  const workerIds = new Map<string, string[]>()
  const inFlight = new Set<AbortController>()

  const started = (): PgBoss => {
    if (!boss) {
      throw new KeelError(
        'KEEL_APP_STATE',
        `module "${name}": jobs can be sent once the app started; send from a handler or after app.start()`,
      )
    }
    return boss
  }
  const wake = (queue: string) => {
    for (const id of workerIds.get(queue) ?? []) boss?.notifyWorker(id)
  }

  async function send(
    target: AnyJobQueue | string,
    data: unknown,
    sendOptions: SendOptions = {},
  ): Promise<string | null> {
    const queue = queueOf(target)
    checkJobData(queue, data, 'at send')
    const mapped = bossSendOptions(queue.name, sendOptions, queue.options.priority ?? 0)
    const running = started()
    const tx = sendOptions.tx
    const id = await running.send(queue.name, data as object, tx ? { ...mapped, db: bossDbOn(tx) } : mapped)
    if (id && !tx && mapped.startAfter === undefined) wake(queue.name)
    return id
  }

  const module: JobsModule = {
    name,
    dependsOn: [options.database.name],
    config: jobsSection,
    queues: defined,
    send: send as JobsModule['send'],
    async getJob(target, id) {
      const queue = queueOf(target)
      if (typeof id !== 'string' || !jobId.test(id)) {
        throw new KeelError(
          'KEEL_JOB_INVALID_OPTIONS',
          `queue "${queue.name}": a job id is a UUID, got ${JSON.stringify(id)}`,
          {
            status: 400,
          },
        )
      }
      const running = started()
      const live = await running.getJobById(queue.name, id)
      if (live) return jobInfoOf(live as unknown as Record<string, unknown>, false)
      const archived = await running.getJobById(queue.name, id, { includeArchive: true })
      return archived ? jobInfoOf(archived as unknown as Record<string, unknown>, true) : null
    },
    counts() {
      started()
      return queueCounts(options.database.db, schema, [...byName.keys()])
    },
    deadLetters: deadLettersOn(
      () => {
        started()
        return options.database.db
      },
      () => schema,
      (queue) => void queueOf(queue),
      wake,
    ),
    get stopTimeoutMs(): number | undefined {
      return drainTimeoutMs === undefined ? undefined : drainTimeoutMs + graceMs + 2500
    },
    async start(app: App) {
      const settings = app.section(jobsSection)
      const log = app.logger('keel:jobs')
      const db = options.database.db
      schema = settings.schema
      concurrency = settings.concurrency
      drainTimeoutMs = settings.drainTimeoutMs
      adapter = bossDb(db)
      const Boss = loadPgBoss()
      const instance = new Boss({
        db: adapter as PgBoss.Db,
        schema,
        pollingIntervalSeconds: settings.pollingIntervalSeconds,
        maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
        archiveCompletedAfterSeconds: settings.archiveCompletedAfterSeconds,
        archiveFailedAfterSeconds: settings.deadLetterRetentionDays * 86_400,
        deleteAfterDays: settings.deleteArchivedAfterDays,
        // The cron clock (an extra worker and timers) runs only when a queue has a schedule.
        schedule: defined.some((queue) => queue.options.cron),
        cronMonitorIntervalSeconds: settings.cronCheckIntervalSeconds,
      })
      instance.on('error', (error: unknown) => log.error({ err: error }, 'pg-boss reported an error'))
      await instance.start()
      try {
        await provisionQueues(db, schema, defined)
        await reconcileSchedules(instance, defined)
        const metrics = jobMetrics(app.metrics.registry)
        const tracing = app.tracing
        const tracer: Tracer | undefined = tracing.enabled ? tracing.tracer : undefined
        for (const queue of defined) {
          const workers = queue.options.concurrency ?? settings.concurrency
          const ids: string[] = []
          workerIds.set(queue.name, ids)
          const runner = {
            queue,
            logger: log,
            metrics: metrics.queue(queue.name),
            inFlight,
            graceMs,
            ...(tracer ? { tracer } : {}),
          }
          for (let k = 0; k < workers; k++) {
            const slot: { id?: string } = {}
            slot.id = await instance.work(
              queue.name,
              {
                batchSize: 1,
                includeMetadata: true,
                pollingIntervalSeconds: settings.pollingIntervalSeconds,
              },
              async ([job]) => {
                // A worker that found a job looks again at once instead of after the polling interval.
                if (slot.id) instance.notifyWorker(slot.id)
                return runJob(job as unknown as FetchedJob, runner)
              },
            )
            ids.push(slot.id)
          }
        }
        let cached: { at: number; counts: ReturnType<typeof depth> } | undefined
        const depth = () =>
          queueCounts(db, schema, [...byName.keys()]).then((all) =>
            all.flatMap(({ queue, ...states }) =>
              Object.entries(states).map(([state, count]) => ({ queue, state, count })),
            ),
          )
        removeDepthSource = metrics.addDepthSource(() => {
          const now = Date.now()
          if (!cached || now - cached.at > settings.depthCacheSeconds * 1000) {
            const counts = depth()
            cached = { at: now, counts }
            counts.catch(() => {
              if (cached?.counts === counts) cached = undefined
            })
          }
          return cached.counts
        })
        app.health.add({
          name,
          critical: false,
          check: () => ({
            ok: isRunning,
            ...(isRunning ? {} : { message: 'the job workers are stopped' }),
            details: { queues: defined.length, activeJobs: inFlight.size },
          }),
        })
      } catch (error) {
        // A failed start is not stopped by the app: leave no worker polling a closing database.
        removeDepthSource?.()
        await instance.stop({ graceful: false, timeout: 1000 }).catch(() => {})
        await adapter.settled()
        throw error
      }
      boss = instance
      isRunning = true
      log.info(
        { queues: defined.map((q) => q.name), schema, concurrency: settings.concurrency, driver: db.driver },
        'job workers started',
      )
    },
    async stop(app: App, signal: AbortSignal) {
      removeDepthSource?.()
      app.health.remove(name)
      const running = boss
      if (!running) return
      const deadlineMs = module.stopTimeoutMs ?? app.config.values.shutdown.moduleTimeoutMs
      const drainMs = drainTimeoutMs ?? Math.max(0, deadlineMs - unwindMarginMs(deadlineMs))
      const interrupt = () => {
        const reason = new KeelError(
          'KEEL_JOB_INTERRUPTED',
          'shutdown: the drain time is over; the job is retried',
        )
        for (const controller of inFlight) controller.abort(reason)
      }
      const timer = setTimeout(interrupt, drainMs)
      // Cut short by the total shutdown deadline: abort the jobs now rather than after drainMs.
      signal.addEventListener('abort', interrupt, { once: true })
      try {
        // Stops fetching, waits for running jobs; the ones our runner gives up on are failed
        // (into a retry) by pg-boss as their attempts reject. The timeout is a backstop.
        await running.stop({ graceful: true, wait: true, timeout: drainMs + graceMs + 1000 })
        await adapter?.settled()
      } finally {
        clearTimeout(timer)
        signal.removeEventListener('abort', interrupt)
        isRunning = false
        boss = undefined
        workerIds.clear()
      }
      app.logger('keel:jobs').info('job workers stopped')
    },
    describe() {
      return {
        jobs: defined.map(({ name: queueName, options: q }) => ({
          name: queueName,
          schedule: scheduleOf(byName.get(queueName)!) ?? null,
          retryLimit: q.retryLimit ?? 2,
          retryDelaySeconds: q.retryDelaySeconds ?? (q.retryBackoff ? 1 : 0),
          retryBackoff: q.retryBackoff ?? false,
          expireInSeconds: q.expireInSeconds ?? 900,
          priority: q.priority ?? 0,
          concurrency: q.concurrency ?? concurrency ?? null,
          deadLetter: q.deadLetter ?? null,
        })),
      }
    },
  }
  return module
}
