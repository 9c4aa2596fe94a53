import { postgresSchemas } from '../support/postgres-schemas.ts'
import { describeWebhooks } from './webhooks-module-contract.ts'

// Each test's app gets a schema of its own (its webhook and job tables), dropped when the file ends.
const schemas = postgresSchemas('keel_webhooks')
let count = 0

describeWebhooks('PostgreSQL', () => schemas.fresh(`t${++count}`))
