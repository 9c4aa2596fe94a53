import { context as otelContext, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api'
import { KeelError } from '../errors/index.ts'
import type { Logger } from '../log/index.ts'
import { checkJobData } from './job-data.ts'
import type { JobOutcome, QueueMetrics } from './metrics.ts'
import type { AnyJobQueue, JobContext } from './queue.ts'

/** A job as pg-boss's `work` hands it over (`includeMetadata: true`); the fields Keel reads. */
export interface FetchedJob {
  id: string
  name: string
  data: unknown
  retryCount: number
  retryLimit: number
  /** pg-boss gives the `numeric` as a string. */
  expireInSeconds: number | string
}

/** What one process's jobs share: the in-flight set that shutdown aborts. */
export interface JobRunnerOptions {
  readonly queue: AnyJobQueue
  readonly logger: Logger
  readonly metrics: QueueMetrics
  readonly tracer?: Tracer
  /** Running jobs; shutdown aborts each controller when the drain time is over. */
  readonly inFlight: Set<AbortController>
  /**
   * After a job's signal aborts, how long its handler gets to settle before the attempt is
   * given up as interrupted (and pg-boss retries it). The handler keeps running unobserved.
   */
  readonly graceMs: number
}

/**
 * Runs one fetched job: checks its data against the queue schema, calls the handler with a
 * signal that aborts at the job's expiry or at the end of shutdown's drain, and records the
 * attempt (metrics, span, log). Resolves to the handler's result (pg-boss completes the job);
 * rejects when the handler throws or the attempt is interrupted (pg-boss fails it: retry, or a
 * dead letter after the last retry).
 */
export async function runJob(job: FetchedJob, options: JobRunnerOptions): Promise<unknown> {
  const { queue, metrics, tracer, inFlight } = options
  const controller = new AbortController()
  const expireMs = Math.max(1, Number(job.expireInSeconds) || 900) * 1000
  const expiry = setTimeout(
    () =>
      controller.abort(
        new KeelError(
          'KEEL_JOB_INTERRUPTED',
          `job ${job.id} of queue "${queue.name}" expired after ${expireMs / 1000} s`,
        ),
      ),
    expireMs,
  )
  inFlight.add(controller)
  const logger = options.logger.child({ queue: queue.name, job_id: job.id })
  const attempt = job.retryCount + 1
  const span = tracer?.startSpan(`job ${queue.name}`, {
    kind: SpanKind.CONSUMER,
    attributes: {
      'messaging.system': 'pg-boss',
      'messaging.destination.name': queue.name,
      'messaging.message.id': job.id,
      'keel.job.queue': queue.name,
      'keel.job.id': job.id,
      'keel.job.attempt': attempt,
    },
  })
  const ctx: JobContext = {
    id: job.id,
    queue: queue.name,
    attempt,
    retryCount: job.retryCount,
    retryLimit: job.retryLimit,
    signal: controller.signal,
    logger,
  }
  const startedAt = performance.now()
  metrics.active.inc()
  const finish = (outcome: JobOutcome) => metrics.attempt(outcome, (performance.now() - startedAt) / 1000)
  try {
    checkJobData(queue, job.data, `job ${job.id}, at work time`)
    const call = () => Promise.resolve().then(() => queue.options.handler(job.data, ctx))
    const work = span ? otelContext.with(trace.setSpan(otelContext.active(), span), call) : call()
    const result = await untilInterrupted(work, controller.signal, options.graceMs)
    finish('completed')
    span?.setStatus({ code: SpanStatusCode.OK })
    logger.debug({ attempt }, 'job completed')
    return result
  } catch (error) {
    const isLast = job.retryCount >= job.retryLimit
    finish(isLast ? 'failed' : 'retried')
    if (span) {
      span.recordException(error as Error)
      span.setStatus({ code: SpanStatusCode.ERROR })
    }
    if (isLast) logger.error({ err: error, attempt }, 'job failed its last attempt: dead letter')
    else logger.warn({ err: error, attempt, retryLimit: job.retryLimit }, 'job attempt failed; it is retried')
    throw error
  } finally {
    clearTimeout(expiry)
    inFlight.delete(controller)
    metrics.active.inc(-1)
    span?.end()
  }
}

/**
 * Settles with `work`, unless `signal` aborts first: then `work` gets `graceMs` more to settle
 * (a handler that honours its signal rejects at once), after which this rejects with the abort
 * reason and `work` is left to finish unobserved.
 */
function untilInterrupted<T>(work: Promise<T>, signal: AbortSignal, graceMs: number): Promise<T> {
  work.catch(() => {})
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const onAbort = () => {
      timer = setTimeout(() => reject(signal.reason), graceMs)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort)
      clearTimeout(timer)
    })
  })
}
