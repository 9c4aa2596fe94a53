import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { PGlite as PGliteClass } from '@electric-sql/pglite'
import { KeelError } from '../errors/index.ts'
import type { Db, Queryable } from './db.ts'
import { dropFreshCluster, readFreshCluster, saveFreshCluster } from './pglite-snapshot.ts'

/**
 * Opens embedded PostgreSQL (PGlite) in memory, or in `dataDir` so data survives restarts.
 * PGlite is one connection: transactions are serialized, and a query issued while one is open
 * waits for it. The WASM module loads only when this is called.
 */
export async function openPgliteDb(options: { dataDir?: string } = {}): Promise<Db> {
  const { PGlite } = await import('@electric-sql/pglite')
  const where = options.dataDir ?? 'memory'
  let pg: InstanceType<typeof PGlite>
  try {
    pg = await openCluster(PGlite, options.dataDir)
  } catch (error) {
    throw new KeelError(
      'KEEL_DB_CONNECT',
      `cannot open the embedded database (${where}): ${message(error)}`,
      {
        cause: error,
      },
    )
  }
  const on = (target: Pick<typeof pg, 'query'>): Queryable => ({
    async query<Row>(sql: string, params?: readonly unknown[]) {
      const result = await target.query<Row>(sql, params as unknown[] | undefined)
      return result.rows
    },
  })
  let closed = false
  return {
    driver: 'pglite',
    ...on(pg),
    transaction: (fn) => pg.transaction((tx) => fn(on(tx))),
    openConnections: () => (closed ? 0 : 1),
    async execute(script) {
      await pg.exec(script)
    },
    async close() {
      if (closed) return
      closed = true
      await pg.close()
    },
  }
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * Opens the cluster: an existing data directory as it is; a new one (or memory) from the
 * machine's fresh-cluster snapshot when there is one, saving one after initdb when there is not.
 */
async function openCluster(PGlite: typeof PGliteClass, dataDir: string | undefined): Promise<PGliteClass> {
  const isNew = dataDir === undefined || !existsSync(join(dataDir, 'PG_VERSION'))
  // PGlite makes the data directory but not its parents (`.keel/` on a fresh checkout).
  if (dataDir !== undefined) mkdirSync(dirname(resolve(dataDir)), { recursive: true })
  if (!isNew) return ready(new PGlite(dataDir))
  const snapshot = await readFreshCluster()
  if (snapshot) {
    try {
      // Not `new PGlite(undefined, options)`: with no data directory PGlite ignores the second argument.
      const options = { loadDataDir: snapshot }
      return await ready(dataDir === undefined ? new PGlite(options) : new PGlite(dataDir, options))
    } catch {
      await dropFreshCluster()
    }
  }
  const pg = await ready(new PGlite(dataDir))
  await saveFreshCluster(pg)
  return pg
}

async function ready(pg: PGliteClass): Promise<PGliteClass> {
  await pg.waitReady
  return pg
}
