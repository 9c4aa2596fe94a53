import { afterAll } from 'vitest'
import { postgresUrl } from '../support/postgres-schemas.ts'
import { describeJobsContract } from './jobs-contract.ts'
import { dropFreshJobsSchemas } from './support/jobs-app.ts'

// PostgreSQL through postgres.js. Each app gets its own jobs schema (`jobs.schema`, named with
// this process id), dropped when the file ends, so parallel runs never meet.
describeJobsContract('PostgreSQL', async () => ({ url: postgresUrl }))

afterAll(() => dropFreshJobsSchemas(postgresUrl))
