import type { Queryable } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
import { jobId } from './job-info.ts'

/** Options of `send`. */
export interface SendOptions {
  /** Run no earlier than this many seconds from now. */
  readonly delaySeconds?: number
  /** Run no earlier than this moment (instead of `delaySeconds`). */
  readonly startAfter?: Date
  /** Higher runs first among due jobs of the queue. Default: the queue's `priority`, else 0. */
  readonly priority?: number
  /** The job id (a UUID): a second send with an id that exists adds nothing and resolves to null. */
  readonly id?: string
  /**
   * With `singletonSeconds`: at most one job with this key per window of that many seconds;
   * a send into a window that has one adds nothing and resolves to null.
   */
  readonly singletonKey?: string
  readonly singletonSeconds?: number
  /**
   * A transaction of the caller (`db.transaction(async (tx) => …)`): the job is written by it,
   * so it exists, and runs, only if the transaction commits.
   */
  readonly tx?: Queryable
}

/** The pg-boss `send` options these map to (without the `db`). */
export interface BossSendOptions {
  priority?: number
  startAfter?: string | number
  id?: string
  singletonKey?: string
  singletonSeconds?: number
}

const allowed = new Set([
  'delaySeconds',
  'startAfter',
  'priority',
  'id',
  'singletonKey',
  'singletonSeconds',
  'tx',
])

/**
 * Checks `send` options and maps them to pg-boss's; a bad one fails with
 * `KEEL_JOB_INVALID_OPTIONS` naming the queue and the option.
 */
export function bossSendOptions(
  queue: string,
  options: SendOptions,
  defaultPriority: number,
): BossSendOptions {
  const fail = (what: string) =>
    new KeelError('KEEL_JOB_INVALID_OPTIONS', `send to queue "${queue}": ${what}`, { status: 400 })
  if (typeof options !== 'object' || options === null) throw fail('options must be an object')
  for (const key of Object.keys(options)) if (!allowed.has(key)) throw fail(`unknown option "${key}"`)
  const out: BossSendOptions = { priority: defaultPriority }
  const { delaySeconds, startAfter, priority, id, singletonKey, singletonSeconds, tx } = options
  if (delaySeconds !== undefined && startAfter !== undefined) {
    throw fail('delaySeconds and startAfter cannot be combined')
  }
  if (delaySeconds !== undefined) {
    if (typeof delaySeconds !== 'number' || !Number.isFinite(delaySeconds) || delaySeconds < 0) {
      throw fail(`delaySeconds: expected a number >= 0, got ${JSON.stringify(delaySeconds)}`)
    }
    // pg-boss reads a positive number as an interval in seconds.
    if (delaySeconds > 0) out.startAfter = delaySeconds
  }
  if (startAfter !== undefined) {
    if (!(startAfter instanceof Date) || Number.isNaN(startAfter.getTime())) {
      throw fail('startAfter: expected a valid Date')
    }
    out.startAfter = startAfter.toISOString()
  }
  if (priority !== undefined) {
    if (!Number.isInteger(priority) || Math.abs(priority) > 1_000_000) {
      throw fail(`priority: expected an integer, got ${JSON.stringify(priority)}`)
    }
    out.priority = priority
  }
  if (id !== undefined) {
    if (typeof id !== 'string' || !jobId.test(id))
      throw fail(`id: expected a UUID, got ${JSON.stringify(id)}`)
    out.id = id
  }
  if ((singletonKey === undefined) !== (singletonSeconds === undefined)) {
    throw fail('singletonKey and singletonSeconds go together')
  }
  if (singletonKey !== undefined) {
    if (typeof singletonKey !== 'string' || singletonKey.length === 0) {
      throw fail('singletonKey: expected a non-empty string')
    }
    if (!Number.isInteger(singletonSeconds) || (singletonSeconds as number) < 1) {
      throw fail(`singletonSeconds: expected an integer >= 1, got ${JSON.stringify(singletonSeconds)}`)
    }
    out.singletonKey = singletonKey
    out.singletonSeconds = singletonSeconds as number
  }
  if (tx !== undefined && (typeof tx !== 'object' || tx === null || typeof tx.query !== 'function')) {
    throw fail('tx: expected the transaction handed to db.transaction(fn)')
  }
  return out
}
