import { postgresSchemas } from '../../support/postgres-schemas.ts'
import { describeSensitiveLogs } from './sensitive-logs-contract.ts'

const schemas = postgresSchemas('keel_sensitive_logs')

describeSensitiveLogs('PostgreSQL', () => schemas.fresh('accounts'))
