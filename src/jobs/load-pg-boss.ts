import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type PgBoss from 'pg-boss'

const require = createRequire(import.meta.url)
let loaded: typeof PgBoss | undefined

/**
 * Loads pg-boss when a jobs module starts (not when `keel/jobs` is imported).
 *
 * pg-boss requires `pg` even when, as here, it is given its own `db` and never opens a pool. Under
 * a process started with the `import` export condition (vitest passes `--conditions=import`),
 * `require('pg-pool')` inside `pg` resolves to pg-pool's ESM build, whose namespace object is not
 * the class `pg` extends, and loading fails. When that is the case, the CommonJS build is put in
 * the require cache under the ESM path first. Under plain `node` (or `--conditions=source`) this
 * does nothing.
 */
export function loadPgBoss(): typeof PgBoss {
  if (loaded) return loaded
  try {
    const pgPath = createRequire(require.resolve('pg-boss')).resolve('pg')
    const poolPath = createRequire(pgPath).resolve('pg-pool')
    if (poolPath.endsWith('.mjs') && !require.cache[poolPath]) {
      const exports = require(join(dirname(poolPath), '..', 'index.js')) as unknown
      require.cache[poolPath] = { id: poolPath, filename: poolPath, loaded: true, exports } as NodeJS.Module
    }
  } catch {
    // Another layout of node_modules: load pg-boss as it is.
  }
  loaded = require('pg-boss') as typeof PgBoss
  return loaded
}
