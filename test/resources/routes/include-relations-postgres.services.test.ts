import { postgresSchemas } from '../../support/postgres-schemas.ts'
import { describeIncludedRelations } from './include-relations-contract.ts'

const schemas = postgresSchemas('keel_include_relations')
let count = 0

describeIncludedRelations('PostgreSQL', () => schemas.fresh(`t${++count}`))
