import type { Queryable } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
import { type DeadLetter, jobId } from './job-info.ts'

/** Options of {@link DeadLetters.list}. */
export interface DeadLetterListOptions {
  /** At most this many, newest failure first. Default 100, at most 1000. */
  readonly limit?: number
}

/**
 * The dead letters of a jobs module: jobs that failed their last allowed attempt. They keep
 * their id, data and last error in their queue (state `failed`) for `jobs.deadLetterRetentionDays`,
 * and can be retried in place (same id, so effects keyed by the job id stay exactly-once) or
 * discarded.
 *
 * @example
 * ```ts
 * for (const letter of await jobs.deadLetters.list('welcome-email')) {
 *   if (isTransient(letter.error)) await jobs.deadLetters.retry('welcome-email', letter.id)
 *   else await jobs.deadLetters.discard('welcome-email', letter.id)
 * }
 * ```
 */
export interface DeadLetters {
  /** The queue's dead letters, newest failure first. */
  list(queue: string, options?: DeadLetterListOptions): Promise<DeadLetter[]>
  /**
   * Gives a dead letter one more attempt, now, under the same id.
   * @throws KeelError `KEEL_JOB_NOT_FOUND` when the queue has no dead letter with this id.
   */
  retry(queue: string, id: string): Promise<void>
  /**
   * Deletes a dead letter for good.
   * @throws KeelError `KEEL_JOB_NOT_FOUND` when the queue has no dead letter with this id.
   */
  discard(queue: string, id: string): Promise<void>
}

/** {@link DeadLetters} on the jobs schema; `checkQueue` rejects names the module does not define. */
export function deadLettersOn(
  db: () => Queryable,
  schemaOf: () => string,
  checkQueue: (queue: string) => void,
  onRetry: (queue: string) => void,
): DeadLetters {
  const checkId = (queue: string, id: string) => {
    checkQueue(queue)
    if (typeof id !== 'string' || !jobId.test(id)) {
      throw new KeelError(
        'KEEL_JOB_INVALID_OPTIONS',
        `queue "${queue}": a job id is a UUID, got ${JSON.stringify(id)}`,
        { status: 400 },
      )
    }
  }
  const notFound = (queue: string, id: string) =>
    new KeelError('KEEL_JOB_NOT_FOUND', `queue "${queue}" has no dead letter ${id}`, { status: 404 })
  return {
    async list(queue, options = {}) {
      checkQueue(queue)
      const limit = options.limit ?? 100
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new KeelError(
          'KEEL_JOB_INVALID_OPTIONS',
          `deadLetters.list: limit must be 1-1000, got ${limit}`,
          {
            status: 400,
          },
        )
      }
      const rows = await db().query<{
        id: string
        data: Record<string, unknown> | null
        output: unknown
        retry_count: number
        created_on: Date
        completed_on: Date
      }>(
        `select id, data, output, retry_count, created_on, completed_on from ${schemaOf()}.job
          where name = $1 and state = 'failed' order by completed_on desc, id limit $2`,
        [queue, limit],
      )
      return rows.map((row) => ({
        id: row.id,
        queue,
        data: row.data ?? {},
        error: row.output ?? null,
        attempts: row.retry_count + 1,
        createdAt: row.created_on,
        failedAt: row.completed_on,
      }))
    },
    async retry(queue, id) {
      checkId(queue, id)
      // As pg-boss's retry(): one more attempt allowed; and due now.
      const rows = await db().query(
        `update ${schemaOf()}.job set state = 'retry', retry_limit = retry_limit + 1, start_after = now(), completed_on = null
          where name = $1 and id = $2 and state = 'failed' returning id`,
        [queue, id],
      )
      if (rows.length === 0) throw notFound(queue, id)
      onRetry(queue)
    },
    async discard(queue, id) {
      checkId(queue, id)
      const rows = await db().query(
        `delete from ${schemaOf()}.job where name = $1 and id = $2 and state = 'failed' returning id`,
        [queue, id],
      )
      if (rows.length === 0) throw notFound(queue, id)
    },
  }
}
