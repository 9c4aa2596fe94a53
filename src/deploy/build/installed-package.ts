import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'

/** A package as installed: where its folder is and the version its package.json gives. */
export interface InstalledPackage {
  readonly name: string
  readonly version: string
  readonly directory: string
}

/**
 * Finds `name` the way Node resolves a bare import from `fromDirectory`: in `node_modules` of that
 * folder and of each parent. Reads the package.json directly, so a package whose `exports` hide
 * `package.json` is found too. Undefined when it is not installed.
 */
export async function findInstalledPackage(
  name: string,
  fromDirectory: string,
): Promise<InstalledPackage | undefined> {
  let directory = fromDirectory
  for (;;) {
    const folder = join(directory, 'node_modules', name)
    const manifest = await readFile(join(folder, 'package.json'), 'utf8').catch(() => undefined)
    if (manifest !== undefined) {
      const { version } = JSON.parse(manifest) as { version?: unknown }
      if (typeof version === 'string') return { name, version, directory: folder }
    }
    const parent = dirname(directory)
    if (parent === directory) return undefined
    directory = parent
  }
}
