import { randomUUID } from 'node:crypto'
import type { StepAt, StepGate } from '../flow/index.ts'
import { redactDeep } from '../log/index.ts'

/** Where a breakpoint stops: a flow's step, and optionally only when its input matches. */
export interface BreakpointSpec {
  readonly flow: string
  readonly step: string
  /**
   * Stop only when the step's input has `equals` at JSON pointer `pointer` (`/amount`), compared
   * as JSON. No expressions are evaluated: a condition is data, never code.
   */
  readonly when?: { readonly pointer: string; readonly equals: unknown }
}

export interface Breakpoint extends BreakpointSpec {
  readonly id: string
  /** Runs it has stopped. */
  hits: number
}

/** A run held before a step. */
export interface PausedRun {
  readonly runId: string
  readonly flow: string
  readonly step: string
  readonly key: string
  /** The step's input, redacted as captured payloads are (secret-named keys at any depth). */
  readonly input: unknown
  readonly pausedAt: number
  /** The breakpoint that stopped it; null when it stopped after a `step` command. */
  readonly breakpointId: string | null
}

/**
 * Conditional breakpoints for flows in development. {@link gate} goes in front of every step of a
 * flows module's runner and of `runFlow` runs; a matching breakpoint holds the run there until
 * `resume` (run on) or `step` (run this step and stop before the next one). A held durable run
 * keeps its worker slot and its lease; a shutdown or a lost lease aborts the wait and the run is
 * resumed later as usual. A held in-memory run holds its caller; aborting its signal ends the wait.
 */
export class Breakpoints {
  readonly #points = new Map<string, Breakpoint>()
  readonly #paused = new Map<string, { run: PausedRun; release: (mode: 'resume' | 'step') => void }>()
  /** Runs that stop before their next step whatever the breakpoints (after `step`). */
  readonly #stepping = new Set<string>()
  readonly #onPause: (run: PausedRun) => void
  readonly #now: () => number

  constructor(options: { onPause?: (run: PausedRun) => void; now?: () => number } = {}) {
    this.#onPause = options.onPause ?? (() => {})
    this.#now = options.now ?? Date.now
  }

  add(spec: BreakpointSpec): Breakpoint {
    const point: Breakpoint = { id: randomUUID(), ...spec, hits: 0 }
    this.#points.set(point.id, point)
    return point
  }

  remove(id: string): boolean {
    return this.#points.delete(id)
  }

  list(): Breakpoint[] {
    return [...this.#points.values()]
  }

  paused(): PausedRun[] {
    return [...this.#paused.values()].map((p) => p.run)
  }

  /** Lets a held run go on: to its end (`resume`) or to its next step (`step`). False if it is not held. */
  release(runId: string, mode: 'resume' | 'step'): boolean {
    const held = this.#paused.get(runId)
    if (!held) return false
    held.release(mode)
    return true
  }

  /** Lets every held run go on and forgets the breakpoints (the inspector stops). */
  clear(): void {
    this.#points.clear()
    for (const held of [...this.#paused.values()]) held.release('resume')
    this.#stepping.clear()
  }

  readonly gate: StepGate = (at) => {
    // Steps are held by run id: a second step of a held run (a parallel branch, or another
    // in-memory run given the same runId) goes through rather than be held where no one can reach it.
    if (this.#paused.has(at.runId)) return
    const stepping = this.#stepping.delete(at.runId)
    const point = stepping ? undefined : this.#match(at)
    if (!stepping && !point) return
    if (point) point.hits++
    return this.#hold(at, point?.id ?? null)
  }

  #match(at: StepAt): Breakpoint | undefined {
    for (const point of this.#points.values()) {
      if (point.flow !== at.flow || point.step !== at.step) continue
      if (!point.when || sameJson(valueAt(at.input, point.when.pointer), point.when.equals)) return point
    }
    return undefined
  }

  #hold(at: StepAt, breakpointId: string | null): Promise<void> {
    const run: PausedRun = {
      runId: at.runId,
      flow: at.flow,
      step: at.step,
      key: at.key,
      // Shown on /v1/paused and the live feed; the condition has already matched the raw input.
      input: redactDeep(at.input),
      pausedAt: this.#now(),
      breakpointId,
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#paused.delete(at.runId)
        reject(at.signal.reason)
      }
      at.signal.addEventListener('abort', onAbort, { once: true })
      this.#paused.set(at.runId, {
        run,
        release: (mode) => {
          at.signal.removeEventListener('abort', onAbort)
          this.#paused.delete(at.runId)
          if (mode === 'step') this.#stepping.add(at.runId)
          resolve()
        },
      })
      this.#onPause(run)
    })
  }
}

/** The value at an RFC 6901 JSON pointer (`/items/0/sku`), or undefined where there is none. */
export function valueAt(document: unknown, pointer: string): unknown {
  if (pointer === '') return document
  let node = document
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

const sameJson = (a: unknown, b: unknown) => a !== undefined && JSON.stringify(a) === JSON.stringify(b)
