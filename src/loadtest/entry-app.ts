import { importEntry, withEnvironment } from '../app/import-entry.ts'
import type { App } from '../app/index.ts'
import { KeelError } from '../errors/index.ts'
import { isLoopbackHost } from './loopback.ts'

/** An app imported from its entry module, not yet listening. */
export interface EntryApp {
  readonly entry: string
  readonly app: App
  /** Starts the app on 127.0.0.1 and a free port; resolves with its base URL. */
  start(): Promise<string>
  /** Stops the app if it was started. */
  stop(): Promise<void>
}

/**
 * What the app is made to be while it is load-tested: bound to loopback on a free port, quiet
 * (an access-log line per request would swamp the terminal and skew the numbers), without the
 * drain delay a prod profile has.
 */
const loadtestEnv: Readonly<Record<string, string>> = {
  KEEL_SERVER__HOST: '127.0.0.1',
  KEEL_SERVER__PORT: '0',
  KEEL_LOG__LEVEL: 'fatal',
  KEEL_SHUTDOWN__DRAIN_DELAY_MS: '0',
}

/**
 * Imports the entry module (`export const app = createApp()` or a default export) as a fresh
 * module instance, so a second run in the same process gets an app that has not been started
 * yet. The environment holds `KEEL_PROFILE` and the load-test settings while the app is created
 * and while it starts (its config is read at both moments), and is restored after.
 */
export async function importEntryApp(entry: string, profile?: string): Promise<EntryApp> {
  const env = { ...loadtestEnv, ...(profile ? { KEEL_PROFILE: profile } : {}) }
  const loaded = await withEnvironment(env, () => importEntry(entry, { fresh: true }))
  const app = (loaded.app ?? loaded.default) as App | undefined
  if (!app || typeof app.start !== 'function' || typeof app.stop !== 'function') {
    throw new KeelError(
      'KEEL_ENTRY_INVALID',
      `--entry ${entry}: exports neither \`app\` nor a default app (export const app = createApp())`,
    )
  }
  let started = false
  return {
    entry,
    app,
    async start() {
      // The config the app will start with, checked before anything listens: an app whose code
      // forces its own host (createApp({ overrides })) is refused, since load goes elsewhere than
      // loopback only to a URL the user names.
      const { server, metrics } = (await withEnvironment(env, async () => app.checkConfig())).values
      if (!isLoopbackHost(server.host)) {
        throw new KeelError(
          'KEEL_ENTRY_INVALID',
          `--entry ${entry}: the app would listen on ${server.host}, not on loopback; keel loadtest sends load to 127.0.0.1 only, unless you start the app yourself and pass --url`,
        )
      }
      // Its other listeners take free ports too, so a copy of the service running beside it
      // does not make the start fail.
      const ports = {
        ...(metrics.port === null ? {} : { KEEL_METRICS__PORT: '0' }),
        ...(server.redirectHttpPort === null ? {} : { KEEL_SERVER__REDIRECT_HTTP_PORT: '0' }),
      }
      const address = await withEnvironment({ ...env, ...ports }, () => app.start())
      started = true
      return address.url
    },
    async stop() {
      if (started) await app.stop('keel loadtest finished')
    },
  }
}
