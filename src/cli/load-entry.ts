import { existsSync } from 'node:fs'
import { importEntry, withEnvironment } from '../app/import-entry.ts'
import type { App } from '../app/index.ts'
import { KeelError } from '../errors/index.ts'
import { usageError } from './usage-error.ts'

/** The entry module's exports, whatever they are (`keel flows export` also takes bare flows). */
export { importEntry }

const DEFAULT_ENTRIES = ['app.ts', 'src/app.ts', 'app.js', 'src/app.js']

/**
 * Imports the module that builds the app (`export const app = createApp()` or a default export)
 * without starting it. TypeScript entries load through tsx when Node cannot run them itself.
 */
export async function loadEntry(entry: string): Promise<App> {
  const loaded = await importEntry(entry)
  const app = (loaded.app ?? loaded.default) as App | undefined
  if (!app || typeof app.describe !== 'function') {
    throw new KeelError(
      'KEEL_ENTRY_INVALID',
      `--entry ${entry}: exports neither \`app\` nor a default app (export const app = createApp())`,
    )
  }
  return app
}

/** `--entry` when not given: the first of app.ts, src/app.ts, app.js, src/app.js in the working directory. */
export function defaultEntry(): string {
  const found = DEFAULT_ENTRIES.find((candidate) => existsSync(candidate))
  if (found) return found
  throw usageError(`--entry FILE is needed: there is no ${DEFAULT_ENTRIES.join(', ')} in ${process.cwd()}`)
}

/** The entry reads KEEL_PROFILE as it loads, so `--profile` is put there for the import and taken back after. */
export function withProfile<T>(profile: string | undefined, load: () => Promise<T>): Promise<T> {
  return profile ? withEnvironment({ KEEL_PROFILE: profile }, load) : load()
}
