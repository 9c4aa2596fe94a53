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
 * Requests and flow steps running now (their spans), at most `max` of them (more are counted,
 * not tracked). Tracking is one Set insert and delete of the span object per operation; what an
 * operation is (`describe`) is worked out only when stalls are asked for. A span that never ends
 * stays listed: that is a stall too.
 */
export class InFlight<T extends object = object> {
  readonly #running = new Set<T>()
  readonly #describe: (item: T) => RunningOperation | undefined
  readonly #max: number
  #untracked = 0

  constructor(describe: (item: T) => RunningOperation | undefined, max = 10_000) {
    this.#describe = describe
    this.#max = max
  }

  start(item: T): void {
    if (this.#running.size >= this.#max) {
      this.#untracked++
      return
    }
    this.#running.add(item)
  }

  end(item: T): void {
    this.#running.delete(item)
  }

  get size(): number {
    return this.#running.size
  }

  /** Operations started but not tracked because `max` were running. */
  get untracked(): number {
    return this.#untracked
  }

  /** What has run for longer than `thresholdMs`, longest first. */
  stalls(nowMs: number, thresholdMs: number): Stall[] {
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
}
