import { randomUUID } from 'node:crypto'
import type { Tracer } from '@opentelemetry/api'
import { pino } from 'pino'
import type { Registry } from 'prom-client'
import type { Logger } from '../log/index.ts'
import { type Clock, systemClock } from '../resilience/index.ts'
import { Bus } from './bus.ts'
import { Execution, type StepGate, type StepInterceptor } from './executor.ts'
import type { Flow } from './flow.ts'
import { checkFlowInput } from './input-check.ts'
import type { TimelineEvent } from './journal.ts'
import { MemoryJournal } from './memory-journal.ts'
import { flowMetrics } from './metrics.ts'
import type { Fault } from './outcome.ts'
import { inMemoryGate } from './step-gates.ts'

/** How a run ended. `dead`: a step (or a compensation) failed on every attempt. */
export type RunResult<O> =
  | {
      readonly status: 'completed'
      readonly runId: string
      readonly output: O
      readonly timeline: readonly TimelineEvent[]
    }
  | {
      readonly status: 'compensated'
      readonly runId: string
      readonly fault: Fault
      readonly timeline: readonly TimelineEvent[]
    }
  | {
      readonly status: 'dead'
      readonly runId: string
      readonly step: string
      /** `compensation`: the step ran, a later one faulted, and undoing it failed on every attempt. */
      readonly phase: 'forward' | 'compensation'
      readonly error: unknown
      readonly timeline: readonly TimelineEvent[]
    }

/** Options of {@link runFlow}. */
export interface RunFlowOptions {
  readonly runId?: string
  /** Values and resources the steps read with `ctx.get(key)`. */
  readonly bus?: Bus
  /** Time source for sleeps, retry delays and timeouts (a fake clock in tests). */
  readonly clock?: Clock
  readonly logger?: Logger
  /** Registry for the step and run metrics (an app's `app.metrics.registry`). */
  readonly registry?: Registry
  readonly tracer?: Tracer
  /**
   * Aborting cancels the run: the current step's signal fires, nothing further runs, nothing is
   * compensated, and `runFlow` rejects with the signal's reason.
   */
  readonly signal?: AbortSignal
  /** Record the timeline (default true). Off saves an allocation per step on hot paths. */
  readonly timeline?: boolean
  /** Called with every event a step emits. */
  readonly onEvent?: (event: string, payload: unknown) => void
  /**
   * Called before each step runs (with the run's `signal`, which a waiting gate must heed): a
   * promise holds the run there until it settles; if it rejects, nothing further runs, nothing is
   * compensated, and `runFlow` rejects with its reason. Given, it replaces the process-wide gates,
   * which are the inspector's breakpoints while an app with the inspector runs in a development
   * profile; without either, the run is not gated at all.
   */
  readonly beforeStep?: StepGate
  /** @internal the test kit's fault injection */
  readonly intercept?: StepInterceptor
}

const silent = pino({ level: 'silent' })
const never = new AbortController().signal

/**
 * Runs a flow in memory, start to end, in this call: steps run with their retries and
 * timeouts, faults compensate completed steps in reverse order, and the result says how it
 * ended. Nothing is stored, so a crash loses the run; use a durable runner for that.
 *
 * @example
 * ```ts
 * const result = await runFlow(orderFlow, { items, card })
 * if (result.status === 'completed') console.log(result.output.shipmentId)
 * else if (result.status === 'compensated') console.log('rolled back:', result.fault.code)
 * ```
 */
export async function runFlow<I, O>(
  flow: Flow<I, O>,
  input: I,
  options: RunFlowOptions = {},
): Promise<RunResult<O>> {
  checkFlowInput(flow, input)
  const clock = options.clock ?? systemClock
  const journal = new MemoryJournal(clock, { timeline: options.timeline ?? true })
  const runId = options.runId ?? randomUUID()
  journal.start(input)
  // Read once per run: with no gate registered nothing is passed and steps do no gate work.
  const beforeStep = options.beforeStep ?? inMemoryGate()
  const execution = new Execution({
    runId,
    flow,
    journal,
    bus: options.bus ?? Bus.empty,
    clock,
    logger: options.logger ?? silent,
    signal: options.signal ?? never,
    mode: 'forward',
    ...(options.registry ? { metrics: flowMetrics(options.registry) } : {}),
    ...(options.tracer ? { tracer: options.tracer } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    ...(options.intercept ? { intercept: options.intercept } : {}),
    ...(beforeStep ? { beforeStep } : {}),
  })
  const result = await execution.run(input)
  const timeline = journal.timeline
  switch (result.status) {
    case 'completed':
      return { status: 'completed', runId, output: result.output as O, timeline }
    case 'dead':
      return { status: 'dead', runId, step: result.step, phase: result.phase, error: result.error, timeline }
    case 'compensated':
    case 'discarded':
      return { status: 'compensated', runId, fault: result.fault, timeline }
    case 'suspended':
      // The memory journal always sleeps inline and never parks a run.
      throw new Error('unreachable: an in-memory run cannot be suspended')
  }
}
