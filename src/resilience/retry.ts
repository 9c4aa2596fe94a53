import { isKeelError, KeelError } from '../errors/index.ts'
import { isTransientFailure } from './failure.ts'
import { Listeners } from './listeners.ts'
import type { CallOutcome } from './metrics.ts'
import { countsAttempts, neverAborted, type Policy, type PolicyOptions } from './policy.ts'
import {
  checkBoolean,
  checkDuration,
  checkFunction,
  checkInteger,
  checkOptionsObject,
  invalidOption,
  policyOptionKeys,
  resolvePolicyOptions,
} from './policy-options.ts'
import { addSpanEvent, errorType } from './span-event.ts'

/** Options of {@link retry}. */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3; an integer >= 1 (1 means no retry). */
  maxAttempts?: number
  /** `'exponential'` (default) doubles the delay after each failure; `'fixed'` keeps it. */
  backoff?: 'fixed' | 'exponential'
  /** The delay before the first retry, in ms. Default 100. */
  initialDelayMs?: number
  /** The longest delay between attempts, in ms. Default 30 000; must be >= `initialDelayMs`. */
  maxDelayMs?: number
  /**
   * Default `true`: full jitter, each delay uniformly random between 0 and the computed delay,
   * so that clients that failed together do not retry together. `false`: exactly the computed delay.
   */
  jitter?: boolean
  /**
   * Whether the error of attempt `attempt` (1-based) deserves another attempt. Default
   * {@link isTransientFailure}: every error except `KeelError`s with a status below 500 and
   * `AbortError`s.
   */
  retryOn?: (error: unknown, attempt: number) => boolean
}

/** {@link RetryOptions} with every default applied. */
export interface ResolvedRetryOptions {
  maxAttempts: number
  backoff: 'fixed' | 'exponential'
  initialDelayMs: number
  maxDelayMs: number
  jitter: boolean
  retryOn: (error: unknown, attempt: number) => boolean
}

/** Told before each retry: `attempt` is the attempt that failed, `delayMs` the wait before the next. */
export interface RetryEvent {
  attempt: number
  error: unknown
  delayMs: number
}

/** Told when the last allowed attempt failed: `attempts` made in all and the last error. */
export interface GiveUpEvent {
  attempts: number
  error: unknown
}

/** A retry {@link Policy} with events. */
export interface RetryPolicy extends Policy {
  /** Listens for retries; returns a function that stops listening. */
  onRetry(listener: (event: RetryEvent) => void): () => void
  /** Listens for calls that failed on every allowed attempt; returns a function that stops listening. */
  onGiveUp(listener: (event: GiveUpEvent) => void): () => void
}

const retryKeys = ['maxAttempts', 'backoff', 'initialDelayMs', 'maxDelayMs', 'jitter', 'retryOn'] as const
const knownKeys = [...retryKeys, ...policyOptionKeys]

/**
 * Checks retry options and applies the defaults.
 * @throws RangeError naming the option and the value: `retry.maxAttempts must be an integer >= 1 (got 0)`.
 *
 * @example
 * ```ts
 * resolveRetryOptions({ maxAttempts: 5 }) // { maxAttempts: 5, backoff: 'exponential', initialDelayMs: 100, … }
 * ```
 */
export function resolveRetryOptions(options: RetryOptions = {}): ResolvedRetryOptions {
  checkOptionsObject('retry', options, knownKeys)
  checkInteger('retry.maxAttempts', options.maxAttempts, 1)
  if (options.backoff !== undefined && options.backoff !== 'fixed' && options.backoff !== 'exponential')
    throw invalidOption('retry.backoff', 'must be "fixed" or "exponential"', options.backoff)
  checkDuration('retry.initialDelayMs', options.initialDelayMs)
  checkDuration('retry.maxDelayMs', options.maxDelayMs)
  checkBoolean('retry.jitter', options.jitter)
  checkFunction('retry.retryOn', options.retryOn)
  const resolved: ResolvedRetryOptions = {
    maxAttempts: options.maxAttempts ?? 3,
    backoff: options.backoff ?? 'exponential',
    initialDelayMs: options.initialDelayMs ?? 100,
    maxDelayMs: options.maxDelayMs ?? 30_000,
    jitter: options.jitter ?? true,
    retryOn: options.retryOn ?? isTransientFailure,
  }
  // Capping silently would make initialDelayMs a lie; say so instead.
  if (resolved.maxDelayMs < resolved.initialDelayMs)
    throw invalidOption(
      'retry.maxDelayMs',
      `must be >= retry.initialDelayMs (${resolved.initialDelayMs})`,
      resolved.maxDelayMs,
    )
  return resolved
}

/**
 * The wait before attempt `attempt + 1`, after attempt `attempt` (1-based) failed:
 * `initialDelayMs`, doubled per failure when exponential, capped at `maxDelayMs`; with jitter a
 * whole number of ms drawn uniformly from [0, that] using `random` (default `Math.random`).
 *
 * @example
 * ```ts
 * const options = resolveRetryOptions({ jitter: false })
 * retryDelay(options, 1) // 100
 * retryDelay(options, 3) // 400
 * ```
 */
export function retryDelay(
  options: ResolvedRetryOptions,
  attempt: number,
  random: () => number = Math.random,
): number {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw invalidOption('retryDelay: attempt', 'must be an integer >= 1', attempt)
  const { initialDelayMs, maxDelayMs } = options
  // The exponent stops growing long before it matters: 2^1000 times anything > 0 is past any cap.
  const computed =
    options.backoff === 'fixed' || initialDelayMs === 0
      ? initialDelayMs
      : initialDelayMs * 2 ** Math.min(attempt - 1, 1000)
  const capped = Math.min(computed, maxDelayMs)
  return options.jitter ? Math.round(random() * capped) : capped
}

/**
 * Whether a call whose attempt `attempt` failed with `error` gets another attempt: false once
 * `maxAttempts` are used up, else what `retryOn` says.
 *
 * @example
 * ```ts
 * shouldRetry(resolveRetryOptions({ maxAttempts: 2 }), new Error('ECONNRESET'), 1) // true
 * ```
 */
export function shouldRetry(options: ResolvedRetryOptions, error: unknown, attempt: number): boolean {
  return attempt < options.maxAttempts && options.retryOn(error, attempt)
}

/**
 * Runs a function again when it fails, waiting longer each time.
 *
 * How a call ends:
 * - an attempt succeeds: its value;
 * - `retryOn` refuses an error: that error itself, unchanged;
 * - the last allowed attempt fails: `KeelError` `KEEL_RETRY_EXHAUSTED` with the last error as
 *   `cause` and its `status` when it is a `KeelError`, else 503;
 * - the caller's signal aborts: the running attempt's error, or `signal.reason` while waiting.
 *
 * Metrics (with a registry): `keel_resilience_retries_total`, `keel_resilience_gave_up_total`,
 * `keel_resilience_calls_total`. Span events: `keel.retry`, `keel.retry.gave_up`.
 *
 * @example
 * ```ts
 * const policy = retry({ maxAttempts: 4, initialDelayMs: 200, name: 'geo', registry: app.metrics.registry })
 * policy.onRetry(({ attempt, delayMs }) => log.warn({ attempt, delayMs }, 'geo lookup failed, retrying'))
 * const place = await policy.execute(({ signal }) => geocode(address, { signal }))
 * ```
 */
export function retry(options: RetryOptions & PolicyOptions = {}): RetryPolicy {
  const resolved = resolveRetryOptions(options)
  const { name, clock, metrics } = resolvePolicyOptions('retry', options, 'retry')
  const retries = new Listeners<RetryEvent>()
  const giveUps = new Listeners<GiveUpEvent>()
  metrics?.retries.inc({ policy: name }, 0)
  metrics?.gaveUp.inc({ policy: name }, 0)
  const count = (outcome: CallOutcome) => metrics?.calls.inc({ policy: name, outcome })

  return {
    name,
    [countsAttempts]: true,
    onRetry: (listener) => retries.add(listener),
    onGiveUp: (listener) => giveUps.add(listener),
    async execute(fn, signal = neverAborted) {
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) {
          count('aborted')
          throw signal.reason
        }
        try {
          const value = await fn({ attempt, signal })
          count('success')
          return value
        } catch (error) {
          if (signal.aborted) {
            count('aborted')
            throw error
          }
          if (!resolved.retryOn(error, attempt)) {
            count('failure')
            throw error
          }
          if (attempt >= resolved.maxAttempts) {
            count('exhausted')
            metrics?.gaveUp.inc({ policy: name })
            addSpanEvent('keel.retry.gave_up', {
              'keel.policy': name,
              'keel.retry.attempts': attempt,
              'error.type': errorType(error),
            })
            giveUps.emit({ attempts: attempt, error })
            throw exhausted(name, attempt, error)
          }
          const delayMs = retryDelay(resolved, attempt)
          metrics?.retries.inc({ policy: name })
          addSpanEvent('keel.retry', {
            'keel.policy': name,
            'keel.retry.attempt': attempt,
            'keel.retry.delay_ms': delayMs,
            'error.type': errorType(error),
          })
          retries.emit({ attempt, error, delayMs })
          try {
            await clock.sleep(delayMs, signal)
          } catch (reason) {
            count('aborted')
            throw reason
          }
        }
      }
    },
  } as RetryPolicy
}

function exhausted(name: string, attempts: number, error: unknown): KeelError {
  const last = error instanceof Error ? error.message : String(error)
  const noun = attempts === 1 ? 'attempt' : 'attempts'
  return new KeelError(
    'KEEL_RETRY_EXHAUSTED',
    `retry "${name}": ${attempts} ${noun} failed; the last with: ${last}`,
    {
      cause: error,
      status: isKeelError(error) ? error.status : 503,
    },
  )
}
