import { isKeelError } from '../errors/index.ts'

/**
 * True for an `AbortError` (a `DOMException` from an aborted `fetch`, stream or timer): someone
 * cancelled on purpose, so repeating the call or blaming the dependency would be wrong.
 */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError'
}

/**
 * The default of retry's `retryOn` and the circuit breaker's `isFailure`: every error except a
 * `KeelError` with a status below 500 (the request itself is wrong; sending it again cannot
 * help, and it says nothing about the dependency's health) and an `AbortError`.
 *
 * @example
 * ```ts
 * retry({ retryOn: (error) => isTransientFailure(error) && !(error instanceof SyntaxError) })
 * ```
 */
export function isTransientFailure(error: unknown): boolean {
  if (isKeelError(error) && error.status < 500) return false
  return !isAbortError(error)
}
