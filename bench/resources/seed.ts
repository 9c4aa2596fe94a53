// The table both resource servers read: items.yaml's, 10,000 rows, in a schema of its own.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { openPostgresDb } from 'keel/data'
import { checkResourceFiles, createTableSql } from 'keel/resources'

/** Rows in the seeded table; ids run from 1 to this. */
export const itemRows = 10_000

/** The PostgreSQL the benches use: DATABASE_URL, or the local one. */
export const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/**
 * Creates schema `name` with the seeded `items` table. Returns the URL that reaches it (its
 * `search_path` set) and `drop()`, which removes the schema.
 */
export async function seedItems(name: string): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = await openPostgresDb({ url: baseUrl, poolSize: 1 })
  await admin.execute(`drop schema if exists ${name} cascade; create schema ${name}`)
  const url = new URL(baseUrl)
  url.searchParams.set('search_path', name)
  const db = await openPostgresDb({ url: url.toString(), poolSize: 1 })
  const { definitions, issues } = checkResourceFiles([
    { file: 'items.yaml', text: readFileSync(join(import.meta.dirname, 'items.yaml'), 'utf8') },
  ])
  if (issues.length > 0) throw new Error(JSON.stringify(issues))
  await db.execute(createTableSql(definitions[0]!).up)
  await db.query(
    `insert into items (name, price) select 'item ' || n, (n % 1000) / 10.0 from generate_series(1, ${itemRows}) n`,
  )
  await db.execute('analyze items')
  await db.close()
  return {
    url: url.toString(),
    async drop() {
      await admin.execute(`drop schema if exists ${name} cascade`)
      await admin.close()
    },
  }
}
