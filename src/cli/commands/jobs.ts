import { openDb } from '../../data/index.ts'
import { jobStates, jobsSection, queueCounts } from '../../jobs/index.ts'
import { jobsSchemaName } from '../../jobs/queue-counts.ts'
import { closeQuietly, type DatabaseTarget, databaseTargetWith, where } from '../database-target.ts'
import { parseFlags } from '../parse-flags.ts'
import { table } from '../table.ts'
import { usageError } from '../usage-error.ts'

export const jobsHelp = `keel jobs: list the app's job queues with their jobs by state

Usage: keel jobs [--url URL | --data-dir DIR] [--schema NAME] [--profile NAME] [--json]

  --url URL       PostgreSQL URL (default: DATABASE_URL, else database.url from the config)
  --data-dir DIR  an embedded PGlite data directory (default: data.dataDir from the config);
                  the app must not have it open
  --schema NAME   the jobs schema (default: jobs.schema from the config, else keel_jobs)
  --profile NAME  profile used to read the config (default: KEEL_PROFILE, else dev)
  --json          machine-readable output

States: created (waiting), retry (waiting to retry), active (running), completed, cancelled,
failed (dead letters: failed their last attempt).
Exit codes: 0 success, 1 no jobs schema in the database, 2 bad arguments or no database configured.`

interface JobsFlags {
  url?: string
  'data-dir'?: string
  schema?: string
  profile?: string
  json?: boolean
  help?: boolean
}

/** Runs `keel jobs` with the arguments after the command name. */
export async function jobsCommand(args: string[]): Promise<{ text: string; code: number }> {
  const { values } = parseFlags(args, {
    url: { type: 'string' },
    'data-dir': { type: 'string' },
    schema: { type: 'string' },
    profile: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  const flags = values as JobsFlags
  if (flags.help) return { text: `${jobsHelp}\n`, code: 0 }
  if (flags.schema !== undefined && !jobsSchemaName.test(flags.schema)) {
    throw usageError(
      `--schema: expected a lower-case SQL name (a-z, 0-9, _; at most 50), got "${flags.schema}"`,
    )
  }
  const { target, schema } = readTarget(flags)
  const db = await openDb(target)
  try {
    const place = where(target)
    const [found] = await db.query<{ name: string | null }>('select to_regclass($1)::text as name', [
      `${schema}.queue`,
    ])
    if (!found?.name) {
      const message = `no jobs schema "${schema}" in ${place}: the app creates it when its jobs module starts`
      if (flags.json)
        return { text: `${JSON.stringify({ error: 'KEEL_JOB_NOT_FOUND', message })}\n`, code: 1 }
      return { text: `${message}\n`, code: 1 }
    }
    const counts = await queueCounts(db, schema)
    if (flags.json) return { text: `${JSON.stringify({ schema, queues: counts }, null, 2)}\n`, code: 0 }
    if (counts.length === 0) return { text: `no queues in schema "${schema}" (${place})\n`, code: 0 }
    const rows = [
      ['QUEUE', ...jobStates.map((s) => (s === 'failed' ? 'FAILED (DEAD)' : s.toUpperCase()))],
      ...counts.map((c) => [c.queue, ...jobStates.map((s) => String(c[s]))]),
    ]
    return { text: `jobs in schema "${schema}" (${place}):\n${table(rows)}\n`, code: 0 }
  } finally {
    await closeQuietly(db)
  }
}

/** The database and jobs schema: flags, then DATABASE_URL, then the config. */
function readTarget(flags: JobsFlags): { target: DatabaseTarget; schema: string } {
  const { target, config } = databaseTargetWith<{ jobs: { schema: string } }>(flags, 'jobs', [jobsSection])
  return { target, schema: flags.schema ?? config.values.jobs.schema }
}
