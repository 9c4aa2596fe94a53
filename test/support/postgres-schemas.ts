import { type Db, openPostgresDb } from 'keel/data'
import { afterAll, beforeAll } from 'vitest'

/** The server the services tests use. */
export const postgresUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * Schemas of this test file on the PostgreSQL server, each dropped when the file ends, so
 * parallel runs (and files) never see each other's tables, runs or migration records.
 * `fresh(name)` creates one and returns a URL whose connections use it (`search_path`).
 */
export function postgresSchemas(prefix: string): { fresh(name: string): Promise<string> } {
  const base = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const created: string[] = []
  let admin: Db | undefined
  beforeAll(async () => {
    admin = await openPostgresDb({ url: postgresUrl, poolSize: 1 })
  })
  afterAll(async () => {
    for (const schema of created) await admin?.query(`drop schema if exists ${schema} cascade`)
    await admin?.close()
  })
  return {
    async fresh(name) {
      if (!admin) throw new Error('postgresSchemas().fresh() is for tests and hooks, after beforeAll')
      const schema = `${base}_${name}`
      created.push(schema)
      await admin.query(`create schema ${schema}`)
      const url = new URL(postgresUrl)
      url.searchParams.set('search_path', schema)
      return url.toString()
    },
  }
}
