import { openDb } from 'keel/data'
import { expect } from 'vitest'
import { describeDurableRunner } from './durable-contract.ts'

// PGlite takes seconds to open: one in-memory database serves the whole file. Every call hands
// out the same handle (closing it twice is harmless), so "two handles" share one connection.
let shared: ReturnType<typeof openDb> | undefined

describeDurableRunner('PGlite in memory', async () => {
  shared ??= openDb()
  const db = await shared
  expect(db.driver).toBe('pglite')
  return db
})
