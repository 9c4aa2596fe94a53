/** Something running now that the inspector watches for stalls. */
export interface RunningOperation {
  readonly kind: 'request' | 'step'
  readonly traceId: string
  readonly spanId: string
  /** `GET /orders/7`, or `order / charge`. */
  readonly name: string
  readonly startMs: number
  readonly details: Readonly<Record<string, string | number>>
}

/** A running operation past the stall threshold. */
export interface Stall extends RunningOperation {
  readonly runningMs: number
}

/**
 * Requests and flow steps running now (their spans), at most `max` of them (more are counted, not
 * tracked). Starting is an array push and ending costs nothing here: an operation knows it has
 * ended (`hasEnded`), and a pass drops ended ones every as many starts as were running after the
 * previous pass, so each is visited about twice (a Set hashed, inserted and deleted each). Once
 * full, passes run at most every `max / 16` starts, so a few starts just after many ended may go
 * untracked. What an operation is (`describe`) is worked out only when stalls are asked for. A
 * span that never ends stays listed: that is a stall too.
 */
export class InFlight<T extends object = object> {
  readonly #running: T[] = []
  readonly #describe: (item: T) => RunningOperation | undefined
  readonly #hasEnded: (item: T) => boolean
  readonly #max: number
  #startsSinceSweep = 0
  /** Starts between passes: as many as were running after the last, so a pass costs O(1) a start. */
  #sweepEvery = minSweep
  #untracked = 0

  constructor(
    describe: (item: T) => RunningOperation | undefined,
    hasEnded: (item: T) => boolean,
    max = 10_000,
  ) {
    this.#describe = describe
    this.#hasEnded = hasEnded
    this.#max = max
  }

  start(item: T): void {
    const running = this.#running
    if (++this.#startsSinceSweep >= this.#sweepEvery) this.#sweep()
    if (running.length >= this.#max) {
      // Ended ones may fill it: sweep, but at most once per max/16 starts when truly full.
      if (this.#startsSinceSweep >= this.#max >> 4) this.#sweep()
      if (running.length >= this.#max) {
        this.#untracked++
        return
      }
    }
    running.push(item)
  }

  get size(): number {
    this.#sweep()
    return this.#running.length
  }

  /** Operations started but not tracked because `max` were running. */
  get untracked(): number {
    return this.#untracked
  }

  /** What has run for longer than `thresholdMs`, longest first. */
  stalls(nowMs: number, thresholdMs: number): Stall[] {
    this.#sweep()
    const out: Stall[] = []
    for (const item of this.#running) {
      const operation = this.#describe(item)
      if (!operation) continue
      const runningMs = nowMs - operation.startMs
      // Rounded up: a stall listed past a 50 ms threshold never reads as 50.
      if (runningMs > thresholdMs) out.push({ ...operation, runningMs: Math.ceil(runningMs) })
    }
    return out.sort((a, b) => b.runningMs - a.runningMs)
  }

  /** Drops ended operations, in place. */
  #sweep(): void {
    const running = this.#running
    let kept = 0
    for (let i = 0; i < running.length; i++) {
      const item = running[i]!
      if (!this.#hasEnded(item)) running[kept++] = item
    }
    running.length = kept
    this.#startsSinceSweep = 0
    this.#sweepEvery = Math.max(minSweep, kept)
  }
}

const minSweep = 64
