import { readFile } from 'node:fs/promises'
import {
  diffSchematicDocuments,
  readSchematicDocument,
  type SchematicDocument,
} from '../../flow/schematic-document.ts'
import { usageError } from '../usage-error.ts'
import { driftReport } from './drift-report.ts'
import type { CommandResult } from './flows.ts'

export const flowsDiffHelp = `keel flows diff: report the drift between two flow schematics

Usage: keel flows diff OLD.json NEW.json [--allow-compatible] [--json]

  OLD.json NEW.json   two documents written by keel flows export (or one flow's describe())
  --allow-compatible  exit 0 when every change is compatible
  --json              the diff as JSON: { severity, flows: [{ flow, before, after, severity, changes }] }

A change is breaking when a run in flight at deploy time can fail or misbehave on resume: a
removed step, a changed input or output schema, a removed path, steps in another order, a step
added before existing ones. See docs/flows-schematic.md.
Exit codes: 0 no changes (or only compatible ones with --allow-compatible), 1 breaking changes
(or compatible ones without --allow-compatible), 2 bad arguments or a file that cannot be read
or is not a schematic.`

export interface FlowsDiffFlags {
  'allow-compatible'?: boolean
  json?: boolean
}

/** Compares two exported documents; the exit code is what a CI gates on. */
export async function flowsDiff(
  files: string[],
  flags: FlowsDiffFlags,
  isTty: boolean,
): Promise<CommandResult> {
  if (files.length !== 2) {
    throw usageError(`flows diff needs two files, OLD.json and NEW.json (got ${files.length})`)
  }
  const [before, after] = await Promise.all(files.map(readDocument))
  const drift = diffSchematicDocuments(before!, after!)
  const allowed = drift.severity === 'none' || (drift.severity === 'compatible' && flags['allow-compatible'])
  const code = allowed ? 0 : 1
  const text = flags.json
    ? `${JSON.stringify(drift, null, 2)}\n`
    : driftReport(drift, { isTty, allowCompatible: flags['allow-compatible'] === true })
  return { text, code }
}

const readErrors: Record<string, string> = {
  ENOENT: 'file not found',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
}

/** Reads one side of the diff; every failure names the file and exits 2, apart from drift's 1. */
async function readDocument(file: string): Promise<SchematicDocument> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? ''
    throw usageError(`${file}: ${readErrors[code] ?? `cannot read it: ${code || (error as Error).message}`}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw usageError(`${file}: not JSON: ${(error as Error).message}`)
  }
  try {
    return readSchematicDocument(json)
  } catch (error) {
    throw usageError(`${file}: not a flow schematic: ${(error as Error).message}`)
  }
}
