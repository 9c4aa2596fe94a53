import type { Registry } from 'prom-client'
import type { Clock } from './clock.ts'

/** Options every policy factory accepts. */
export interface PolicyOptions {
  /**
   * Names the policy in errors, span events and the `policy` label of its metrics. Default: the
   * kind (`'retry'`, `'timeout'`, `'circuit-breaker'`, `'bulkhead'`). Policies sharing a registry
   * should have distinct names, or their series add up.
   */
  name?: string
  /** Where the policy reports its metrics; without one it reports none. */
  registry?: Registry
  /** Where the policy reads time and waits. Default `systemClock`. */
  clock?: Clock
}

/** What a policy hands the function it runs. */
export interface PolicyContext {
  /** 1 for the first attempt; counts up under a retry policy (the innermost one in a {@link wrap}). */
  attempt: number
  /** Aborts when the caller's signal does or when a timeout policy's deadline passes. */
  signal: AbortSignal
}

/**
 * Something that runs a function under a rule: retry it, bound its time, stop calling a failing
 * dependency, limit concurrency. Every Keel policy implements it and {@link wrap} composes them.
 *
 * @example
 * ```ts
 * const user = await policy.execute(({ signal }) => fetch(`${base}/users/7`, { signal }), request.signal)
 * ```
 */
export interface Policy {
  readonly name: string
  /**
   * Runs `fn` under the policy. When `signal` aborts, the policy stops (no further attempts, no
   * waiting in a queue) and rejects with `signal.reason`, or with `fn`'s own error when `fn` was
   * running and failed.
   */
  execute<T>(fn: (ctx: PolicyContext) => T | Promise<T>, signal?: AbortSignal): Promise<T>
}

/**
 * Marks a policy whose `ctx.attempt` counts attempts (retry, and a wrap holding one). `Symbol.for`
 * so that the mark survives two copies of Keel in one process.
 */
export const countsAttempts: unique symbol = Symbol.for('keel.resilience.countsAttempts') as never

/** A signal that never aborts, for calls made without one. */
export const neverAborted: AbortSignal = new AbortController().signal

/**
 * Composes policies into one; the first is the outermost, as in cockatiel's `wrap`.
 * `wrap(retry(), circuitBreaker(…), timeout(2000))` gives each attempt its own 2 s deadline and
 * retries calls the open breaker refuses. With no policies, it runs the function as it is.
 *
 * @example
 * ```ts
 * const payments = wrap(
 *   retry({ maxAttempts: 4, name: 'payments' }),
 *   circuitBreaker({ name: 'payments', halfOpenAfterMs: 10_000, breaker: { consecutive: 5 } }),
 *   timeout(2_000, { name: 'payments' }),
 * )
 * const receipt = await payments.execute(({ signal }) => charge(order, { signal }))
 * ```
 */
export function wrap(...policies: Policy[]): Policy {
  policies.forEach((policy, index) => {
    if (typeof policy?.execute !== 'function')
      throw new RangeError(`wrap: argument ${index + 1} is not a policy (it has no execute method)`)
  })
  const isCounting = policies.map(
    (policy) => (policy as { [countsAttempts]?: boolean })[countsAttempts] === true,
  )
  const run = <T>(
    index: number,
    ctx: PolicyContext,
    fn: (ctx: PolicyContext) => T | Promise<T>,
  ): Promise<T> => {
    const policy = policies[index]
    if (!policy) return Promise.resolve().then(() => fn(ctx))
    return policy.execute(
      (inner) =>
        run(
          index + 1,
          // A policy that does not count attempts reports 1; keep the count of the one outside it.
          {
            signal: inner.signal,
            attempt: isCounting[index] || inner.attempt > 1 ? inner.attempt : ctx.attempt,
          },
          fn,
        ),
      ctx.signal,
    )
  }
  return {
    name: policies.length === 0 ? 'wrap' : policies.map((policy) => policy.name).join(' > '),
    [countsAttempts]: isCounting.includes(true),
    execute: (fn, signal) => run(0, { attempt: 1, signal: signal ?? neverAborted }, fn),
  } as Policy
}
