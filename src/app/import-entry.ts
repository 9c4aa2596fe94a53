import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { KeelError } from '../errors/index.ts'

let fresh = 0

/**
 * Imports an app's entry module (`--entry`) and returns its exports, whatever they are.
 * TypeScript entries load through tsx when Node cannot run them itself. With `fresh`, the module
 * is evaluated again rather than taken from the module cache (a query string makes a new URL),
 * for tools that build the app more than once in one process.
 */
export async function importEntry(
  entry: string,
  options: { fresh?: boolean } = {},
): Promise<Record<string, unknown>> {
  if (options.fresh && !existsSync(entry)) notFound(entry)
  const href = pathToFileURL(resolve(entry)).href
  const url = options.fresh ? `${href}?keel-entry=${++fresh}` : href
  try {
    return await import(url)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      const { register } = await import('tsx/esm/api')
      register()
      return await import(url)
    }
    if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(resolve(entry))) notFound(entry)
    throw error
  }
}

function notFound(entry: string): never {
  throw new KeelError('KEEL_ENTRY_INVALID', `--entry ${entry}: file not found`)
}

/**
 * Runs `run` with `vars` set in `process.env` (`undefined` unsets one), then puts every one back
 * as it was: tools that load an entry (which reads the environment as it builds the app) change
 * only what they must, and only while they load it.
 */
export async function withEnvironment<T>(
  vars: Readonly<Record<string, string | undefined>>,
  run: () => Promise<T>,
): Promise<T> {
  const previous = Object.entries(vars).map(([name]) => [name, process.env[name]] as const)
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  try {
    return await run()
  } finally {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}
