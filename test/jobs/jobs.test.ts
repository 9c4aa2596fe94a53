import { describeJobsContract } from './jobs-contract.ts'

// Embedded PGlite, in memory: the default database of a Keel app.
describeJobsContract('PGlite', async () => ({}))
