import { openDb } from 'keel/data'
import { beforeAll, expect } from 'vitest'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { describeDurableRunner } from './durable-contract.ts'

// The runner's tables live in a schema of this run, dropped at the end: parallel runs on one
// server never claim each other's runs. Each handle is its own pool, as two processes would be.
const schemas = postgresSchemas('keel_flow_test')
let schemaUrl: string
beforeAll(async () => {
  schemaUrl = await schemas.fresh('runner')
})

describeDurableRunner('PostgreSQL', async () => {
  const db = await openDb({ url: schemaUrl, poolSize: 5 })
  expect(db.driver).toBe('postgres')
  return db
})
