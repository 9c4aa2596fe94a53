export { type BossDb, bossDb, bossDbOn, type TrackedBossDb } from './boss-db.ts'
export type { DeadLetterListOptions, DeadLetters } from './dead-letters.ts'
export { checkJobData } from './job-data.ts'
export type { DeadLetter, JobInfo } from './job-info.ts'
export { type JobsModule, type JobsOptions, jobs, type QueueDescription } from './jobs-module.ts'
export { jobsSection } from './jobs-section.ts'
export type { JobOutcome } from './metrics.ts'
export {
  type AnyJobQueue,
  type CronSchedule,
  type JobContext,
  type JobData,
  type JobHandler,
  type JobQueue,
  type QueueOptions,
  queue,
} from './queue.ts'
export { type JobState, jobStates, type QueueCounts, queueCounts } from './queue-counts.ts'
export type { ScheduleDescription } from './schedules.ts'
export type { SendOptions } from './send-options.ts'
