import type { Clock } from 'keel/resilience'

interface Timer {
  at: number
  resolve: () => void
}

/**
 * A clock for tests. It records every sleep. `'instant'` sleeps return at once and move time
 * forward by their length (retries run without waiting); `'manual'` sleeps wait for `advance()`
 * (deadlines fire when the test says so).
 */
export class FakeClock implements Clock {
  nowMs = 1_000_000
  readonly sleeps: number[] = []
  readonly #timers = new Set<Timer>()

  constructor(readonly mode: 'instant' | 'manual' = 'instant') {}

  now(): number {
    return this.nowMs
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms)
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (this.mode === 'instant') {
      this.nowMs += ms
      return Promise.resolve()
    }
    return new Promise<void>((resolve, reject) => {
      const timer: Timer = {
        at: this.nowMs + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      const onAbort = () => {
        this.#timers.delete(timer)
        reject(signal?.reason)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#timers.add(timer)
    })
  }

  /** Moves time forward and wakes the sleepers that are due; then lets their callbacks run. */
  async advance(ms: number): Promise<void> {
    this.nowMs += ms
    for (const timer of [...this.#timers]) {
      if (timer.at > this.nowMs) continue
      this.#timers.delete(timer)
      timer.resolve()
    }
    await settle()
  }

  /** Sleeps still waiting. */
  get pending(): number {
    return this.#timers.size
  }
}

/** Lets every pending promise callback run (a macrotask comes after all microtasks). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** A promise with its resolve and reject, for holding a call open. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
