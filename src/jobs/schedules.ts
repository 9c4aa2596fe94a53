import { KeelError } from '../errors/index.ts'
import { checkJobData } from './job-data.ts'
import type { AnyJobQueue } from './queue.ts'

/** The part of pg-boss that keeps cron schedules. */
export interface ScheduleStore {
  schedule(name: string, cron: string, data: object, options: { tz: string }): Promise<void>
  unschedule(name: string): Promise<void>
}

/** A queue's schedule as the app description shows it. */
export interface ScheduleDescription {
  readonly expression: string
  readonly tz: string
}

/** The schedule of `queue`, if it has one. */
export const scheduleOf = (queue: AnyJobQueue): ScheduleDescription | undefined =>
  queue.options.cron
    ? { expression: queue.options.cron.expression, tz: queue.options.cron.tz ?? 'UTC' }
    : undefined

/**
 * Makes the database's schedules match the code: each queue with `cron` is (re)scheduled with
 * its expression, time zone and checked data; each queue of the module without one is
 * unscheduled, so a schedule removed from the code stops firing. Schedules of queues this module
 * does not define are left alone. pg-boss fires each due schedule once across all instances.
 *
 * @throws KeelError `KEEL_JOB_INVALID_DATA` for cron data the schema rejects,
 *   `KEEL_JOB_INVALID_QUEUE` for an expression or time zone pg-boss cannot read.
 */
export async function reconcileSchedules(
  store: ScheduleStore,
  queues: readonly AnyJobQueue[],
): Promise<void> {
  for (const queue of queues) {
    const cron = queue.options.cron
    if (!cron) {
      await store.unschedule(queue.name)
      continue
    }
    checkJobData(queue, cron.data, 'cron data')
    try {
      await store.schedule(queue.name, cron.expression, cron.data as object, { tz: cron.tz ?? 'UTC' })
    } catch (error) {
      throw new KeelError(
        'KEEL_JOB_INVALID_QUEUE',
        `queue "${queue.name}": cron ${JSON.stringify(cron.expression)} (tz ${cron.tz ?? 'UTC'}): ${(error as Error).message}`,
        { cause: error },
      )
    }
  }
}
