import { openPostgresDb } from 'keel/data'
import { beforeAll } from 'vitest'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { describeTableContract } from './table-contract.ts'

// The same contract as on PGlite, on a real PostgreSQL server, in a schema of its own.
const schemas = postgresSchemas('keel_resources')
let url: string
beforeAll(async () => {
  url = await schemas.fresh('tables')
})

describeTableContract('PostgreSQL', () => openPostgresDb({ url, poolSize: 2 }))
