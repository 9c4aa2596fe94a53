/** What a check may return: nothing (pass), `false` (fail), or a detail with a message. */
export type CheckOutcome =
  // biome-ignore lint/suspicious/noConfusingVoidType: `void` lets a check be any function that returns nothing
  void | boolean | { ok: boolean; message?: string; details?: Record<string, unknown> }

/** A named health check. */
export interface HealthCheck {
  /** Unique name, shown in /health and /ready (`postgres`, `redis`, `disk`). */
  name: string
  /** Resolves when healthy; throws, rejects or returns `false`/`{ ok: false }` when not. */
  check: (signal: AbortSignal) => Promise<CheckOutcome> | CheckOutcome
  /** A failing critical check makes /ready answer 503. Default: true. */
  critical?: boolean
  /** Time allowed before the check counts as failed. Default: `health.checkTimeoutMs`. */
  timeoutMs?: number
  /** How long a result is reused. Default: `health.cacheMs`. */
  cacheMs?: number
}

/** The outcome of one check run. */
export interface CheckResult {
  name: string
  status: 'pass' | 'fail'
  critical: boolean
  durationMs: number
  message?: string
  details?: Record<string, unknown>
  /** ISO time the check ran (cached results keep their original time). */
  checkedAt: string
}

/** All checks together. `fail` if a critical check fails, `warn` if only non-critical ones do. */
export interface HealthReport {
  status: 'pass' | 'warn' | 'fail'
  checks: CheckResult[]
}
