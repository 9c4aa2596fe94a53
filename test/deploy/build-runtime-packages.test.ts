import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { unbundleablePackages } from '../../src/deploy/build/index.ts'
import { packageNameOf, runtimeLoads } from '../../src/deploy/build/runtime-packages.ts'

/** Keel's modules that resolve a package at run time (esbuild cannot see such a load). */
async function runtimeResolvingModules(): Promise<string[]> {
  const found: string[] = []
  const files = await readdir('src', { recursive: true })
  for (const file of files.filter((f) => f.endsWith('.ts')).sort()) {
    const path = join('src', file)
    // The CLI runs from the project, never from a bundle; the build itself is not bundled.
    if (path.startsWith(join('src', 'cli')) || path.startsWith(join('src', 'deploy', 'build'))) continue
    const text = await readFile(path, 'utf8')
    if (/createRequire\(|require\.resolve\(|import\.meta\.resolve\(/.test(text))
      found.push(path.split('\\').join('/'))
  }
  return found
}

describe('packages keel build leaves to node_modules', () => {
  it('knows every Keel module that loads a package at run time, so dist/package.json lists it', async () => {
    const known = runtimeLoads.flatMap((load) => load.modules.filter((module) => module.startsWith('src/')))
    expect(await runtimeResolvingModules()).toEqual([...known].sort())
  })

  it('keeps each of those packages external', () => {
    for (const load of runtimeLoads) expect(Object.keys(unbundleablePackages)).toContain(load.pkg)
  })

  it('names the package of a subpath import', () => {
    expect(packageNameOf('@electric-sql/pglite/vector')).toBe('@electric-sql/pglite')
    expect(packageNameOf('pg-boss')).toBe('pg-boss')
    expect(packageNameOf('swagger-ui-dist/package.json')).toBe('swagger-ui-dist')
  })
})
