import { openPostgresDb } from 'keel/data'
import { afterAll } from 'vitest'
import { postgresUrl } from '../support/postgres-schemas.ts'
import { describeJobsContract } from './jobs-contract.ts'

// PostgreSQL through postgres.js. Each app gets its own jobs schema (`jobs.schema`, named with
// this process id), dropped when the file ends, so parallel runs never meet.
describeJobsContract('PostgreSQL', async () => ({ url: postgresUrl }))

afterAll(async () => {
  const db = await openPostgresDb({ url: postgresUrl, poolSize: 1 })
  try {
    const rows = await db.query<{ name: string }>(
      'select nspname as name from pg_namespace where nspname like $1',
      [`jobs\\_${process.pid}\\_%`],
    )
    for (const { name } of rows) await db.query(`drop schema ${name} cascade`)
  } finally {
    await db.close()
  }
})
