import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { App } from '../app/index.ts'
import { KeelError } from '../errors/index.ts'

/**
 * Imports the module that builds the app (`export const app = createApp()` or a default export)
 * without starting it. TypeScript entries load through tsx when Node cannot run them itself.
 */
export async function loadEntry(entry: string): Promise<App> {
  const url = pathToFileURL(resolve(entry)).href
  let loaded: Record<string, unknown>
  try {
    loaded = await import(url)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      const { register } = await import('tsx/esm/api')
      register()
      loaded = await import(url)
    } else if (code === 'ERR_MODULE_NOT_FOUND' && (error as Error).message.includes(resolve(entry))) {
      throw new KeelError('KEEL_ENTRY_INVALID', `--entry ${entry}: file not found`)
    } else {
      throw error
    }
  }
  const app = (loaded.app ?? loaded.default) as App | undefined
  if (!app || typeof app.describe !== 'function') {
    throw new KeelError(
      'KEEL_ENTRY_INVALID',
      `--entry ${entry}: exports neither \`app\` nor a default app (export const app = createApp())`,
    )
  }
  return app
}
