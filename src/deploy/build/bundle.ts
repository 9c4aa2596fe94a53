import { dirname, join } from 'node:path'
import { build, type Message, type Metafile } from 'esbuild'
import { KeelError } from '../../errors/index.ts'
import { serverEntryName, serverEntrySource } from './server-entry.ts'

/** What {@link bundleServer} needs. */
export interface BundleOptions {
  /** Absolute path of the app module. */
  readonly entry: string
  /** The entry as the user wrote it, for messages. */
  readonly entryLabel: string
  /** Absolute path of the output folder (exists and is empty). */
  readonly outDir: string
  /** Packages (and their subpaths) left to `node_modules` at run time. */
  readonly external: readonly string[]
  readonly minify: boolean
  /** Folder that paths in the metafile are relative to. */
  readonly workingDirectory: string
}

/** The bundle esbuild wrote, and what it is made of. */
export interface Bundle {
  readonly file: string
  readonly sourceMapFile: string
  readonly metafile: Metafile
  /** esbuild warnings as `file:line:column: text`. */
  readonly warnings: string[]
}

/**
 * Node's ESM has no `require`; bundled CommonJS packages that require built-ins (`require('fs')`)
 * reach for it through esbuild's shim, so the bundle defines one. esbuild renames any top-level
 * `require` of the bundled code away from this one, since the shim refers to it unbound.
 */
const requireBanner =
  "import { createRequire as __keelCreateRequire } from 'node:module'\nconst require = __keelCreateRequire(import.meta.url)"

/**
 * Bundles the app of `entry` and Keel (from source, through the `source` export condition) into
 * `server.mjs` with a linked source map. Fails with `KEEL_BUILD_FAILED` listing each esbuild
 * error as `file:line:column: text`.
 */
export async function bundleServer(options: BundleOptions): Promise<Bundle> {
  const file = join(options.outDir, 'server.mjs')
  try {
    const result = await build({
      stdin: {
        contents: serverEntrySource(options.entry),
        resolveDir: dirname(options.entry),
        sourcefile: serverEntryName,
        loader: 'js',
      },
      absWorkingDir: options.workingDirectory,
      outfile: file,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      // Keel's package.json maps `source` to src/*.ts; a published Keel ships src/ too.
      conditions: ['source'],
      external: options.external.flatMap((name) => [name, `${name}/*`]),
      banner: { js: requireBanner },
      // CommonJS packages read their folder from __dirname; in the bundle that folder is dist/.
      define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
      sourcemap: 'linked',
      // Stack traces need lines, not the sources: keeps the image free of source code.
      sourcesContent: false,
      minify: options.minify,
      // Renaming to avoid collisions must not change `error.name` or class names in logs.
      keepNames: true,
      metafile: true,
      logLevel: 'silent',
    })
    return {
      file,
      sourceMapFile: `${file}.map`,
      metafile: result.metafile,
      warnings: result.warnings.map(formatMessage),
    }
  } catch (error) {
    const errors = (error as { errors?: Message[] }).errors
    if (!Array.isArray(errors)) throw error
    const lines = errors.map((message) => `  ${formatMessage(message)}${hintFor(message)}`)
    throw new KeelError(
      'KEEL_BUILD_FAILED',
      `--entry ${options.entryLabel}: bundling failed with ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
      { cause: error },
    )
  }
}

/** `src/app.ts:12:4: Could not resolve "x"`, the way editors link to a place. */
export function formatMessage(message: Message): string {
  const where = message.location
    ? `${message.location.file}:${message.location.line}:${message.location.column + 1}: `
    : ''
  return `${where}${message.text}`
}

function hintFor(message: Message): string {
  if (/^Could not resolve "keel(\/[^"]*)?"/.test(message.text))
    return ' (the service must have keel installed: npm install keel)'
  return ''
}
