import { openPostgresDb } from 'keel/data'
import { afterAll } from 'vitest'
import { postgresUrl } from '../support/postgres-schemas.ts'
import { describeDrainContract } from './drain-contract.ts'
import { dropFreshJobsSchemas, freshJobsSchema } from './support/jobs-app.ts'

// PostgreSQL: each test's apps share a jobs schema of their own, dropped when the file ends.
describeDrainContract('PostgreSQL', async () => ({
  database: { url: postgresUrl },
  schema: freshJobsSchema(),
  open: () => openPostgresDb({ url: postgresUrl, poolSize: 1 }),
}))

afterAll(() => dropFreshJobsSchemas(postgresUrl))
