import { openApiDocument } from '../../http/openapi/index.ts'
import { defaultEntry, loadEntry, withProfile } from '../load-entry.ts'
import { usageError } from '../usage-error.ts'
import { writeOutput } from '../write-output.ts'

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
  const file = await writeOutput('--out', flags.out, text)
  const paths = Object.keys(document.paths).length
  const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0)
  if (flags.json) return `${JSON.stringify({ file, paths, operations })}\n`
  return `wrote ${flags.out}: ${paths} path${paths === 1 ? '' : 's'}, ${operations} operation${operations === 1 ? '' : 's'}\n`
}
