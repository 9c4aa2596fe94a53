import { existsSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { KeelError } from '../../errors/index.ts'
import { openApiDocument } from '../../http/openapi/index.ts'
import { loadEntry } from '../load-entry.ts'
import { usageError } from '../usage-error.ts'

export const openapiHelp = `keel openapi: write the app's OpenAPI 3.1 document

Usage: keel openapi [--entry FILE] [--out FILE] [--profile NAME] [--include-internal] [--json]

  --entry FILE        the module exporting the app (default: app.ts or src/app.ts here)
  --out FILE          write the document to FILE (directories are created); default: standard output
  --profile NAME      profile to apply while the entry loads (default: KEEL_PROFILE, else dev)
  --include-internal  include internal routes: probes, metrics, the document and docs UI
  --json              with --out, report { file, paths, operations } as JSON; errors as JSON

The document is deterministic: the same app gives the same bytes, so CI can diff it.
Exit codes: 0 written, 1 the entry or the output file is at fault, 2 bad arguments.`

export interface OpenApiFlags {
  entry?: string
  out?: string
  profile?: string
  'include-internal'?: boolean
  json?: boolean
}

const writeErrors: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  // mkdir of a parent that exists as a file.
  EEXIST: 'a parent of it is not a directory',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
}

const DEFAULT_ENTRIES = ['app.ts', 'src/app.ts', 'app.js', 'src/app.js']

/**
 * Loads the app of `--entry` without starting it and renders its OpenAPI document as pretty
 * JSON with a trailing newline: the text itself, or, with `--out`, what was written where.
 */
export async function openapiCommand(flags: OpenApiFlags): Promise<string> {
  if (flags.out === '') throw usageError('--out needs a file name')
  if (flags.entry === '') throw usageError('--entry needs a file name')
  const entry = flags.entry ?? defaultEntry()
  const app = await withProfile(flags.profile, () => loadEntry(entry))
  const document = openApiDocument(app.describe(), {
    title: app.config.values.openapi.title || undefined,
    includeInternal: flags['include-internal'] === true,
  })
  const text = `${JSON.stringify(document, null, 2)}\n`
  if (flags.out === undefined) return text
  const file = resolve(flags.out)
  try {
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, text)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    const reason = writeErrors[code] ?? `${code || (error as Error).message}`
    throw new KeelError('KEEL_CLI_OUTPUT', `--out ${flags.out}: cannot write the document: ${reason}`, {
      cause: error,
    })
  }
  const paths = Object.keys(document.paths).length
  const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0)
  if (flags.json) return `${JSON.stringify({ file, paths, operations })}\n`
  return `wrote ${flags.out}: ${paths} path${paths === 1 ? '' : 's'}, ${operations} operation${operations === 1 ? '' : 's'}\n`
}

function defaultEntry(): string {
  const found = DEFAULT_ENTRIES.find((candidate) => existsSync(candidate))
  if (found) return found
  throw usageError(`--entry FILE is needed: there is no ${DEFAULT_ENTRIES.join(', ')} in ${process.cwd()}`)
}

/** The entry reads KEEL_PROFILE as it loads, so `--profile` is put there for the import and taken back after. */
async function withProfile<T>(profile: string | undefined, load: () => Promise<T>): Promise<T> {
  const previous = process.env.KEEL_PROFILE
  if (profile) process.env.KEEL_PROFILE = profile
  try {
    return await load()
  } finally {
    if (previous === undefined) delete process.env.KEEL_PROFILE
    else process.env.KEEL_PROFILE = previous
  }
}
