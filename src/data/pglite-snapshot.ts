import { existsSync } from 'node:fs'
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/**
 * A snapshot of a freshly initialised PGlite cluster, shared by every process on the machine.
 *
 * A new embedded database runs initdb inside WebAssembly: about 5 s on a small machine, paid by
 * every `npm start` on PGlite in memory and every test that opens one. Loading a snapshot of a
 * fresh cluster takes about 1 s. The first open on a machine makes the snapshot; it is keyed by
 * the PGlite version, so an upgrade makes a new one.
 */
export async function readFreshCluster(): Promise<Blob | undefined> {
  const file = await snapshotFile()
  if (!file || !existsSync(file)) return undefined
  try {
    return new Blob([await readFile(file)])
  } catch {
    return undefined
  }
}

/** Saves the cluster of `pg`, which must be fresh (nothing created in it yet). Best effort. */
export async function saveFreshCluster(pg: {
  dumpDataDir(compression?: 'gzip'): Promise<Blob | File>
}): Promise<void> {
  const file = await snapshotFile()
  if (!file || existsSync(file)) return
  try {
    const dump = await pg.dumpDataDir('gzip')
    await mkdir(dirname(file), { recursive: true })
    // Another process may be writing the same snapshot: write aside, then rename over (atomic).
    const partial = `${file}.${process.pid}.partial`
    await writeFile(partial, Buffer.from(await dump.arrayBuffer()))
    await rename(partial, file)
  } catch {
    // A machine without a writable temp directory just keeps paying initdb.
  }
}

/** Forgets a snapshot that failed to load. */
export async function dropFreshCluster(): Promise<void> {
  const file = await snapshotFile()
  if (file) await rm(file, { force: true }).catch(() => {})
}

let cachedFile: Promise<string | undefined> | undefined

/** Where the snapshot lives (undefined when the PGlite version cannot be read). */
export function snapshotFile(): Promise<string | undefined> {
  cachedFile ??= (async () => {
    try {
      const main = createRequire(import.meta.url).resolve('@electric-sql/pglite')
      const { version } = JSON.parse(await readFile(join(dirname(main), '..', 'package.json'), 'utf8'))
      return join(tmpdir(), 'keel-pglite', `fresh-cluster-${version}.tar.gz`)
    } catch {
      return undefined
    }
  })()
  return cachedFile
}
