import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { openPgliteDb } from 'keel/data'
import { describe, expect, it } from 'vitest'
import { snapshotFile } from '../../src/data/pglite-snapshot.ts'

describe('the fresh-cluster snapshot of embedded PostgreSQL', () => {
  it('is saved before anything is created in a database, so the next one starts empty', async () => {
    const file = await snapshotFile()
    expect(file).toMatch(/keel-pglite\/fresh-cluster-\d+\.\d+\.\d+\.tar\.gz$/)
    const first = await openPgliteDb()
    await first.query('create table left_behind (x int)')
    await first.close()
    expect(existsSync(file!)).toBe(true)

    const second = await openPgliteDb()
    const tables = await second.query("select tablename from pg_tables where tablename = 'left_behind'")
    await second.close()
    expect(tables).toEqual([])
  }, 120_000)

  it('a corrupt snapshot is dropped and the database still opens', async () => {
    const file = (await snapshotFile())!
    const good = existsSync(file) ? await readFile(file) : undefined
    await writeFile(file, 'not a tarball')
    try {
      const db = await openPgliteDb()
      expect(await db.query('select 1 as one')).toEqual([{ one: 1 }])
      await db.close()
      // Replaced by a good one made from the fresh cluster that initdb just built.
      expect((await readFile(file)).toString()).not.toBe('not a tarball')
    } finally {
      if (good) await writeFile(file, good)
      else await rm(file, { force: true })
    }
  }, 120_000)
})
