import {
  type Link,
  type Context as OtelContext,
  context as otelContext,
  type Span,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api'
import { isKeelError, KeelError } from '../errors/index.ts'
import type { Logger } from '../log/index.ts'
import {
  type Clock,
  type ResolvedRetryOptions,
  resolveRetryOptions,
  retryDelay,
  shouldRetry,
} from '../resilience/index.ts'
import type { Bus, BusKey } from './bus.ts'
import type { AnyFlow } from './flow.ts'
import { type EventDraft, errorInfo, type Journal, type RunEnd } from './journal.ts'
import type { FlowMetrics, StepMetrics } from './metrics.ts'
import type { FlowNode } from './nodes.ts'
import { type Fault, type FaultOutcome, isOutcome } from './outcome.ts'
import { DeadSignal, FaultSignal, SkipSignal, SuspendSignal, strongest } from './signals.ts'
import type { AnyStep, StepContext } from './step.ts'

/** Lets tests put a fault or an error in front of a step's attempt (see `keel/flow` testing). */
export type StepInterceptor = (
  step: string,
  attempt: number,
) => FaultOutcome | undefined | Promise<FaultOutcome | undefined>

/** Where a run is about to start a step: what a {@link StepGate} sees. */
export interface StepAt {
  readonly runId: string
  readonly flow: string
  /** The step's name. */
  readonly step: string
  /** Its key in the journal: the name, with an index inside a `map` (`charge#2`). */
  readonly key: string
  readonly input: unknown
  /** Aborted when the run is stopped (shutdown, lease lost): a gate waiting on it must give up. */
  readonly signal: AbortSignal
}

/**
 * Called before each step runs (not before replayed ones): a promise holds the run there until it
 * settles. The inspector's breakpoints pause development runs this way.
 */
export type StepGate = (at: StepAt) => void | Promise<void>

/** Everything one execution of a run needs. */
export interface ExecutionOptions {
  readonly runId: string
  readonly flow: AnyFlow
  readonly journal: Journal
  readonly bus: Bus
  readonly clock: Clock
  readonly logger: Logger
  readonly signal: AbortSignal
  /** `compensate` replays only what completed, then undoes it (resumed compensation, discard). */
  readonly mode: 'forward' | 'compensate'
  /** The fault being compensated, in `compensate` mode. */
  readonly fault?: Fault
  readonly metrics?: FlowMetrics
  readonly tracer?: Tracer
  /** The context the `flow` span starts in; default: the active one (the caller's span). */
  readonly spanParent?: OtelContext
  /** Links of the `flow` span: a later execution's link to the trace that submitted the run. */
  readonly spanLinks?: Link[]
  readonly onEvent?: (event: string, payload: unknown) => void
  readonly intercept?: StepInterceptor
  /** Checked before each new step: true parks the run (the worker is draining). */
  readonly shouldYield?: () => boolean
  /** Runs before each new step; see {@link StepGate}. */
  readonly beforeStep?: StepGate
}

/** How an execution stopped. `suspended`: parked (sleep or drain); the run goes on later. */
export type ExecutionResult = RunEnd<unknown> | { readonly status: 'suspended' }

interface Completed {
  readonly key: string
  readonly step: AnyStep
  readonly input: unknown
  readonly output: unknown
  readonly seq: number
}

const defaultRetry = resolveRetryOptions({})
const retryByStep = new WeakMap<AnyStep, ResolvedRetryOptions>()
const retryOf = (step: AnyStep): ResolvedRetryOptions => {
  if (!step.options.retry) return defaultRetry
  let resolved = retryByStep.get(step)
  if (!resolved) {
    resolved = resolveRetryOptions(step.options.retry)
    retryByStep.set(step, resolved)
  }
  return resolved
}

/** Whether to try again: never for a missing bus key, a wiring mistake no later attempt can fix. */
const retries = (retry: ResolvedRetryOptions, error: unknown, attempt: number): boolean =>
  !(isKeelError(error) && error.code === 'KEEL_FLOW_BUS_MISSING') && shouldRetry(retry, error, attempt)

/**
 * Walks a flow tree for one run. Steps with a checkpoint are replayed from it (their output,
 * their branch choice) without running; the rest run with retries and are checkpointed. On a
 * fault the completed steps are compensated in reverse order of completion. The same walk
 * serves in-memory runs (a journal that keeps nothing) and durable ones.
 */
export class Execution {
  readonly #o: ExecutionOptions
  readonly #completed: Completed[] = []
  readonly #span: Span | undefined
  /** No tracer and no interceptor: steps are called straight, without #attempt's wrapping. */
  readonly #direct: boolean

  constructor(options: ExecutionOptions) {
    this.#o = options
    this.#direct = options.tracer === undefined && options.intercept === undefined
    this.#span = options.tracer?.startSpan(
      `flow ${options.flow.name}`,
      {
        attributes: { 'keel.flow': options.flow.name, 'keel.flow.run_id': options.runId },
        ...(options.spanLinks ? { links: options.spanLinks } : {}),
      },
      options.spanParent,
    )
  }

  async run(input: unknown): Promise<ExecutionResult> {
    const o = this.#o
    o.metrics?.runStarted(o.flow.name)
    let result: ExecutionResult
    try {
      result = await this.#drive(input)
    } catch (error) {
      o.metrics?.runEnded(o.flow.name, 'interrupted')
      this.#endSpan(error)
      throw error
    }
    o.metrics?.runEnded(o.flow.name, result.status)
    this.#endSpan(result.status === 'dead' ? result.error : undefined)
    return result
  }

  async #drive(input: unknown): Promise<ExecutionResult> {
    const o = this.#o
    let fault = o.fault
    try {
      const output = await this.#sequence(o.flow.nodes, input, '')
      if (o.mode === 'forward') {
        await o.journal.finish({ status: 'completed', output }, [{ type: 'run.completed' }])
        return { status: 'completed', output }
      }
    } catch (reason) {
      if (reason instanceof SuspendSignal) return { status: 'suspended' }
      if (reason instanceof DeadSignal) return this.#dead(reason)
      if (reason instanceof FaultSignal) fault = reason.fault
      else if (!(reason instanceof SkipSignal)) throw reason
    }
    // A fault, or a compensate-only replay: undo what completed, newest first.
    const resolvedFault = fault ?? { code: 'discarded', message: 'the run was discarded' }
    try {
      await this.#compensate()
    } catch (reason) {
      if (reason instanceof DeadSignal) return this.#dead(reason)
      throw reason
    }
    const status = resolvedFault.code === 'discarded' && o.mode === 'compensate' ? 'discarded' : 'compensated'
    await o.journal.finish({ status, fault: resolvedFault }, [
      { type: status === 'discarded' ? 'run.discarded' : 'run.compensated', data: resolvedFault },
    ])
    return { status, fault: resolvedFault }
  }

  async #dead(signal: DeadSignal): Promise<ExecutionResult> {
    const error = errorInfo(signal.error)
    await this.#o.journal.finish({ status: 'dead', step: signal.step, phase: signal.phase, error }, [
      { type: 'run.dead', step: signal.step, error, data: { phase: signal.phase } },
    ])
    this.#o.logger.error(
      {
        err: signal.error,
        flow: this.#o.flow.name,
        run_id: this.#o.runId,
        step: signal.step,
        phase: signal.phase,
      },
      'flow run went to the dead-letter list',
    )
    return { status: 'dead', step: signal.step, phase: signal.phase, error: signal.error }
  }

  async #sequence(nodes: readonly FlowNode[], input: unknown, suffix: string): Promise<unknown> {
    let value = input
    for (const node of nodes) {
      // Steps are most nodes: calling #step directly saves an async frame per step.
      value =
        node.type === 'step'
          ? await this.#step(node.step, value, suffix)
          : await this.#node(node, value, suffix)
    }
    return value
  }

  async #node(node: FlowNode, input: unknown, suffix: string): Promise<unknown> {
    switch (node.type) {
      case 'step':
        return this.#step(node.step, input, suffix)
      case 'branch': {
        const decided: Decision = { value: undefined, path: undefined }
        decided.value = await this.#step(node.decider, input, suffix, decided)
        const path =
          decided.path !== undefined && Object.hasOwn(node.paths, decided.path)
            ? node.paths[decided.path]
            : undefined
        if (!path) {
          // Validation guarantees the declared paths exist; an undeclared choice is a bug in the step.
          throw new DeadSignal(
            node.decider.name + suffix,
            new KeelError(
              'KEEL_FLOW_INVALID',
              `step "${node.decider.name}" chose path "${decided.path ?? '(none: it returned no Outcome.branch)'}", which its branch does not have`,
            ),
            'forward',
          )
        }
        return this.#sequence(path, decided.value, suffix)
      }
      case 'parallel': {
        const entries = Object.entries(node.branches)
        const settled = await Promise.allSettled(
          entries.map(([, body]) => this.#sequence(body, input, suffix)),
        )
        const out: Record<string, unknown> = {}
        const reasons: unknown[] = []
        settled.forEach((s, i) => {
          if (s.status === 'fulfilled') out[entries[i]![0]] = s.value
          else reasons.push(s.reason)
        })
        if (reasons.length > 0) throw strongest(reasons)
        return out
      }
      case 'map':
        return this.#map(node.name, node.body, node.concurrency, input, suffix)
      case 'sleep':
        return this.#sleep(node.name + suffix, node.ms, input)
    }
  }

  async #map(
    name: string,
    body: readonly FlowNode[],
    concurrency: number,
    input: unknown,
    suffix: string,
  ): Promise<unknown[]> {
    if (!Array.isArray(input)) {
      throw new DeadSignal(
        name + suffix,
        new KeelError('KEEL_FLOW_INVALID', `map "${name}" needs a list as input, got ${typeof input}`),
        'forward',
      )
    }
    const out = new Array<unknown>(input.length)
    const reasons: unknown[] = []
    let next = 0
    const worker = async () => {
      // Going forward, the first failure stops new items; compensating, every item is visited so
      // each one that completed is undone.
      while (next < input.length && (this.#o.mode === 'compensate' || reasons.length === 0)) {
        const i = next++
        try {
          out[i] = await this.#sequence(body, input[i], `${suffix}[${i}]`)
        } catch (reason) {
          reasons.push(reason)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, input.length) }, worker))
    if (reasons.length > 0) throw strongest(reasons)
    return out
  }

  async #sleep(key: string, ms: number | ((input: unknown) => number), input: unknown): Promise<unknown> {
    const o = this.#o
    const recorded = o.journal.get(key)
    if (recorded) {
      const left = (recorded.wakeAt ?? 0) - o.clock.now()
      // Compensating (a discarded sleeping run) never waits the sleep out: nothing after an
      // unfinished sleep ran, and replay skips what has no checkpoint. Going forward, a sleep
      // with time left (the run woke for a shorter sleep beside it) parks the run again.
      if (left > 0 && o.mode === 'forward') {
        if ((await o.journal.sleep(key, recorded.wakeAt!, [], true)) === 'suspend') throw new SuspendSignal()
        await o.clock.sleep(left, o.signal)
      }
      return input
    }
    if (o.mode === 'compensate') throw new SkipSignal()
    if (o.shouldYield?.()) throw new SuspendSignal()
    const duration = typeof ms === 'number' ? ms : ms(input)
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
      throw new DeadSignal(
        key,
        new KeelError(
          'KEEL_FLOW_INVALID',
          `sleep "${key}" computed ${String(duration)} ms; it needs a finite number >= 0`,
        ),
        'forward',
      )
    }
    const wakeAt = o.clock.now() + Math.max(0, duration)
    const how = await o.journal.sleep(key, wakeAt, [{ type: 'sleep.started', step: key, data: { wakeAt } }])
    if (how === 'suspend') throw new SuspendSignal()
    await o.clock.sleep(Math.max(0, duration), o.signal)
    return input
  }

  /**
   * Runs (or replays) one step and returns its next value; a decider's chosen path goes into
   * `decision`. This is the hot path of every flow: it allocates the step's context and
   * nothing else that a quiet journal (in-memory, no timeline) does not need.
   */
  async #step(step: AnyStep, input: unknown, suffix: string, decision?: Decision): Promise<unknown> {
    const o = this.#o
    const key = suffix === '' ? step.name : step.name + suffix
    const recorded = o.journal.get(key)
    if (recorded) {
      if (recorded.status === 'faulted') throw new FaultSignal(recorded.fault!, key)
      if (step.options.compensate) {
        this.#completed.push({ key, step, input, output: recorded.output, seq: recorded.seq })
      }
      if (decision) decision.path = recorded.path
      return recorded.output
    }
    if (o.mode === 'compensate') throw new SkipSignal()
    if (o.shouldYield?.()) throw new SuspendSignal()
    // A step that ignored its aborted signal and finished must not let the next one start.
    o.signal.throwIfAborted()
    if (o.beforeStep) {
      await o.beforeStep({ runId: o.runId, flow: o.flow.name, step: step.name, key, input, signal: o.signal })
      o.signal.throwIfAborted()
    }

    const metrics = o.metrics?.step(o.flow.name, step.name)
    const quiet = o.journal.quiet === true
    const timed = metrics !== undefined || !quiet
    const direct = this.#direct && step.options.timeoutMs === undefined && step.options.policy === undefined
    for (let attempt = 1; ; attempt++) {
      const began = timed ? performance.now() : 0
      let result: unknown
      try {
        if (direct) {
          result = step.options.run(input, new Context(this, o, key, attempt, o.signal, undefined))
          if (result instanceof Promise) result = await result
        } else {
          result = await this.#attempt(step, input, key, attempt, false)
        }
      } catch (error) {
        await this.#attemptFailed(step, key, attempt, error, timed ? performance.now() - began : 0, metrics)
        continue
      }
      const durationMs = timed ? performance.now() - began : 0
      const outcome = isOutcome(result) ? result : undefined
      if (outcome?.kind === 'fault') {
        metrics?.attempt('faulted', durationMs / 1000)
        await o.journal.record({ key, kind: 'step', status: 'faulted', fault: outcome.fault }, [
          { type: 'step.faulted', step: key, attempt, durationMs, data: outcome.fault },
        ])
        throw new FaultSignal(outcome.fault, key)
      }
      metrics?.attempt('completed', durationMs / 1000)
      const value = outcome ? outcome.value : result
      const path = outcome?.kind === 'branch' ? outcome.path : undefined
      let events = noEvents
      if (!quiet) {
        events = [{ type: 'step.completed', step: key, attempt, durationMs }]
        if (path !== undefined) events.push({ type: 'branch.taken', step: key, data: { path } })
        if (outcome?.kind === 'emit') {
          events.push({
            type: 'event.emitted',
            step: key,
            data: { event: outcome.event, payload: outcome.payload },
          })
        }
      }
      const recording = o.journal.record(
        path === undefined
          ? { key, kind: 'step', status: 'completed', output: value }
          : { key, kind: 'step', status: 'completed', output: value, path },
        events,
      )
      const seq = typeof recording === 'number' ? recording : await recording
      if (outcome?.kind === 'emit') this.#emit(key, outcome.event, outcome.payload)
      if (step.options.compensate) this.#completed.push({ key, step, input, output: value, seq })
      if (decision) decision.path = path
      return value
    }
  }

  /** A failed attempt: recorded, then either a retry delay or the dead-letter list. */
  async #attemptFailed(
    step: AnyStep,
    key: string,
    attempt: number,
    error: unknown,
    durationMs: number,
    metrics: StepMetrics | undefined,
  ): Promise<void> {
    const o = this.#o
    metrics?.attempt('failed', durationMs / 1000)
    if (o.signal.aborted) throw o.signal.reason
    const retry = retryOf(step)
    const again = retries(retry, error, attempt)
    const delayMs = again ? retryDelay(retry, attempt) : 0
    await o.journal.note([
      {
        type: again ? 'step.attempt_failed' : 'step.dead',
        step: key,
        attempt,
        durationMs,
        error: errorInfo(error),
        ...(again ? { data: { retryInMs: delayMs } } : {}),
      },
    ])
    if (!again) {
      metrics?.dead()
      throw new DeadSignal(key, error, 'forward')
    }
    o.logger.warn(
      { err: error, flow: o.flow.name, run_id: o.runId, step: key, attempt },
      'flow step attempt failed',
    )
    await o.clock.sleep(delayMs, o.signal)
  }

  #emit(key: string, event: string, payload: unknown): void {
    const o = this.#o
    if (!o.onEvent) return
    // The step is already recorded as done: a listener's error is logged, never the run's failure.
    try {
      o.onEvent(event, payload)
    } catch (error) {
      o.logger.error(
        { err: error, flow: o.flow.name, run_id: o.runId, step: key, event },
        'flow event listener failed',
      )
    }
  }

  /** One attempt of a step's run (or compensation), under its timeout, in its span. */
  async #attempt(
    step: AnyStep,
    input: unknown,
    key: string,
    attempt: number,
    compensation: false | { output: unknown },
  ): Promise<unknown> {
    const o = this.#o
    const span = o.tracer?.startSpan(
      `${compensation ? 'compensate' : 'step'} ${step.name}`,
      {
        attributes: {
          'keel.flow': o.flow.name,
          'keel.flow.run_id': o.runId,
          'keel.flow.step': key,
          'keel.flow.attempt': attempt,
        },
      },
      this.#span ? trace.setSpan(otelContext.active(), this.#span) : undefined,
    )
    const timeoutMs = step.options.timeoutMs
    const controller = timeoutMs === undefined ? undefined : new AbortController()
    const signal = controller ? AbortSignal.any([o.signal, controller.signal]) : o.signal
    const invoke = async (stepSignal: AbortSignal): Promise<unknown> => {
      const ctx = new Context(this, o, key, attempt, stepSignal, span)
      if (!compensation) return step.options.run(input, ctx)
      await step.options.compensate?.(input, compensation.output, ctx)
      return undefined
    }
    try {
      if (o.intercept && !compensation) {
        const injected = await o.intercept(step.name, attempt)
        if (injected) {
          span?.end()
          return injected
        }
      }
      // A step's policy (circuit breaker, bulkhead…) wraps each attempt; retries stay the step's.
      const policy = step.options.policy
      const call = policy
        ? () => policy.execute(({ signal: policySignal }) => invoke(policySignal), signal)
        : () => invoke(signal)
      // With tracing on, the step runs inside its span so the step's own spans and calls nest under it.
      const work = span ? otelContext.with(trace.setSpan(otelContext.active(), span), call) : call()
      const outcome = controller ? await this.#withTimeout(work, timeoutMs!, controller, key) : await work
      span?.end()
      return outcome
    } catch (error) {
      if (span) {
        span.recordException(error as Error)
        span.setStatus({ code: SpanStatusCode.ERROR })
        span.end()
      }
      throw error
    }
  }

  async #withTimeout<T>(work: Promise<T>, ms: number, controller: AbortController, key: string): Promise<T> {
    const timer = new AbortController()
    const expired = this.#o.clock.sleep(ms, timer.signal).then(() => {
      const error = new KeelError('KEEL_POLICY_TIMEOUT', `step "${key}" did not finish within ${ms} ms`, {
        status: 504,
      })
      controller.abort(error)
      throw error
    })
    try {
      return await Promise.race([work, expired])
    } finally {
      timer.abort()
      expired.catch(() => {})
    }
  }

  /** Undoes completed steps, newest first; each compensation is retried and checkpointed. */
  async #compensate(): Promise<void> {
    const o = this.#o
    const done = [...this.#completed].sort((a, b) => b.seq - a.seq)
    if (done.some((c) => c.step.options.compensate)) {
      await o.journal.note([{ type: 'compensation.started' }])
    }
    for (const entry of done) {
      const { step, key } = entry
      if (!step.options.compensate) continue
      const checkpointKey = `compensate:${key}`
      if (o.journal.get(checkpointKey)) continue
      const retry = retryOf(step)
      const metrics = o.metrics?.step(o.flow.name, step.name)
      for (let attempt = 1; ; attempt++) {
        const began = performance.now()
        try {
          await this.#attempt(step, entry.input, key, attempt, { output: entry.output })
        } catch (error) {
          metrics?.compensation('failed')
          if (o.signal.aborted) throw o.signal.reason
          if (!retries(retry, error, attempt)) throw new DeadSignal(key, error, 'compensation')
          const delayMs = retryDelay(retry, attempt)
          await o.journal.note([
            {
              type: 'compensation.attempt_failed',
              step: key,
              attempt,
              error: errorInfo(error),
              data: { retryInMs: delayMs },
            },
          ])
          await o.clock.sleep(delayMs, o.signal)
          continue
        }
        metrics?.compensation('completed')
        await o.journal.record({ key: checkpointKey, kind: 'compensation', status: 'completed' }, [
          { type: 'step.compensated', step: key, attempt, durationMs: performance.now() - began },
        ])
        break
      }
    }
  }

  #endSpan(error: unknown): void {
    const span = this.#span
    if (!span) return
    if (error) {
      span.recordException(error as Error)
      span.setStatus({ code: SpanStatusCode.ERROR })
    }
    span.end()
  }

  /** For {@link Context}: the logger for one step, built only when the step asks for it. */
  stepLogger(key: string): Logger {
    return this.#o.logger.child({ flow: this.#o.flow.name, run_id: this.#o.runId, step: key })
  }
}

/** The `ctx` a step gets. A class, so each attempt allocates one small object and no closures. */
class Context implements StepContext {
  readonly #execution: Execution
  readonly #bus: Bus
  #logger: Logger | undefined
  readonly runId: string
  readonly flow: string
  readonly step: string
  readonly attempt: number
  readonly signal: AbortSignal
  readonly span: Span | undefined

  constructor(
    execution: Execution,
    o: ExecutionOptions,
    key: string,
    attempt: number,
    signal: AbortSignal,
    span: Span | undefined,
  ) {
    this.#execution = execution
    this.#bus = o.bus
    this.runId = o.runId
    this.flow = o.flow.name
    this.step = key
    this.attempt = attempt
    this.signal = signal
    this.span = span
  }

  get idempotencyKey(): string {
    return `${this.runId}/${this.step}`
  }

  get logger(): Logger {
    this.#logger ??= this.#execution.stepLogger(this.step)
    return this.#logger
  }

  get<T>(key: BusKey<T>): T {
    return this.#bus.get(key)
  }

  has(key: BusKey<unknown>): boolean {
    return this.#bus.has(key)
  }
}

/** A path decision, filled in by the deciding step (an object per branch: branches may run concurrently). */
interface Decision {
  value: unknown
  path: string | undefined
}

const noEvents: EventDraft[] = []
