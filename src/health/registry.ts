import { KeelError } from '../errors/index.ts'
import type { CheckOutcome, CheckResult, HealthCheck, HealthReport } from './check.ts'

interface Entry {
  check: HealthCheck
  result?: CheckResult
  expiresAt: number
  running?: Promise<CheckResult>
}

/** Options of {@link HealthRegistry}: defaults for checks that do not set their own. */
export interface HealthRegistryOptions {
  timeoutMs: number
  cacheMs: number
  /** Called after every real (not cached) run; the app feeds metrics from it. */
  onResult?: (result: CheckResult) => void
}

/**
 * A registry of named health checks. Results are cached for `cacheMs` and concurrent callers
 * share one in-flight run, so a storm of probes costs one call to each dependency.
 *
 * @example
 * ```ts
 * health.add({ name: 'upstream', check: async (signal) => { await fetch(url, { signal }) } })
 * const report = await health.run()
 * ```
 */
export class HealthRegistry {
  readonly #entries = new Map<string, Entry>()
  readonly #options: HealthRegistryOptions

  constructor(options: HealthRegistryOptions) {
    this.#options = options
  }

  /** Adds a check. @throws KeelError `KEEL_HEALTH_CHECK_DUPLICATE` when the name is taken. */
  add(check: HealthCheck): this {
    if (!check.name || typeof check.check !== 'function') {
      throw new KeelError('KEEL_MODULE_INVALID', 'health check needs a name and a check function')
    }
    if (this.#entries.has(check.name)) {
      throw new KeelError('KEEL_HEALTH_CHECK_DUPLICATE', `health check "${check.name}" is already registered`)
    }
    this.#entries.set(check.name, { check, expiresAt: 0 })
    return this
  }

  /** Removes a check (e.g. when the module that owns it stops). */
  remove(name: string): boolean {
    return this.#entries.delete(name)
  }

  /** The registered checks' names and criticality, for the app description. */
  list(): Array<{ name: string; critical: boolean }> {
    return [...this.#entries.values()].map(({ check }) => ({
      name: check.name,
      critical: check.critical ?? true,
    }))
  }

  /** Runs every check (or reuses a fresh cached result) and summarizes them. */
  async run(): Promise<HealthReport> {
    const checks = await Promise.all([...this.#entries.values()].map((entry) => this.#resultOf(entry)))
    const failing = checks.filter((c) => c.status === 'fail')
    const status = failing.some((c) => c.critical) ? 'fail' : failing.length > 0 ? 'warn' : 'pass'
    return { status, checks }
  }

  #resultOf(entry: Entry): Promise<CheckResult> {
    if (entry.result && Date.now() < entry.expiresAt) return Promise.resolve(entry.result)
    entry.running ??= this.#execute(entry.check).then((result) => {
      entry.result = result
      entry.expiresAt = Date.now() + (entry.check.cacheMs ?? this.#options.cacheMs)
      entry.running = undefined
      this.#options.onResult?.(result)
      return result
    })
    return entry.running
  }

  async #execute(check: HealthCheck): Promise<CheckResult> {
    const timeoutMs = check.timeoutMs ?? this.#options.timeoutMs
    const controller = new AbortController()
    const started = performance.now()
    const checkedAt = new Date().toISOString()
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort()
        reject(new Error(`timed out after ${timeoutMs} ms`))
      }, timeoutMs)
    })
    const base = { name: check.name, critical: check.critical ?? true, checkedAt }
    try {
      const outcome = await Promise.race([
        Promise.resolve().then(() => check.check(controller.signal)),
        timeout,
      ])
      return { ...base, ...interpret(outcome), durationMs: elapsed(started) }
    } catch (error) {
      return {
        ...base,
        status: 'fail',
        message: (error as Error)?.message ?? String(error),
        durationMs: elapsed(started),
      }
    } finally {
      clearTimeout(timer)
    }
  }
}

function interpret(outcome: CheckOutcome): Pick<CheckResult, 'status' | 'message' | 'details'> {
  if (outcome === undefined || outcome === true) return { status: 'pass' }
  if (outcome === false) return { status: 'fail', message: 'check returned false' }
  return { status: outcome.ok ? 'pass' : 'fail', message: outcome.message, details: outcome.details }
}

const elapsed = (started: number) => Math.round((performance.now() - started) * 100) / 100
