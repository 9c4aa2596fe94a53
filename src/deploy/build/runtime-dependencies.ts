import { readFile } from 'node:fs/promises'
import { isBuiltin } from 'node:module'
import { dirname, join, resolve, sep } from 'node:path'
import type { Metafile } from 'esbuild'
import { KeelError } from '../../errors/index.ts'
import { findInstalledPackage } from './installed-package.ts'
import { packageNameOf, runAppModules, runtimeLoads } from './runtime-packages.ts'

/** The packages the bundle needs from `node_modules`, and the optional ones that are absent. */
export interface RuntimeDependencies {
  /** Package name → exact installed version, sorted by name. */
  readonly dependencies: Record<string, string>
  /**
   * Imports esbuild left external because nothing resolved them, inside a `try` (ws's
   * `bufferutil`): the code runs without them. Sorted.
   */
  readonly optional: string[]
}

/**
 * Reads from the metafile which packages the bundle imports at run time: the external imports
 * of the output (built-ins aside), and the packages Keel modules kept in the bundle load through
 * `createRequire`. Each is looked up from the module that imports it, and listed with the version
 * installed there. An external the build was asked to keep (`declared`) that is not installed is
 * an error: `server.mjs` would fail to start.
 */
export async function runtimeDependencies(
  metafile: Metafile,
  workingDirectory: string,
  declared: readonly string[],
): Promise<RuntimeDependencies> {
  const absolute = (input: string) => resolve(workingDirectory, input)
  // What esbuild kept (tree shaking drops modules the app never reaches, e.g. keel/data's PGlite).
  const [, output] = Object.entries(metafile.outputs).find(([path]) => !path.endsWith('.map'))!
  const live = Object.entries(output.inputs)
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path)
  const importers = new Map<string, string>() // package → directory of a module that imports it
  for (const path of [...live, ...Object.keys(metafile.inputs)]) {
    for (const item of metafile.inputs[path]?.imports ?? []) {
      if (!item.external || !isBareSpecifier(item.path)) continue
      const name = packageNameOf(item.path)
      if (!importers.has(name)) importers.set(name, dirname(absolute(path)))
    }
  }
  const wanted = new Map<string, string>() // package → directory to look it up from
  for (const item of output.imports) {
    if (!item.external || isBuiltin(item.path) || !isBareSpecifier(item.path)) continue
    const name = packageNameOf(item.path)
    wanted.set(name, importers.get(name) ?? workingDirectory)
  }
  const keelRoot = await keelRootOf(live.map(absolute))
  if (keelRoot !== undefined) {
    const inputs = new Set(live.map(absolute))
    for (const load of runtimeLoads) {
      const loader = load.modules.map((module) => resolve(keelRoot, module)).find((path) => inputs.has(path))
      if (loader && !wanted.has(load.pkg)) wanted.set(load.pkg, dirname(loader))
    }
  }
  const dependencies: Record<string, string> = {}
  const optional: string[] = []
  for (const name of [...wanted.keys()].sort()) {
    const installed = await findInstalledPackage(name, wanted.get(name)!)
    if (installed) dependencies[name] = installed.version
    else if (declared.includes(name))
      throw new KeelError(
        'KEEL_BUILD_FAILED',
        `${name}: the bundle imports it from node_modules at run time, but it is not installed (from ${wanted.get(name)})`,
      )
    else optional.push(name)
  }
  return { dependencies, optional }
}

// Not `./x`, `/x`, or esbuild's own `<runtime>` (which keepNames imports).
const isBareSpecifier = (path: string) => !/^[./<]/.test(path)

/** Keel's package folder: where the bundled runApp module sits, beside Keel's package.json. */
async function keelRootOf(inputs: readonly string[]): Promise<string | undefined> {
  for (const input of inputs) {
    for (const module of runAppModules) {
      const suffix = module.split('/').join(sep)
      if (!input.endsWith(`${sep}${suffix}`)) continue
      const root = input.slice(0, -suffix.length - 1)
      const manifest = await readFile(join(root, 'package.json'), 'utf8').catch(() => '{}')
      if ((JSON.parse(manifest) as { name?: unknown }).name === 'keel') return root
    }
  }
  return undefined
}
