import { CircuitState, type IBreaker } from 'cockatiel'
import type { Clock } from './clock.ts'

/** The window slides in tenths: memory stays constant however many calls go through. */
const bucketCount = 10

interface Bucket {
  slot: number
  successes: number
  failures: number
}

/**
 * A cockatiel breaker that opens when, within the last `windowMs`, at least `minimumCalls` calls
 * were made and the share that failed reached `ratio`. Unlike cockatiel's `SamplingBreaker`
 * (which takes a minimum rate) it counts calls, and it reads time from a {@link Clock}.
 */
export class RatioBreaker implements IBreaker {
  /** cockatiel serialises breakers through `state`; Keel does not, so there is nothing to keep. */
  state: unknown = null
  readonly #ratio: number
  readonly #minimumCalls: number
  readonly #bucketMs: number
  readonly #clock: Clock
  readonly #buckets: Bucket[] = Array.from({ length: bucketCount }, () => ({
    slot: Number.NEGATIVE_INFINITY,
    successes: 0,
    failures: 0,
  }))

  constructor(options: { ratio: number; windowMs: number; minimumCalls: number; clock: Clock }) {
    this.#ratio = options.ratio
    this.#minimumCalls = options.minimumCalls
    this.#bucketMs = options.windowMs / bucketCount
    this.#clock = options.clock
  }

  success(state: CircuitState): void {
    // A successful half-open probe closes the circuit: start counting afresh.
    if (state === CircuitState.HalfOpen) this.#reset()
    this.#bucket().successes++
  }

  failure(state: CircuitState): boolean {
    this.#bucket().failures++
    if (state !== CircuitState.Closed) return true
    const current = this.#slot()
    let calls = 0
    let failures = 0
    for (const bucket of this.#buckets) {
      if (bucket.slot <= current - bucketCount) continue
      calls += bucket.successes + bucket.failures
      failures += bucket.failures
    }
    return calls >= this.#minimumCalls && failures >= this.#ratio * calls
  }

  #slot(): number {
    return Math.floor(this.#clock.now() / this.#bucketMs)
  }

  #bucket(): Bucket {
    const slot = this.#slot()
    const bucket = this.#buckets[((slot % bucketCount) + bucketCount) % bucketCount]!
    if (bucket.slot !== slot) {
      bucket.slot = slot
      bucket.successes = 0
      bucket.failures = 0
    }
    return bucket
  }

  #reset(): void {
    for (const bucket of this.#buckets) bucket.slot = Number.NEGATIVE_INFINITY
  }
}
