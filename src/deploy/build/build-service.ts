import { cp, stat, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { KeelError } from '../../errors/index.ts'
import { appFiles, countFiles } from './app-files.ts'
import { bundleServer } from './bundle.ts'
import { readBundleLockfile } from './bundle-lockfile.ts'
import { keelAssetsOf } from './keel-assets.ts'
import { outputError, prepareOutputFolder } from './output-folder.ts'
import { runtimeDependencies } from './runtime-dependencies.ts'
import { unbundleablePackages } from './runtime-packages.ts'
import { serviceIdentity } from './service-identity.ts'

/** Options of {@link buildService}; the flags of `keel build`. */
export interface BuildOptions {
  /** The module exporting the app (`export const app = createApp()` or a default export). */
  readonly entry: string
  /** Output folder, emptied first (default `dist`). */
  readonly out?: string
  /** More files or folders the app reads at run time (`--copy`). */
  readonly copy?: readonly string[]
  /** More packages to leave to node_modules (`--external`): native addons, packages that read their own files. */
  readonly external?: readonly string[]
  readonly minify?: boolean
  /** Folder relative paths start from (default `process.cwd()`). */
  readonly workingDirectory?: string
  /** Called as each step starts, for progress on a terminal. */
  readonly onProgress?: (step: string) => void
}

/** What a build wrote: the summary `keel build` prints (and `--json` gives). */
export interface BuildReport {
  readonly entry: string
  readonly out: string
  readonly service: { readonly name: string; readonly version: string }
  readonly server: { readonly file: string; readonly sizeBytes: number; readonly sourceMapBytes: number }
  /** Packages `dist/package.json` lists: name → exact installed version. */
  readonly dependencies: Record<string, string>
  /**
   * Whether `package-lock.json` was written beside package.json, pinning the packages and their
   * dependencies as the project's lockfile does (`npm ci --omit=dev` installs them). When false,
   * `warnings` says why.
   */
  readonly hasLockfile: boolean
  /** Optional imports left out because they are not installed (the code runs without them). */
  readonly optional: string[]
  /** Files and folders copied beside server.mjs. */
  readonly copied: Array<{
    readonly from: string
    readonly to: string
    readonly kind: 'file' | 'folder'
    readonly files: number
  }>
  readonly warnings: string[]
}

/**
 * Bundles the service of `entry` into `out` so that `node server.mjs` runs it in production:
 * `server.mjs` (the app and Keel, started with runApp), its source map, the files the app reads
 * at run time, a `package.json` whose dependencies are exactly the packages the bundle loads
 * from node_modules, at their installed versions, and a `package-lock.json` taken from the
 * project's. Install them with `npm ci --omit=dev` there.
 *
 * @example
 * ```ts
 * const report = await buildService({ entry: 'src/app.ts', out: 'dist' })
 * report.dependencies // { '@electric-sql/pglite': '0.5.16', 'pg-boss': '10.4.2', … }
 * ```
 */
export async function buildService(options: BuildOptions): Promise<BuildReport> {
  const workingDirectory = resolve(options.workingDirectory ?? process.cwd())
  const out = options.out ?? 'dist'
  const entry = resolve(workingDirectory, options.entry)
  const entryInfo = await stat(entry).catch(() => undefined)
  if (!entryInfo?.isFile())
    throw new KeelError('KEEL_ENTRY_INVALID', `--entry ${options.entry}: file not found`)
  const entryDirectory = dirname(entry)
  const progress = options.onProgress ?? (() => {})

  const files = await appFiles({ entryDirectory, workingDirectory, copy: options.copy ?? [] })
  const outDir = resolve(workingDirectory, out)
  await prepareOutputFolder(out, outDir, [
    workingDirectory,
    entryDirectory,
    ...files.map((file) => file.from),
  ])

  progress(`bundling ${options.entry}`)
  const external = [...new Set([...Object.keys(unbundleablePackages), ...(options.external ?? [])])].sort()
  const bundle = await bundleServer({
    entry,
    entryLabel: options.entry,
    outDir,
    external,
    minify: options.minify ?? false,
    workingDirectory,
  })
  const runtime = await runtimeDependencies(bundle.metafile, workingDirectory, external)

  // Keel's own folders that bundled modules read from disk (the inspector's UI).
  for (const asset of keelAssetsOf(bundle.metafile, workingDirectory)) {
    try {
      await cp(asset.from, join(outDir, asset.to), { recursive: true })
    } catch (error) {
      throw outputError(out, error)
    }
  }
  if (files.length > 0)
    progress(`copying ${files.map((f) => (f.isDirectory ? `${f.to}/` : f.to)).join(', ')}`)
  const copied: Array<BuildReport['copied'][number]> = []
  try {
    for (const file of files) {
      await cp(file.from, join(outDir, file.to), { recursive: true })
      copied.push({
        from: shown(workingDirectory, file.from),
        to: file.to,
        kind: file.isDirectory ? 'folder' : 'file',
        files: await countFiles(file.from),
      })
    }
  } catch (error) {
    throw outputError(out, error)
  }

  progress('writing package.json')
  const keelYaml = files.find((file) => file.to === 'keel.yaml')?.from
  const packageDirectories = [...new Set([entryDirectory, workingDirectory])]
  const service = await serviceIdentity({ keelYaml, packageDirectories })
  const manifest = {
    name: service.name,
    version: service.version,
    private: true,
    type: 'module',
    scripts: { start: 'node server.mjs' },
    dependencies: runtime.dependencies,
  }
  const locked = await readBundleLockfile({
    directories: packageDirectories,
    root: manifest,
    label: (path) => shown(workingDirectory, path),
  })
  const warnings = [...bundle.warnings]
  if ('reason' in locked)
    warnings.push(
      `${out}/package-lock.json not written: ${locked.reason}; npm install --omit=dev there resolves the dependencies of its packages again`,
    )
  try {
    await writeFile(join(outDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
    if ('lockfile' in locked)
      await writeFile(join(outDir, 'package-lock.json'), `${JSON.stringify(locked.lockfile, null, 2)}\n`)
  } catch (error) {
    throw outputError(out, error)
  }

  return {
    entry: shown(workingDirectory, entry),
    out: shown(workingDirectory, outDir),
    service,
    server: {
      file: 'server.mjs',
      sizeBytes: (await stat(bundle.file)).size,
      sourceMapBytes: (await stat(bundle.sourceMapFile)).size,
    },
    dependencies: runtime.dependencies,
    hasLockfile: 'lockfile' in locked,
    optional: runtime.optional,
    copied,
    warnings,
  }
}

/** A path as the summary shows it: relative to the working directory when inside it, else absolute. */
function shown(workingDirectory: string, path: string): string {
  const inside = relative(workingDirectory, path)
  return inside === '' ? '.' : inside.startsWith('..') || isAbsolute(inside) ? path : inside
}
