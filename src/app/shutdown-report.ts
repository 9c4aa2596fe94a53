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
export async function runPhase(
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
