import { openPgliteDb } from 'keel/data'
import { describeAuditContract } from './audit-contract.ts'

// One embedded database is one connection: the "writers" share it, each with a trail of its own,
// so their appends still interleave through PGlite's transaction queue.
describeAuditContract('PGlite', {
  async open() {
    const db = await openPgliteDb()
    return { db, writers: async (count) => Array.from({ length: count }, () => db) }
  },
})
