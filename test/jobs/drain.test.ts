import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb } from 'keel/data'
import { afterAll } from 'vitest'
import { describeDrainContract } from './drain-contract.ts'

// PGlite in a data directory per test: the rows are read after the app (and its database) stopped.
const dir = mkdtempSync(join(tmpdir(), 'keel-jobs-drain-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describeDrainContract('PGlite', async (name) => {
  const dataDir = join(dir, name)
  return { database: { dataDir }, schema: 'keel_jobs', open: () => openDb({ dataDir }) }
})
