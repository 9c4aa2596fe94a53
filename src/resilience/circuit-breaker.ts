import {
  BrokenCircuitError,
  CircuitState as CockatielState,
  ConsecutiveBreaker,
  circuitBreaker as cockatielBreaker,
  handleWhen,
  type IBackoff,
  type IBreaker,
  type IHalfOpenAfterBackoffContext,
  IsolatedCircuitError,
} from 'cockatiel'
import { KeelError } from '../errors/index.ts'
import type { Clock } from './clock.ts'
import { isTransientFailure } from './failure.ts'
import { Listeners } from './listeners.ts'
import type { CallOutcome } from './metrics.ts'
import { neverAborted, type Policy, type PolicyOptions } from './policy.ts'
import {
  checkDuration,
  checkFunction,
  checkInteger,
  checkOptionsObject,
  invalidOption,
  policyOptionKeys,
  resolvePolicyOptions,
} from './policy-options.ts'
import { RatioBreaker } from './ratio-breaker.ts'
import { addSpanEvent, errorType } from './span-event.ts'

/** Where a circuit breaker stands. `isolated` is held open by hand with `isolate()`. */
export type CircuitState = 'closed' | 'open' | 'half-open' | 'isolated'

/** Told on every state change; `error` is the failure that opened the circuit, on `to: 'open'`. */
export interface CircuitStateChange {
  from: CircuitState
  to: CircuitState
  error?: unknown
}

/**
 * When the circuit opens: after `consecutive` failures in a row, or when within the last
 * `windowMs` at least `minimumCalls` calls were made and a share `ratio` (0 < ratio <= 1) of
 * them failed.
 */
export type BreakerRule = { consecutive: number } | { ratio: number; windowMs: number; minimumCalls: number }

/** Options of {@link circuitBreaker}. */
export interface CircuitBreakerOptions extends PolicyOptions {
  /** How long the circuit stays open before a call may probe the dependency, in ms. */
  halfOpenAfterMs: number
  breaker: BreakerRule
  /**
   * Whether an error counts against the dependency. Default {@link isTransientFailure}. Errors it
   * rejects pass through and count as neither failure nor success.
   */
  isFailure?: (error: unknown) => boolean
}

/** A circuit breaker {@link Policy} with its state and events. */
export interface CircuitBreakerPolicy extends Policy {
  readonly state: CircuitState
  /** Listens for state changes; returns a function that stops listening. */
  onStateChange(listener: (event: CircuitStateChange) => void): () => void
  /**
   * Holds the circuit open (state `isolated`) until every returned release function was called;
   * then it closes. Use it to take a dependency out by hand during an incident.
   */
  isolate(): () => void
}

const stateNames: Record<CockatielState, CircuitState> = {
  [CockatielState.Closed]: 'closed',
  [CockatielState.Open]: 'open',
  [CockatielState.HalfOpen]: 'half-open',
  [CockatielState.Isolated]: 'isolated',
}
const stateGaugeValues: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 }
const knownKeys = ['halfOpenAfterMs', 'breaker', 'isFailure', ...policyOptionKeys]

/**
 * Stops calling a dependency that keeps failing. Closed, it runs calls and counts failures; when
 * its {@link BreakerRule} trips it opens and refuses calls at once with `KeelError`
 * `KEEL_CIRCUIT_OPEN` (status 503, the failure that opened it as `cause`). After
 * `halfOpenAfterMs` the next call is let through as a probe (half-open) while the calls that
 * arrive meanwhile wait for its result: success closes the circuit, failure opens it again.
 *
 * Built on cockatiel's `CircuitBreakerPolicy`; time (the open period and the ratio window) is
 * read from the policy's clock.
 *
 * Metrics (with a registry): `keel_circuit_state`, `keel_circuit_transitions_total`,
 * `keel_resilience_calls_total`. Span events: `keel.circuit.state_change`, `keel.circuit.rejected`.
 *
 * @example
 * ```ts
 * const breaker = circuitBreaker({
 *   name: 'payments',
 *   halfOpenAfterMs: 10_000,
 *   breaker: { ratio: 0.5, windowMs: 30_000, minimumCalls: 20 },
 *   registry: app.metrics.registry,
 * })
 * breaker.onStateChange(({ from, to }) => log.warn({ from, to }, 'payments circuit changed'))
 * const receipt = await breaker.execute(({ signal }) => charge(order, { signal }))
 * ```
 */
export function circuitBreaker(options: CircuitBreakerOptions): CircuitBreakerPolicy {
  checkOptionsObject('circuitBreaker', options, knownKeys)
  if (options.halfOpenAfterMs === undefined)
    throw invalidOption('circuitBreaker.halfOpenAfterMs', 'is required', undefined)
  checkDuration('circuitBreaker.halfOpenAfterMs', options.halfOpenAfterMs)
  checkFunction('circuitBreaker.isFailure', options.isFailure)
  const { name, clock, metrics } = resolvePolicyOptions('circuitBreaker', options, 'circuit-breaker')
  const { halfOpenAfterMs } = options
  const isFailure = options.isFailure ?? isTransientFailure
  const inner = cockatielBreaker(
    handleWhen((error) => isFailure(error)),
    {
      breaker: createBreaker(options.breaker, clock),
      halfOpenAfter: { next: () => openPeriod(clock, halfOpenAfterMs) },
    },
  )
  const changes = new Listeners<CircuitStateChange>()
  const count = (outcome: CallOutcome) => metrics?.calls.inc({ policy: name, outcome })
  let state: CircuitState = 'closed'
  let openedBy: unknown

  metrics?.circuitState.set({ policy: name }, stateGaugeValues.closed)
  inner.onBreak((reason) => {
    openedBy = 'error' in reason ? reason.error : undefined
  })
  inner.onStateChange((next) => {
    const from = state
    const to = stateNames[next]
    state = to
    const error = to === 'open' ? openedBy : undefined
    metrics?.circuitState.set({ policy: name }, stateGaugeValues[to])
    metrics?.circuitTransitions.inc({ policy: name, to })
    addSpanEvent('keel.circuit.state_change', {
      'keel.policy': name,
      'keel.circuit.from': from,
      'keel.circuit.to': to,
      ...(error === undefined ? {} : { 'error.type': errorType(error) }),
    })
    changes.emit(error === undefined ? { from, to } : { from, to, error })
  })

  const refused = (error: BrokenCircuitError) => {
    const isIsolated = error instanceof IsolatedCircuitError
    count('rejected')
    addSpanEvent('keel.circuit.rejected', {
      'keel.policy': name,
      'keel.circuit.state': isIsolated ? 'isolated' : 'open',
    })
    const lastFailure = inner.lastFailure
    return new KeelError(
      'KEEL_CIRCUIT_OPEN',
      isIsolated
        ? `circuit breaker "${name}" is isolated: it refuses calls until released`
        : `circuit breaker "${name}" is open: it refuses calls until a probe, ${halfOpenAfterMs} ms after it opened, succeeds`,
      {
        status: 503,
        cause: !isIsolated && lastFailure && 'error' in lastFailure ? lastFailure.error : undefined,
      },
    )
  }

  return {
    name,
    get state() {
      return stateNames[inner.state]
    },
    onStateChange: (listener) => changes.add(listener),
    isolate() {
      const handle = inner.isolate()
      return () => handle.dispose()
    },
    async execute(fn, signal = neverAborted) {
      if (signal.aborted) {
        count('aborted')
        throw signal.reason
      }
      // Errors thrown before fn ran are the breaker's own, not fn's (which may use cockatiel too).
      let didRun = false
      try {
        const value = await untilAbortedBeforeRun(
          inner.execute(() => {
            didRun = true
            return fn({ attempt: 1, signal })
          }, signal),
          signal,
          () => didRun,
        )
        count('success')
        return value
      } catch (error) {
        if (!didRun && error instanceof BrokenCircuitError) throw refused(error)
        count(signal.aborted ? 'aborted' : 'failure')
        // cockatiel throws its TaskCancelledError when the caller aborted during a probe.
        throw signal.aborted && !didRun ? signal.reason : error
      }
    },
  }
}

function createBreaker(rule: unknown, clock: Clock): IBreaker {
  if (rule === undefined) throw invalidOption('circuitBreaker.breaker', 'is required', rule)
  if (typeof rule === 'object' && rule !== null && 'consecutive' in rule) {
    checkOptionsObject('circuitBreaker.breaker', rule, ['consecutive'])
    const { consecutive } = rule as { consecutive: unknown }
    checkInteger('circuitBreaker.breaker.consecutive', consecutive, 1)
    return new ConsecutiveBreaker(consecutive as number)
  }
  checkOptionsObject('circuitBreaker.breaker', rule, ['ratio', 'windowMs', 'minimumCalls'])
  const { ratio, windowMs, minimumCalls } = rule as Record<string, unknown>
  if (ratio === undefined)
    throw invalidOption(
      'circuitBreaker.breaker',
      'must be { consecutive } or { ratio, windowMs, minimumCalls }',
      rule,
    )
  if (typeof ratio !== 'number' || !(ratio > 0 && ratio <= 1))
    throw invalidOption(
      'circuitBreaker.breaker.ratio',
      'must be a number greater than 0 and at most 1',
      ratio,
    )
  for (const [option, value] of [
    ['windowMs', windowMs],
    ['minimumCalls', minimumCalls],
  ] as const) {
    if (value === undefined) throw invalidOption(`circuitBreaker.breaker.${option}`, 'is required', value)
    checkInteger(`circuitBreaker.breaker.${option}`, value, 1)
  }
  return new RatioBreaker({
    ratio,
    windowMs: windowMs as number,
    minimumCalls: minimumCalls as number,
    clock,
  })
}

/**
 * The open period as a cockatiel backoff. cockatiel lets a probe through once
 * `Date.now() - openedAt >= duration`; answering -Infinity or +Infinity from our own clock puts
 * the decision there instead, so a test clock (or a wall clock jump) decides alone.
 */
function openPeriod(clock: Clock, halfOpenAfterMs: number): IBackoff<IHalfOpenAfterBackoffContext> {
  const openedAt = clock.now()
  return {
    get duration() {
      return clock.now() - openedAt >= halfOpenAfterMs ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
    },
    next: () => openPeriod(clock, halfOpenAfterMs),
  }
}

/**
 * Rejects with `signal.reason` when the caller aborts before `fn` started (a call waiting for a
 * half-open probe); once `fn` runs, its own outcome decides.
 */
function untilAbortedBeforeRun<T>(call: Promise<T>, signal: AbortSignal, hasRun: () => boolean): Promise<T> {
  if (signal === neverAborted) return call
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      if (!hasRun()) reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    call.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
