/**
 * Where policies read time and wait. Retry sleeps, timeout deadlines and the circuit breaker's
 * half-open delay and ratio window all go through it, so a test can drive them without waiting.
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => fakeNow, sleep: async (ms) => { fakeNow += ms } }
 * const policy = retry({ maxAttempts: 3, clock })
 * ```
 */
export interface Clock {
  /** Milliseconds since the epoch (as `Date.now()`); policies only use differences. */
  now(): number
  /** Resolves after `ms`; rejects with `signal.reason` as soon as `signal` aborts (or at once if it has). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

/**
 * The real clock: `Date.now()` and `setTimeout`. The timer is not `unref`ed: a pending retry or
 * deadline is work in progress and should keep the process alive.
 *
 * @example
 * ```ts
 * await systemClock.sleep(100, AbortSignal.timeout(50)) // rejects with the TimeoutError reason
 * ```
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason)
        return
      }
      const onAbort = () => {
        clearTimeout(timer)
        reject(signal?.reason)
      }
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  },
}
