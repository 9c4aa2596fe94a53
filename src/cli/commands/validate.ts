import { stat } from 'node:fs/promises'
import { formatIssue, readResources } from '../../resources/index.ts'
import { parseFlags } from '../parse-flags.ts'
import { usageError } from '../usage-error.ts'

export const validateHelp = `keel validate: check every resource file

Usage: keel validate [--dir DIR] [--json]

  --dir DIR  directory of the resource files, *.yaml and *.yml (default: resources)
  --json     machine-readable output: { valid, resources, issues: [{ file, line, column, path, message, hint }] }

Prints one line per issue: file:line:col  key.path  message (hint).
Exit codes: 0 every resource is valid, 1 an issue was found (or no resource file), 2 bad arguments
or the directory does not exist.`

/** What the command printed and the exit code it chose. */
export interface ValidateOutcome {
  readonly text: string
  readonly code: number
}

/** Runs `keel validate` with the arguments after the command name. */
export async function validateCommand(args: string[]): Promise<ValidateOutcome> {
  const { values } = parseFlags(args, {
    dir: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) return { text: `${validateHelp}\n`, code: 0 }
  const dir = (values.dir as string | undefined) ?? 'resources'
  await requireDirectory(dir)
  const set = await readResources(dir)
  const names = set.definitions.map((definition) => definition.name)
  const empty = set.files.length === 0
  const code = set.issues.length > 0 || empty ? 1 : 0
  if (values.json) {
    const json = { valid: code === 0, dir, resources: names, files: set.files, issues: set.issues }
    return { text: `${JSON.stringify(json, null, 2)}\n`, code }
  }
  if (empty) return { text: `no resource files (*.yaml) in ${dir}\n`, code }
  if (set.issues.length === 0) {
    const count = `${names.length} resource${names.length === 1 ? '' : 's'}`
    return { text: `${count} valid in ${dir}: ${names.join(', ')}\n`, code }
  }
  const failing = new Set(set.issues.map((issue) => issue.file)).size
  const summary = `${set.issues.length} issue${set.issues.length === 1 ? '' : 's'} in ${failing} of ${set.files.length} file${set.files.length === 1 ? '' : 's'}`
  return { text: `${set.issues.map(formatIssue).join('\n')}\n${summary}\n`, code }
}

/** A missing or non-directory `--dir` is a usage error naming the flag and the path. */
export async function requireDirectory(dir: string, flag = '--dir'): Promise<void> {
  const found = await stat(dir).catch(() => undefined)
  if (!found) throw usageError(`${flag} ${dir}: the directory does not exist`)
  if (!found.isDirectory()) throw usageError(`${flag} ${dir}: not a directory`)
}
