import { isKeelError } from '../errors/index.ts'
import type { App } from './app.ts'

/** What {@link runApp} accepts: an app, or a loader that imports the module exporting one. */
export type AppSource = App | (() => App | Promise<App | { app?: App; default?: App }>)

/** Options of {@link runApp}. */
export interface RunOptions {
  /** Signals that start a graceful shutdown. Default: SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[]
  /** Exits the process when the app stops (default true; tests pass false). */
  exit?: (code: number) => void
}

/**
 * Runs an app as the process's main job: loads it (a config error prints its list of problems
 * and exits 1, no stack trace), starts it, and shuts it down gracefully on SIGTERM/SIGINT.
 *
 * Exit codes: 0 after a clean shutdown; 1 when start-up fails, a shutdown phase fails or times
 * out, the total deadline (`shutdown.deadlineMs`) passes, a second signal arrives, or an uncaught
 * exception or unhandled rejection happens (logged as fatal, then a graceful shutdown).
 *
 * @example
 * ```ts
 * // main.ts
 * import { runApp } from 'keel/app'
 * await runApp(() => import('./app.ts'))
 * ```
 */
export async function runApp(source: AppSource, options: RunOptions = {}): Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code))
  let app: App
  try {
    app = await resolveApp(source)
  } catch (error) {
    printFatal(error)
    return exit(1)
  }
  const log = app.logger('keel:app')
  let exitCode = 0
  let deadline: NodeJS.Timeout | undefined

  const shutdown = (reason: string, code: number) => {
    exitCode = Math.max(exitCode, code)
    if (deadline) return
    const { deadlineMs } = app.config.values.shutdown
    deadline = setTimeout(() => {
      // The sequence may have written this line already, naming the phase; the backstop fires
      // too when that phase's timer and this one land in the same millisecond.
      if (!app.shutdownPastDeadline)
        log.fatal(
          { phase: app.shutdownPhase, deadlineMs },
          `shutdown deadline of ${deadlineMs} ms passed during ${app.shutdownPhase ?? 'shutdown'}; forcing exit`,
        )
      exit(1)
    }, deadlineMs)
    app.stop(reason).then(
      (report) => finish(report.ok ? exitCode : 1),
      (error: unknown) => {
        printFatal(error)
        finish(1)
      },
    )
  }
  const finish = (code: number) => {
    clearTimeout(deadline)
    for (const signal of signals) process.off(signal, onSignal)
    process.off('uncaughtException', onUncaught)
    process.off('unhandledRejection', onRejection)
    exit(code)
  }
  const onSignal = (signal: NodeJS.Signals) => {
    if (deadline) {
      log.fatal(
        { signal, phase: app.shutdownPhase },
        `second ${signal} during ${app.shutdownPhase ?? 'shutdown'}; forcing exit`,
      )
      return exit(1)
    }
    log.info({ signal }, `received ${signal}`)
    shutdown(signal, 0)
  }
  const onUncaught = (error: unknown, origin: string) => {
    log.fatal({ err: error, origin }, `${origin}: shutting down`)
    shutdown(origin, 1)
  }
  const onRejection = (reason: unknown) => onUncaught(reason, 'unhandledRejection')
  const signals = options.signals ?? ['SIGTERM', 'SIGINT']
  for (const signal of signals) process.on(signal, onSignal)
  process.on('uncaughtException', onUncaught)
  process.on('unhandledRejection', onRejection)

  try {
    await app.start()
  } catch (error) {
    // A signal (or an uncaught error) during start-up stopped the app: that shutdown decides the exit.
    if (deadline && isKeelError(error) && error.code === 'KEEL_APP_STATE') return
    printFatal(error)
    return exit(1)
  }
}

async function resolveApp(source: AppSource): Promise<App> {
  if (typeof source !== 'function') return source
  const loaded = await source()
  if (isApp(loaded)) return loaded
  const candidate = loaded.app ?? loaded.default
  if (isApp(candidate)) return candidate
  const { KeelError } = await import('../errors/index.ts')
  throw new KeelError(
    'KEEL_ENTRY_INVALID',
    'the entry module exports neither `app` nor a default app (export const app = createApp())',
  )
}

const isApp = (value: unknown): value is App =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as App).start === 'function' &&
  typeof (value as App).describe === 'function'

/** Prints an error for a person: a Keel error as its code and message, anything else with its stack. */
export function printFatal(error: unknown): void {
  const text = isKeelError(error)
    ? `keel: ${error.code}: ${error.message}`
    : `keel: unexpected error: ${(error as Error)?.stack ?? error}`
  process.stderr.write(`${text}\n`)
}
