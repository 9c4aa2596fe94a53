import { Type } from '@sinclair/typebox'
import { defineConfigSection } from '../config/index.ts'

/** The `jobs` config section: where pg-boss keeps jobs, how this process polls, drains and cleans up. */
export const jobsSection = defineConfigSection('jobs', {
  schema: Type.String({
    pattern: '^[a-z_][a-z0-9_]{0,49}$',
    default: 'keel_jobs',
    description:
      'PostgreSQL schema of the job tables (created on start); its own name, so a pg-boss of another version in the same database is never migrated',
  }),
  concurrency: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 4,
    description: 'jobs of one queue this process runs at once, unless the queue sets its own',
  }),
  pollingIntervalSeconds: Type.Number({
    minimum: 0.5,
    maximum: 3600,
    default: 2,
    description:
      'how often an idle worker looks for due jobs (pg-boss allows 0.5 at least); a send in this process wakes its workers at once',
  }),
  drainTimeoutMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'on shutdown, how long running jobs get to finish before their signals abort; unset: the module stop deadline less a margin',
    }),
  ),
  maintenanceIntervalSeconds: Type.Integer({
    minimum: 1,
    maximum: 86_399,
    default: 120,
    description:
      'how often expired active jobs (their worker died) are failed into retry, and old jobs archived; one instance does it per interval',
  }),
  cronCheckIntervalSeconds: Type.Integer({
    minimum: 1,
    maximum: 45,
    default: 30,
    description:
      'how often the schedules are checked for due ones (one instance per interval; pg-boss allows 1-45): a cron job is sent up to this long after its time',
  }),
  archiveCompletedAfterSeconds: Type.Integer({
    minimum: 60,
    default: 43_200,
    description:
      'completed and cancelled jobs move to the archive table after this long (cron needs 60 at least)',
  }),
  deadLetterRetentionDays: Type.Integer({
    minimum: 1,
    default: 14,
    description:
      'dead letters (jobs failed for good) stay listable and retryable this long, then are archived',
  }),
  deleteArchivedAfterDays: Type.Integer({
    minimum: 1,
    default: 7,
    description: 'archived jobs are deleted after this long',
  }),
  depthCacheSeconds: Type.Number({
    minimum: 0,
    default: 5,
    description: 'a scrape reuses the queue depth counts (one grouped count query) for this long',
  }),
})
