import { postgresSchemas } from '../../support/postgres-schemas.ts'
import { describeResourceRoutes } from './resource-routes-contract.ts'

const schemas = postgresSchemas('keel_resource_routes')
let count = 0

describeResourceRoutes('PostgreSQL', () => schemas.fresh(`t${++count}`))
