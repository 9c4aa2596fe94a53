import type { JobState } from './queue-counts.ts'

/** One job as the database holds it. */
export interface JobInfo {
  readonly id: string
  readonly queue: string
  readonly state: JobState
  readonly data: Record<string, unknown>
  /** The handler's result once completed; the last error (`{ message, name, stack }`) once failed. */
  readonly output: unknown
  readonly priority: number
  /** Retries spent; the attempt number is `retryCount + 1` once it ran. */
  readonly retryCount: number
  readonly retryLimit: number
  readonly createdAt: Date
  /** When the job (or its next retry) becomes due. */
  readonly startAfter: Date
  readonly startedAt: Date | null
  readonly completedAt: Date | null
  /** Whether the row was found in the archive (completed jobs move there after a while). */
  readonly archived: boolean
}

/** A dead letter: a job that failed its last allowed attempt. */
export interface DeadLetter {
  readonly id: string
  readonly queue: string
  readonly data: Record<string, unknown>
  /** The last attempt's error: `{ name, message, stack }` as pg-boss stored it. */
  readonly error: unknown
  /** Attempts made, the last one included. */
  readonly attempts: number
  readonly createdAt: Date
  readonly failedAt: Date
}

/** A job id pg-boss generates or accepts: a UUID. */
export const jobId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Maps a pg-boss job row (`getJobById` with metadata) to a {@link JobInfo}. */
export function jobInfoOf(row: Record<string, unknown>, archived: boolean): JobInfo {
  return {
    id: String(row.id),
    queue: String(row.name),
    state: row.state as JobState,
    data: (row.data ?? {}) as Record<string, unknown>,
    output: row.output ?? null,
    priority: Number(row.priority),
    retryCount: Number(row.retryCount),
    retryLimit: Number(row.retryLimit),
    createdAt: row.createdOn as Date,
    startAfter: row.startAfter as Date,
    startedAt: (row.startedOn as Date | null) ?? null,
    completedAt: (row.completedOn as Date | null) ?? null,
    archived,
  }
}
