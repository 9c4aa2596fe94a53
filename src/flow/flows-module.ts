import { Type } from '@sinclair/typebox'
import type { App, KeelModule, ModuleDescription } from '../app/index.ts'
import { defineConfigSection } from '../config/index.ts'
import type { DatabaseModule } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
import type { Bus } from './bus.ts'
import { FlowRunner } from './durable/runner.ts'
import type { AnyFlow } from './flow.ts'
import type { FlowSchematic } from './schematic.ts'

/** The `flows` config section: how the app's durable runner claims and executes runs. */
export const flowsSection = defineConfigSection('flows', {
  concurrency: Type.Integer({
    minimum: 1,
    default: 16,
    description: 'flow runs this process executes at once',
  }),
  leaseMs: Type.Integer({
    minimum: 100,
    default: 15_000,
    description:
      'how long a claimed run stays this worker’s without a heartbeat; after a crash, runs resume once it runs out',
  }),
  pollMs: Type.Integer({
    minimum: 10,
    default: 500,
    description: 'how often to look for runs that are due (resumed, woken, submitted elsewhere)',
  }),
  maxResumes: Type.Integer({
    minimum: 1,
    default: 10,
    description: 'a run found still running this many times (its worker died each time) goes dead instead',
  }),
  drainTimeoutMs: Type.Optional(
    Type.Integer({
      minimum: 0,
      description:
        'on shutdown, how long running steps get to finish before their signals abort; unset: the module stop deadline less a margin',
    }),
  ),
})

/** Options of {@link flows}. */
export interface FlowsOptions {
  /** The database module whose `db` holds the runs; the flows module starts after it. */
  readonly database: DatabaseModule
  /** The flows this app executes (and describes). */
  readonly flows: readonly AnyFlow[]
  /** Process resources steps read with `ctx.get(key)` (clients, the db). */
  readonly bus?: Bus
  /** Module name, also the name of its health check. Default `flows`. */
  readonly name?: string
}

/** The flows module: a {@link KeelModule} that runs durable flows on the app's database. */
export interface FlowsModule extends KeelModule {
  readonly config: typeof flowsSection
  /** The flows this module runs. */
  readonly flows: readonly AnyFlow[]
  /** The started runner. @throws KeelError `KEEL_APP_STATE` before the app started. */
  readonly runner: FlowRunner
  describe(): ModuleDescription & { flows: FlowSchematic[] }
}

/**
 * Out of the module's stop deadline, the time kept for what follows the drain: the runner's grace
 * for aborted steps to notice (1 s) and the last writes.
 */
const unwindMarginMs = (deadlineMs: number) => Math.min(2000, Math.floor(deadlineMs / 4))

/** Fires when the app of a started flows module begins to drain (the HTTP binding stops waiting). */
const drainSignals = new WeakMap<FlowsModule, AbortSignal>()

/** @internal The signal that fires when the module's app starts draining; undefined before start. */
export const drainSignalOf = (module: FlowsModule): AbortSignal | undefined => drainSignals.get(module)

/**
 * Durable flows as a module. On start it opens a {@link FlowRunner} on the database module's
 * `db` (creating its tables), with the app's metrics (`keel_flow_*`), tracer and a `keel:flow`
 * logger, resumes runs that a crash or a shutdown left behind, and adds a non-critical health
 * check. On stop it stops claiming, lets running steps finish and parks their runs for the next
 * worker. `app.describe()` carries each flow's schematic under the module's `flows`.
 *
 * @example
 * ```ts
 * const data = database()
 * const orders = flows({ database: data, flows: [orderFlow], bus: Bus.empty.with(Payments, payments) })
 * const app = createApp({ modules: [data, orders] })
 * serveFlow(app, orders, orderFlow, { path: '/orders', mode: 'sync' })
 * // elsewhere: await orders.runner.submit(orderFlow, input, { runId: order.id })
 * ```
 */
export function flows(options: FlowsOptions): FlowsModule {
  const name = options.name ?? 'flows'
  const defined = [...options.flows]
  const seen = new Set<string>()
  for (const flow of defined) {
    if (seen.has(flow.name)) {
      throw new KeelError('KEEL_FLOW_INVALID', `module "${name}": two flows are named "${flow.name}"`)
    }
    seen.add(flow.name)
  }
  let runner: FlowRunner | undefined
  let isRunning = false
  let drainTimeoutMs: number | undefined
  let stopDrainWatch: (() => void) | undefined

  const module: FlowsModule = {
    name,
    dependsOn: [options.database.name],
    config: flowsSection,
    flows: defined,
    get runner(): FlowRunner {
      if (!runner) {
        throw new KeelError(
          'KEEL_APP_STATE',
          `module "${name}": the flow runner starts with the app; read .runner from a handler or after app.start()`,
        )
      }
      return runner
    },
    // With flows.drainTimeoutMs set, the module's stop deadline follows it (plus the unwind margin).
    get stopTimeoutMs(): number | undefined {
      return drainTimeoutMs === undefined ? undefined : drainTimeoutMs + 2000
    },
    async start(app: App) {
      const settings = app.section(flowsSection)
      drainTimeoutMs = settings.drainTimeoutMs
      const tracing = app.tracing
      const started = new FlowRunner({
        db: options.database.db,
        flows: defined,
        concurrency: settings.concurrency,
        leaseMs: settings.leaseMs,
        pollMs: settings.pollMs,
        maxResumes: settings.maxResumes,
        logger: app.logger('keel:flow'),
        registry: app.metrics.registry,
        ...(options.bus ? { bus: options.bus } : {}),
        ...(tracing.enabled && tracing.tracer ? { tracer: tracing.tracer } : {}),
      })
      await started.start()
      try {
        app.health.add({
          name,
          critical: false,
          check: () => ({
            ok: isRunning,
            ...(isRunning ? {} : { message: 'the flow runner is stopped' }),
            details: { activeRuns: started.activeRuns, concurrency: settings.concurrency },
          }),
        })
      } catch (error) {
        // A failed start is not stopped by the app: leave no runner polling a closing database.
        await started.stop(0)
        throw error
      }
      runner = started
      isRunning = true
      const draining = new AbortController()
      drainSignals.set(module, draining.signal)
      stopDrainWatch = app.onStateChange(({ to }) => {
        if (to === 'draining' || to === 'stopped') draining.abort()
      })
      app
        .logger('keel:flow')
        .info(
          { flows: defined.map((f) => f.name), worker: started.workerId, concurrency: settings.concurrency },
          'flow runner started',
        )
    },
    async stop(app: App, signal: AbortSignal) {
      stopDrainWatch?.()
      app.health.remove(name)
      if (!runner) return
      const deadlineMs = module.stopTimeoutMs ?? app.config.values.shutdown.moduleTimeoutMs
      const drainMs = drainTimeoutMs ?? Math.max(0, deadlineMs - unwindMarginMs(deadlineMs))
      const stopping = runner.stop(drainMs)
      // Cut short by the total shutdown deadline: abort the steps now rather than after drainMs.
      const abort = () => void runner?.stop(0)
      signal.addEventListener('abort', abort, { once: true })
      try {
        await stopping
      } finally {
        signal.removeEventListener('abort', abort)
        isRunning = false
      }
    },
    describe() {
      return { flows: defined.map((f) => f.describe()) }
    },
  }
  return module
}
