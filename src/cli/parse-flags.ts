import { parseArgs } from 'node:util'
import { usageError } from './usage-error.ts'

/** The flags a command takes, as `node:util` `parseArgs` spells them. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>

/** Parses a command's arguments strictly; an unknown or malformed flag is a usage error (exit 2). */
export function parseFlags(args: string[], options: FlagSpec, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true })
  } catch (error) {
    // Node adds advice on positionals that start with '-', which only buries the flag's name.
    const message = (error as Error).message
      .replace(/^Unknown option/, 'unknown flag')
      .replace(/\. To specify a positional.*$/s, '')
    throw usageError(message)
  }
}
