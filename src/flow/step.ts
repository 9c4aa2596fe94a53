import type { Span } from '@opentelemetry/api'
import type { Static, TSchema } from '@sinclair/typebox'
import type { Logger } from '../log/index.ts'
import type { Policy, RetryOptions } from '../resilience/index.ts'
import type { BusKey } from './bus.ts'
import type { Outcome } from './outcome.ts'

/** What a step's function receives besides its input. */
export interface StepContext {
  /** The run's id: stable across retries and resumes. */
  readonly runId: string
  readonly flow: string
  /** The step's key in the run: its name, with `[i]` per enclosing `map` (`charge[2]`). */
  readonly step: string
  /** 1 for the first attempt, counting up across retries of this execution. */
  readonly attempt: number
  /**
   * `<runId>/<step key>`: the same for every attempt and after a resume. Pass it to whatever
   * the step changes in the outside world (an `Idempotency-Key` header, a unique column), so a
   * repeated attempt does not repeat the effect.
   */
  readonly idempotencyKey: string
  /** Aborts when the step times out, the run is cancelled, or the worker loses the run. */
  readonly signal: AbortSignal
  /** A logger carrying flow, run_id and step. */
  readonly logger: Logger
  /** The step's span when tracing is on. */
  readonly span: Span | undefined
  /** A value from the run's bus; throws `KEEL_FLOW_BUS_MISSING` naming the key when absent. */
  get<T>(key: BusKey<T>): T
  has(key: BusKey<unknown>): boolean
}

/** What a step function may return: a plain value means "next". */
export type StepResult<O, P extends string> = O | Outcome<O, P> | Promise<O | Outcome<O, P>>

/** Options of {@link step}. */
export interface StepOptions<I, O, P extends string = never> {
  /** JSON Schema of the input (for the schematic, and validated when given). */
  readonly input?: TSchema
  /** JSON Schema of the output (for the schematic, and validated when given). */
  readonly output?: TSchema
  /** The work. Runs at least once; see the idempotency contract in docs/flows.md. */
  run(input: I, ctx: StepContext): StepResult<O, P>
  /**
   * Undoes the step's effect when a later step faults (saga). Gets the step's input and output.
   * Retried by `retry` and checkpointed, like the step.
   */
  compensate?(input: I, output: O, ctx: StepContext): void | Promise<void>
  /** Retry of failed attempts (thrown errors; faults are never retried). Default 3 attempts, exponential. */
  readonly retry?: RetryOptions
  /** Deadline of one attempt; the signal aborts and the attempt fails (and may be retried). */
  readonly timeoutMs?: number
  /**
   * A resilience policy around each attempt, usually shared by the steps that call one service:
   * a `circuitBreaker` (an open circuit fails attempts fast, so retries back off instead of
   * piling on) or a `bulkhead` (at most N calls at once). The step's own `retry` and
   * `timeoutMs` stay outside it. `ctx.signal` is the policy's signal.
   */
  readonly policy?: Policy
  /** Paths this step can choose with `Outcome.branch`; required when it decides a `branch`. */
  readonly paths?: readonly P[]
  /** Fault codes the step may return, for the schematic. */
  readonly faults?: readonly string[]
  /** One line for the schematic and the inspector. */
  readonly description?: string
}

/** A named, typed unit of work: `(input, ctx) => Outcome`. Immutable; reuse it in several flows. */
export interface Step<I, O, P extends string = never> {
  readonly kind: 'step'
  readonly name: string
  readonly options: StepOptions<I, O, P>
  /** Phantom fields carrying the types; never set. */
  readonly __in?: (input: I) => void
  readonly __out?: O
}

/** Any step, whatever its types. */
// biome-ignore lint/suspicious/noExplicitAny: the erased form the executor works with
export type AnyStep = Step<any, any, string>

const stepName = /^[A-Za-z][\w-]*$/

/**
 * Declares a step. With `input`/`output` TypeBox schemas the types come from the schemas;
 * otherwise from the `run` function's annotations.
 *
 * @example
 * ```ts
 * const reserve = step('reserve', {
 *   input: Order,
 *   output: Reservation,
 *   run: async (order, ctx) => inventory.reserve(order.items, { key: ctx.idempotencyKey }),
 *   compensate: async (_order, reservation) => inventory.release(reservation.id),
 *   retry: { maxAttempts: 5 },
 * })
 * ```
 */
export function step<IS extends TSchema, OS extends TSchema, P extends string = never>(
  name: string,
  options: Omit<StepOptions<Static<IS>, Static<OS>, P>, 'input' | 'output'> & {
    readonly input: IS
    readonly output: OS
  },
): Step<Static<IS>, Static<OS>, P>
export function step<I, O, P extends string = never>(
  name: string,
  options: StepOptions<I, O, P>,
): Step<I, O, P>
export function step<I, O, P extends string = never>(
  name: string,
  run: (input: I, ctx: StepContext) => StepResult<O, P>,
): Step<I, O, P>
export function step<I, O, P extends string>(
  name: string,
  options: StepOptions<I, O, P> | ((input: I, ctx: StepContext) => StepResult<O, P>),
): Step<I, O, P> {
  if (!stepName.test(name)) {
    throw new TypeError(`step name "${name}" must start with a letter and hold only letters, digits, _ and -`)
  }
  const resolved = typeof options === 'function' ? { run: options } : options
  if (typeof resolved.run !== 'function') throw new TypeError(`step "${name}" needs a run function`)
  if (resolved.timeoutMs !== undefined && !(resolved.timeoutMs > 0)) {
    throw new TypeError(`step "${name}": timeoutMs must be > 0 (got ${resolved.timeoutMs})`)
  }
  return Object.freeze({ kind: 'step', name, options: Object.freeze({ ...resolved }) })
}
