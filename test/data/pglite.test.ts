import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb, openPgliteDb } from 'keel/data'
import { afterEach, describe, expect, it } from 'vitest'
import { describeDbContract } from './db-contract.ts'

describeDbContract('PGlite in memory', async () => {
  const db = await openDb()
  expect(db.driver).toBe('pglite')
  return db
})

describe('PGlite in a data directory', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })

  it('keeps its data across close and reopen', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'keel-pglite-'))
    dirs.push(dataDir)
    const first = await openDb({ dataDir })
    await first.execute(
      "create table notes (id int primary key, body text); insert into notes values (1, 'kept');",
    )
    await first.close()
    const second = await openPgliteDb({ dataDir })
    try {
      expect(await second.query('select id, body from notes')).toEqual([{ id: 1, body: 'kept' }])
    } finally {
      await second.close()
    }
  })
})
