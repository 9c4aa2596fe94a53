import { KeelError } from '../../errors/index.ts'

/**
 * The error a guard factory throws for a bad option, naming the guard and the option:
 * `cors: options.credentials cannot be true while options.origins allows any origin`.
 */
export const invalidOption = (guard: string, option: string, problem: string): KeelError =>
  new KeelError('KEEL_GUARD_OPTIONS', `${guard}: options.${option} ${problem}`)

/** Checks that a guard's options are an object (or absent, when `isOptional`). */
export function checkOptionsObject(guard: string, value: unknown, isOptional = false): void {
  if (value === undefined && isOptional) return
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new KeelError('KEEL_GUARD_OPTIONS', `${guard}: options must be an object, got ${describe(value)}`)
}

/** Checks that `value` is an integer in [min, max]; `undefined` passes (the default applies). */
export function checkInteger(
  guard: string,
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}-${max}`
    throw invalidOption(guard, option, `must be an integer ${range}, got ${describe(value)}`)
  }
}

/** Checks that `value` is a boolean; `undefined` passes. */
export function checkBoolean(guard: string, option: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'boolean')
    throw invalidOption(guard, option, `must be true or false, got ${describe(value)}`)
}

/** Checks that `value` is one of `allowed` (or `false` when `allowed` includes it); `undefined` passes. */
export function checkOneOf(guard: string, option: string, value: unknown, allowed: readonly unknown[]): void {
  if (value !== undefined && !allowed.includes(value)) {
    const list = allowed.map((a) => (typeof a === 'string' ? `"${a}"` : String(a))).join(', ')
    throw invalidOption(guard, option, `must be one of ${list}, got ${describe(value)}`)
  }
}

const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Checks that `value` is a valid HTTP header name (an RFC 9110 token). */
export function checkHeaderName(guard: string, option: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || !token.test(value))
    throw invalidOption(guard, option, `must be a header name (letters, digits, -), got ${describe(value)}`)
}

const unsafeValue = /[\r\n\0]/

/** Checks that a string can go into a header value (no CR, LF or NUL). */
export function checkHeaderValue(guard: string, option: string, value: string): void {
  if (unsafeValue.test(value))
    throw invalidOption(guard, option, `must not contain line breaks or NUL, got ${describe(value)}`)
}

/** A value as an error message shows it: strings quoted, the rest as JSON or their type. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return typeof value
  }
}
