import type { Registry } from 'prom-client'
import { type Clock, systemClock } from './clock.ts'
import { type ResilienceMetrics, resilienceMetrics } from './metrics.ts'
import type { PolicyOptions } from './policy.ts'

/** The options every policy factory accepts besides its own. */
export const policyOptionKeys = ['name', 'registry', 'clock'] as const

/** What every policy keeps from its {@link PolicyOptions}. */
export interface ResolvedPolicyOptions {
  name: string
  clock: Clock
  /** Present only when the policy was given a registry. */
  metrics: ResilienceMetrics | undefined
}

/**
 * The error for a bad option, naming the option and the value:
 * `retry.maxAttempts must be an integer >= 1 (got 0)`.
 */
export const invalidOption = (path: string, problem: string, value: unknown): RangeError =>
  new RangeError(`${path} ${problem} (got ${describe(value)})`)

/** Checks that `options` is a plain object whose keys are all in `known`. */
export function checkOptionsObject(path: string, options: unknown, known: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw invalidOption(path, 'must be an object', options)
  for (const key of Object.keys(options)) {
    if (!known.includes(key))
      throw new RangeError(`${path}: unknown option ${JSON.stringify(key)} (known: ${known.join(', ')})`)
  }
}

/** Checks that `value` is an integer in [min, max]; `undefined` passes (the default applies). */
export function checkInteger(path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`
    throw invalidOption(path, `must be an integer ${range}`, value)
  }
}

/** Checks that `value` is a finite number >= 0; `undefined` passes. */
export function checkDuration(path: string, value: unknown): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw invalidOption(path, 'must be a finite number of milliseconds >= 0', value)
}

/** Checks that `value` is a boolean; `undefined` passes. */
export function checkBoolean(path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw invalidOption(path, 'must be true or false', value)
}

/** Checks that `value` is a function; `undefined` passes. */
export function checkFunction(path: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function')
    throw invalidOption(path, 'must be a function', value)
}

/** Checks and resolves the options shared by every policy. */
export function resolvePolicyOptions(
  factory: string,
  options: PolicyOptions,
  defaultName: string,
): ResolvedPolicyOptions {
  const { name = defaultName, registry, clock = systemClock } = options
  if (typeof name !== 'string' || name.trim() === '')
    throw invalidOption(`${factory}.name`, 'must be a non-empty string', name)
  if (registry !== undefined && !isRegistry(registry))
    throw invalidOption(`${factory}.registry`, 'must be a prom-client Registry', registry)
  if (typeof clock?.now !== 'function' || typeof clock.sleep !== 'function')
    throw invalidOption(`${factory}.clock`, 'must have now() and sleep(ms, signal) methods', clock)
  return { name, clock, metrics: registry && resilienceMetrics(registry) }
}

// Duck-typed: a registry from another copy of prom-client is just as good.
const isRegistry = (value: unknown): value is Registry =>
  typeof (value as Registry | null)?.getSingleMetric === 'function' &&
  typeof (value as Registry).registerMetric === 'function'

/** A value as an error message shows it: strings quoted, numbers as such, the rest as short JSON. */
export function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  let text: string
  try {
    text = JSON.stringify(value) ?? String(value)
  } catch {
    text = typeof value
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}
