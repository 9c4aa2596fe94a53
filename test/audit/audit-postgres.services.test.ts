import { openPostgresDb } from 'keel/data'
import { postgresSchemas } from '../support/postgres-schemas.ts'
import { describeAuditContract } from './audit-contract.ts'

const schemas = postgresSchemas('keel_audit_test')
let count = 0

// Each writer is a pool of one connection of its own, so the ten contend for the chain's lock
// in the server as ten processes would.
describeAuditContract('PostgreSQL', {
  async open() {
    const url = await schemas.fresh(`t${++count}`)
    const db = await openPostgresDb({ url, poolSize: 2 })
    return {
      db,
      writers: (n) => Promise.all(Array.from({ length: n }, () => openPostgresDb({ url, poolSize: 1 }))),
    }
  },
})
