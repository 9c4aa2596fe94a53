import { AssertionError } from 'node:assert'
import type { Clock } from '../resilience/index.ts'
import type { StepInterceptor } from './executor.ts'
import type { AnyFlow, Flow } from './flow.ts'
import type { TimelineEvent } from './journal.ts'
import { Outcome } from './outcome.ts'
import { type RunFlowOptions, type RunResult, runFlow } from './run-flow.ts'

interface Sleeper {
  readonly at: number
  /** Tie-break: sleeps due at the same time wake in the order they were asked for. */
  readonly order: number
  readonly wake: () => void
}

/** Options of {@link FakeClock}. */
export interface FakeClockOptions {
  /**
   * `'auto'` (default): a sleep resolves on the next macrotask, time jumping to its deadline, so
   * retries, timeouts and durable sleeps finish at once while `now()` moves as if time passed.
   * `'manual'`: sleeps wait for {@link FakeClock.advance}.
   */
  readonly mode?: 'auto' | 'manual'
  /** Epoch ms the clock starts at. Default 2024-01-01T00:00:00Z. */
  readonly now?: number
}

/**
 * A {@link Clock} whose time moves only when sleeps need it to. In `auto` mode the earliest
 * pending sleep wakes once everything else has settled (the next macrotask), so a step's 50 ms
 * timeout still beats its own 1 s wait, as it would on a real clock. Auto mode assumes the code
 * under test waits only on this clock: a step awaiting real I/O under a `timeoutMs` would lose
 * the race to its deadline, and code that sleeps in a loop (a runner's poll or heartbeat) would
 * spin time forward without end; use `manual` mode and {@link FakeClock.advance} for those.
 *
 * @example
 * ```ts
 * const clock = new FakeClock({ mode: 'manual' })
 * const done = clock.sleep(1000)
 * await clock.advance(999) // still waiting
 * await clock.advance(1) // resolved; clock.now() moved by 1000
 * await done
 * ```
 */
export class FakeClock implements Clock {
  readonly mode: 'auto' | 'manual'
  /** Every sleep asked for, in ms, in order: retry delays and timeouts included. */
  readonly sleeps: number[] = []
  #now: number
  #sleepers: Sleeper[] = []
  #order = 0
  #tickScheduled = false

  constructor(options: FakeClockOptions = {}) {
    this.mode = options.mode ?? 'auto'
    this.#now = options.now ?? Date.UTC(2024, 0, 1)
  }

  now(): number {
    return this.#now
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms)
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper)
        reject(signal?.reason)
      }
      const sleeper: Sleeper = {
        at: this.#now + Math.max(0, ms),
        order: this.#order++,
        wake: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#sleepers.push(sleeper)
      this.#scheduleTick()
    })
  }

  /**
   * Moves time forward by `ms`, waking due sleepers in deadline order and letting the promise
   * callbacks of each run before the next, so a sleep that a woken sleeper chains (a retry's
   * delay after a timeout) wakes too when it falls within `ms`.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`FakeClock.advance: ms must be >= 0 (got ${ms})`)
    const target = this.#now + ms
    for (let next = this.#earliest(); next && next.at <= target; next = this.#earliest()) {
      this.#wake(next)
      await settle()
    }
    // Auto ticks may have moved time past `target` meanwhile; time never goes back.
    this.#now = Math.max(this.#now, target)
    await settle()
  }

  /** Sleeps still waiting. */
  get pending(): number {
    return this.#sleepers.length
  }

  #earliest(): Sleeper | undefined {
    let best: Sleeper | undefined
    for (const s of this.#sleepers) {
      if (!best || s.at < best.at || (s.at === best.at && s.order < best.order)) best = s
    }
    return best
  }

  #wake(sleeper: Sleeper): void {
    this.#sleepers = this.#sleepers.filter((s) => s !== sleeper)
    this.#now = Math.max(this.#now, sleeper.at)
    sleeper.wake()
  }

  #scheduleTick(): void {
    if (this.mode !== 'auto' || this.#tickScheduled) return
    this.#tickScheduled = true
    // A macrotask runs after every pending microtask, so sleeps that race (a step's wait and its
    // timeout) are all registered before the earliest of them wakes.
    setImmediate(() => {
      this.#tickScheduled = false
      const next = this.#earliest()
      if (!next) return
      this.#wake(next)
      if (this.#sleepers.length > 0) this.#scheduleTick()
    })
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * What {@link testFlow} puts in front of every attempt of a step: an error thrown from the
 * attempt (so the step's retries apply), or a typed fault returned instead of running it (never
 * retried; compensation starts). `times` (default: every attempt) limits how many attempts of
 * the step, counted across its `map` items, get it.
 */
export type InjectedFault =
  | { readonly error: Error; readonly times?: number }
  | {
      readonly fault: { readonly code: string; readonly message?: string; readonly details?: unknown }
      readonly times?: number
    }

/** Options of {@link testFlow}: those of `runFlow`, a clock and faults to inject by step name. */
export interface TestFlowOptions extends Omit<RunFlowOptions, 'intercept' | 'timeline'> {
  /** Default: a new {@link FakeClock} in `auto` mode. */
  readonly clock?: Clock
  /** By step name (not key: one entry covers every `map` item). */
  readonly faults?: Readonly<Record<string, InjectedFault>>
}

/** An event a step emitted with `Outcome.emit`. */
export interface EmittedEvent {
  /** The key of the step that emitted it. */
  readonly step: string
  readonly event: string
  readonly payload: unknown
}

/** What a test wants to know about a run, read from its timeline. */
export interface RunTrace {
  /** Keys of the steps that completed, in completion order (`charge[1]` inside a map). */
  readonly path: readonly string[]
  /** Keys of the steps compensated, in order. */
  readonly compensated: readonly string[]
  /** Attempts made per step key, the failed ones included. */
  readonly attempts: Readonly<Record<string, number>>
  readonly emitted: readonly EmittedEvent[]
  /** Throws an `AssertionError` showing both paths unless {@link RunTrace.path} is exactly `keys`. */
  expectPath(...keys: string[]): void
  /** Throws an `AssertionError` showing both lists unless {@link RunTrace.compensated} is exactly `keys`. */
  expectCompensated(...keys: string[]): void
}

/** A run's result with its {@link RunTrace}. */
export type TestRun<O> = RunResult<O> & RunTrace

/**
 * Runs a flow in memory for a test: on a fake clock by default (sleeps, retry delays and
 * timeouts take no real time), with faults injected by step name, and returns the result with
 * the path the run took, what it compensated, attempts per step and emitted events.
 *
 * @example
 * ```ts
 * const run = await testFlow(orderFlow, order, {
 *   bus: Bus.empty.with(Payments, fakePayments),
 *   faults: { ship: { fault: { code: 'no_carrier' } }, charge: { error: new Error('ECONNRESET'), times: 1 } },
 * })
 * expect(run.status).toBe('compensated')
 * expect(run.attempts.charge).toBe(2)
 * run.expectPath('reserve', 'charge')
 * run.expectCompensated('charge', 'reserve')
 * ```
 */
export async function testFlow<I, O>(
  flow: Flow<I, O>,
  input: I,
  options: TestFlowOptions = {},
): Promise<TestRun<O>> {
  const { faults, ...rest } = options
  const result = await runFlow(flow, input, {
    ...rest,
    clock: options.clock ?? new FakeClock(),
    timeline: true,
    ...(faults ? { intercept: injector(flow, faults) } : {}),
  })
  return { ...result, ...traceOf(result) }
}

function injector(flow: AnyFlow, faults: Readonly<Record<string, InjectedFault>>) {
  const byStep = new Map(Object.entries(faults))
  for (const [name, injected] of byStep) {
    if (!flow.steps.has(name)) {
      const known = [...flow.steps.keys()].join(', ')
      throw new TypeError(`testFlow: faults name step "${name}", which flow "${flow.name}" lacks (${known})`)
    }
    if (!('error' in injected) && !('fault' in injected))
      throw new TypeError(`testFlow: the fault for step "${name}" needs an error or a fault`)
  }
  const used = new Map<string, number>()
  const intercept: StepInterceptor = (step) => {
    const injected = byStep.get(step)
    if (!injected) return undefined
    const count = used.get(step) ?? 0
    if (count >= (injected.times ?? Number.POSITIVE_INFINITY)) return undefined
    used.set(step, count + 1)
    if ('error' in injected) throw injected.error
    const { code, message, details } = injected.fault
    return Outcome.fault(code, message, details)
  }
  return intercept
}

function traceOf(result: RunResult<unknown>): RunTrace {
  const path: string[] = []
  const compensated: string[] = []
  const attempts: Record<string, number> = {}
  const emitted: EmittedEvent[] = []
  for (const event of result.timeline) {
    const { type, step, attempt } = event
    if (step === undefined) continue
    if (type === 'step.completed') path.push(step)
    else if (type === 'step.compensated') compensated.push(step)
    else if (type === 'event.emitted') {
      const { event: name, payload } = event.data as { event: string; payload: unknown }
      emitted.push({ step, event: name, payload })
    }
    if (attempt !== undefined && attemptEvents.has(type))
      attempts[step] = Math.max(attempts[step] ?? 0, attempt)
  }
  return {
    path,
    compensated,
    attempts,
    emitted,
    expectPath: (...keys) => expectKeys('path', path, keys, result),
    expectCompensated: (...keys) => expectKeys('compensated', compensated, keys, result),
  }
}

const attemptEvents = new Set<TimelineEvent['type']>([
  'step.completed',
  'step.faulted',
  'step.attempt_failed',
  'step.dead',
])

function expectKeys(what: string, actual: readonly string[], expected: string[], result: RunResult<unknown>) {
  if (actual.length === expected.length && actual.every((key, i) => key === expected[i])) return
  const list = (keys: readonly string[]) => (keys.length === 0 ? '(none)' : keys.join(' → '))
  // No `operator`: with one, Node appends its own diff to a message that already shows both lists.
  throw new AssertionError({
    message: `expected ${what}: ${list(expected)}\n  actual ${what}: ${list(actual)}\n  the run ${ending(result)}`,
    actual: [...actual],
    expected,
  })
}

function ending(result: RunResult<unknown>): string {
  switch (result.status) {
    case 'completed':
      return 'completed'
    case 'compensated':
      return `was compensated after fault "${result.fault.code}": ${result.fault.message}`
    case 'dead': {
      const error = result.error instanceof Error ? result.error.message : String(result.error)
      const when = result.phase === 'compensation' ? ' while compensating it' : ''
      return `went dead at step "${result.step}"${when}: ${error}`
    }
  }
}
