import type { Logger } from '../log/index.ts'

/** How one shutdown phase went. */
export interface PhaseResult {
  /** `drain-delay`, `http`, `module:<name>`, `tracing`, `metrics-server`. */
  phase: string
  status: 'ok' | 'failed' | 'timed-out'
  durationMs: number
  error?: string
}

/** The outcome of a graceful shutdown; `ok` is false when any phase failed or timed out. */
export interface ShutdownReport {
  ok: boolean
  reason: string
  durationMs: number
  phases: PhaseResult[]
}

/** Runs `work` with an AbortSignal that fires at `timeoutMs`, reporting the outcome as a phase. */
async function runPhase(
  phase: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => unknown,
): Promise<PhaseResult> {
  const started = performance.now()
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(
      () => {
        controller.abort()
        resolve('timed-out')
      },
      Math.max(0, timeoutMs),
    )
  })
  const durationMs = () => Math.round(performance.now() - started)
  try {
    const outcome = await Promise.race([Promise.resolve().then(() => work(controller.signal)), timedOut])
    if (outcome === 'timed-out') {
      return {
        phase,
        status: 'timed-out',
        durationMs: durationMs(),
        error: `did not finish within ${timeoutMs} ms`,
      }
    }
    return { phase, status: 'ok', durationMs: durationMs() }
  } catch (error) {
    return {
      phase,
      status: 'failed',
      durationMs: durationMs(),
      error: (error as Error)?.message ?? String(error),
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The phases of one shutdown against one total deadline. Each phase gets the smaller of its own
 * timeout and the time left; once the total deadline has passed, later phases are recorded as not
 * run. Failures are logged as they happen.
 */
export class ShutdownSequence {
  readonly #started = performance.now()
  readonly #deadlineMs: number
  readonly #log: Logger
  readonly #phases: PhaseResult[] = []
  #isPastDeadline = false
  /** The phase running now, for the messages of a forced exit. */
  current: string | undefined
  /** True once the total deadline passed and its fatal line is written, so a backstop need not repeat it. */
  get isPastDeadline(): boolean {
    return this.#isPastDeadline
  }

  constructor(deadlineMs: number, log: Logger) {
    this.#deadlineMs = deadlineMs
    this.#log = log
  }

  /** Milliseconds left before the total deadline (never negative). */
  remaining(): number {
    return Math.max(0, Math.floor(this.#deadlineMs - (performance.now() - this.#started)))
  }

  async run(name: string, timeoutMs: number, work: (signal: AbortSignal) => unknown): Promise<PhaseResult> {
    this.current = name
    if (this.#isPastDeadline) {
      return this.#record({
        phase: name,
        status: 'timed-out',
        durationMs: 0,
        error: 'not run: past the shutdown deadline',
      })
    }
    const left = this.remaining()
    const result = this.#record(await runPhase(name, Math.min(Math.round(timeoutMs), left), work))
    if (result.status === 'timed-out' && left < timeoutMs) {
      // Cut short by the total deadline, not its own: the same line runApp's backstop writes.
      this.#isPastDeadline = true
      this.#log.fatal(
        { phase: name, deadlineMs: this.#deadlineMs },
        `shutdown deadline of ${this.#deadlineMs} ms passed during ${name}; forcing exit`,
      )
    } else if (result.status !== 'ok') {
      this.#log.error({ phase: result }, `shutdown phase ${name} ${result.status}`)
    }
    return result
  }

  report(reason: string): ShutdownReport {
    this.current = undefined
    return {
      ok: this.#phases.every((p) => p.status === 'ok'),
      reason,
      durationMs: Math.round(performance.now() - this.#started),
      phases: this.#phases,
    }
  }

  #record(result: PhaseResult): PhaseResult {
    this.#phases.push(result)
    return result
  }
}
