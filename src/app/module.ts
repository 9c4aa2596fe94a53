import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { ConfigSection } from '../config/index.ts'
import type { App } from './app.ts'

/**
 * A capability plugged into the app: it declares its config section and dependencies, and gets
 * start/stop hooks. Modules start in dependency order and stop in reverse, each stop under its
 * own deadline.
 *
 * @example
 * ```ts
 * const cache: KeelModule = {
 *   name: 'cache',
 *   config: defineConfigSection('cache', { ttlMs: Type.Integer({ default: 60_000 }) }),
 *   async start(app) { store = new Map(); app.health.add({ name: 'cache', check: () => true }) },
 *   async stop() { store.clear() },
 * }
 * ```
 */
export interface KeelModule {
  /** Unique name, used in logs, dependency lists and the app description. */
  readonly name: string
  /** Names of modules that must start before this one (and stop after it). */
  readonly dependsOn?: readonly string[]
  /** The config section this module reads; validated with the rest at start-up. */
  readonly config?: ConfigSection
  /**
   * Runs once when the module joins the app (`createApp({ modules })` or `app.use()`), after its
   * config section is loaded: the one moment a module can add routes, WebSocket routes and
   * guards, which are fixed once the app starts. A throw fails `createApp()` / `use()`.
   */
  mount?(app: App): void
  /**
   * In-process span processors (the inspector's trace store), read once at start before tracing
   * is created. Spans are then recorded for them even with `tracing.enabled` off (nothing is
   * exported then), and without changing what is exported when it is on.
   */
  spanProcessors?(app: App): readonly SpanProcessor[]
  /** Runs during start-up; the app is `starting`. A throw aborts start-up. */
  start?(app: App): void | Promise<void>
  /** Runs during shutdown after HTTP has drained; gets an AbortSignal that fires at its deadline. */
  stop?(app: App, signal: AbortSignal): void | Promise<void>
  /** Deadline for `stop`. Default: `shutdown.moduleTimeoutMs`. */
  readonly stopTimeoutMs?: number
  /** What this module adds to the app description (resources, jobs, backing services). */
  describe?(): ModuleDescription
}

/** A module's part of the app description. */
export interface ModuleDescription {
  /** Backing services the module needs at runtime (`postgres`, `redis`, `nats`). */
  services?: readonly string[]
  [fact: string]: unknown
}
