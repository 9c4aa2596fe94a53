import { statSync } from 'node:fs'
import { join, sep } from 'node:path'
import { KeelError } from '../../errors/index.ts'
import type { FlowSchematic } from '../../flow/schematic.ts'
import {
  readSchematicDocument,
  type SchematicDocument,
  schematicDocument,
} from '../../flow/schematic-document.ts'
import { defaultEntry, importEntry, withProfile } from '../load-entry.ts'
import { usageError } from '../usage-error.ts'
import { writeOutput } from '../write-output.ts'

export const flowsExportHelp = `keel flows export: write the schematic of every flow as one JSON document

Usage: keel flows export [--entry FILE] [--out FILE|DIR] [--flow NAME] [--profile NAME] [--json]

  --entry FILE     the module exporting the app or the flows themselves
                   (default: app.ts, src/app.ts, app.js or src/app.js here)
  --out FILE|DIR   write to FILE, or to DIR/flows.json (directories are created); default: standard output
  --flow NAME      only the flow NAME
  --profile NAME   profile to apply while the entry loads (default: KEEL_PROFILE, else dev)
  --json           with --out, report { file, flows: [{ name, version }] } as JSON; errors as JSON

Flows come from the app's description (the flows module) and from any exported flow.
The document is deterministic: the same flows give the same bytes, so it can be committed and
compared with keel flows diff.
Exit codes: 0 written, 1 the entry or the output file is at fault, 2 bad arguments.`

export interface FlowsExportFlags {
  entry?: string
  out?: string
  flow?: string
  profile?: string
  json?: boolean
}

/** File name used when `--out` is a directory. */
const DOCUMENT_NAME = 'flows.json'

/**
 * Loads the entry without starting anything and renders `{ schematicVersion: 1, flows }` as
 * pretty JSON with a trailing newline: the text itself, or, with `--out`, what was written where.
 */
export async function flowsExport(flags: FlowsExportFlags): Promise<string> {
  if (flags.out === '') throw usageError('--out needs a file or directory name')
  if (flags.entry === '') throw usageError('--entry needs a file name')
  if (flags.flow === '') throw usageError('--flow needs a flow name')
  const entry = flags.entry ?? defaultEntry()
  const exports = await withProfile(flags.profile, () => importEntry(entry))
  let document = documentOf(entry, exports)
  if (flags.flow !== undefined) {
    const only = document.flows.filter((f) => f.name === flags.flow)
    if (only.length === 0) {
      const known = document.flows.map((f) => f.name).join(', ') || 'none'
      throw usageError(`--flow ${flags.flow}: ${entry} has no flow of that name (flows: ${known})`)
    }
    document = { ...document, flows: only }
  }
  const text = `${JSON.stringify(document, null, 2)}\n`
  if (flags.out === undefined) return text
  const target = isDirectory(flags.out) ? join(flags.out, DOCUMENT_NAME) : flags.out
  const file = await writeOutput('--out', target, text)
  const flows = document.flows.map((f) => ({ name: f.name, version: f.version }))
  if (flags.json) return `${JSON.stringify({ file, flows })}\n`
  const list = flows.map((f) => `${f.name} ${f.version}`).join(', ')
  return `wrote ${target}: ${flows.length} flow${flows.length === 1 ? '' : 's'}${list ? ` (${list})` : ''}\n`
}

/**
 * The flows of an entry: those its app describes (a module's description with `flows`) and any
 * exported flow (`kind: 'flow'`), so an entry that only builds flows works too.
 */
function documentOf(entry: string, exports: Record<string, unknown>): SchematicDocument {
  const found: FlowSchematic[] = []
  const app = exports.app ?? exports.default
  const hasApp = !isFlow(app) && hasDescribe(app)
  if (hasApp) {
    for (const module of (app.describe() as { modules?: unknown[] }).modules ?? []) {
      const flows = (module as { flows?: unknown }).flows
      if (!Array.isArray(flows)) continue
      for (const item of flows) found.push(isFlow(item) ? item.describe() : (item as FlowSchematic))
    }
  }
  for (const value of Object.values(exports)) if (isFlow(value)) found.push(value.describe())
  if (!hasApp && found.length === 0) {
    throw new KeelError(
      'KEEL_ENTRY_INVALID',
      `--entry ${entry}: exports no flows: neither a built flow nor an app whose modules describe flows`,
    )
  }
  try {
    return readSchematicDocument(schematicDocument(found))
  } catch (error) {
    throw new KeelError('KEEL_ENTRY_INVALID', `--entry ${entry}: ${(error as Error).message}`, {
      cause: error,
    })
  }
}

const hasDescribe = (value: unknown): value is { describe(): unknown } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { describe?: unknown }).describe === 'function'

const isFlow = (value: unknown): value is { kind: 'flow'; describe(): FlowSchematic } =>
  hasDescribe(value) && (value as { kind?: unknown }).kind === 'flow'

function isDirectory(path: string): boolean {
  if (path.endsWith('/') || path.endsWith(sep)) return true
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}
