import { readdir, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import { optionError } from './options-error.ts'

/** A file or folder the app reads at run time, and where it goes under the output folder. */
export interface AppFile {
  /** Absolute path of the source. */
  readonly from: string
  /** Path under the output folder, with forward slashes. */
  readonly to: string
  readonly isDirectory: boolean
}

/** What an app reads beside its entry by convention; copied when present. */
export const conventionalFiles: readonly string[] = ['keel.yaml', 'resources', 'migrations', 'public']

/** Names `keel build` writes itself; a copied path may not take them. */
const reserved = new Set([
  'server.mjs',
  'server.mjs.map',
  'package.json',
  'package-lock.json',
  'node_modules',
])

/**
 * The files to copy beside `server.mjs`. The bundle's `import.meta.dirname` is the output folder
 * and the process runs there, so a path keeps its place relative to the entry's folder when it
 * is inside it, else relative to the working directory: `src/app.ts` with `--copy src/templates`
 * gives `templates/`, `--copy assets` gives `assets/`. Conventional files are looked for beside
 * the entry, then in the working directory.
 */
export async function appFiles(options: {
  entryDirectory: string
  workingDirectory: string
  copy: readonly string[]
}): Promise<AppFile[]> {
  const { entryDirectory, workingDirectory } = options
  const files = new Map<string, AppFile>()
  for (const name of conventionalFiles) {
    for (const directory of new Set([entryDirectory, workingDirectory])) {
      const info = await stat(join(directory, name)).catch(() => undefined)
      if (info) {
        files.set(name, { from: join(directory, name), to: name, isDirectory: info.isDirectory() })
        break
      }
    }
  }
  for (const path of options.copy) {
    const from = resolve(workingDirectory, path)
    const info = await stat(from).catch(() => undefined)
    if (!info) throw optionError(`--copy ${path}: no such file or folder`)
    const to = placeOf(from, entryDirectory) ?? placeOf(from, workingDirectory)
    if (to === undefined)
      throw optionError(
        `--copy ${path}: must be inside the entry's folder or the working directory (it keeps its place relative to them)`,
      )
    if (reserved.has(to.split('/')[0]!))
      throw optionError(`--copy ${path}: would replace ${to}, which keel build writes itself`)
    const previous = files.get(to)
    if (previous && previous.from !== from)
      throw optionError(`--copy ${path}: ${to} is already copied from ${previous.from}`)
    files.set(to, { from, to, isDirectory: info.isDirectory() })
  }
  return [...files.values()].sort((a, b) => a.to.localeCompare(b.to))
}

/** `from` relative to `base` with forward slashes, or undefined when it is not strictly inside. */
function placeOf(from: string, base: string): string | undefined {
  const path = relative(base, from)
  if (path === '' || path.startsWith('..') || isAbsolute(path)) return undefined
  return path.split(sep).join('/')
}

/** Number of files under `path` (1 for a file). */
export async function countFiles(path: string): Promise<number> {
  const info = await stat(path)
  if (!info.isDirectory()) return 1
  const entries = await readdir(path, { recursive: true, withFileTypes: true })
  return entries.filter((entry) => !entry.isDirectory()).length
}
