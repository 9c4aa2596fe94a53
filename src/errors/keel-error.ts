import type { KeelErrorCode } from './codes.ts'

/** Options for {@link KeelError}: an HTTP status where one applies and the underlying cause. */
export interface KeelErrorOptions extends ErrorOptions {
  status?: number
}

/**
 * The base class of every error Keel raises on purpose. It carries a stable string `code`
 * and, where HTTP applies, a `status`.
 *
 * @example
 * ```ts
 * throw new KeelError('KEEL_PORT_IN_USE', 'port 3000 is in use (server.port from keel.yaml:3)')
 * ```
 */
export class KeelError extends Error {
  /** Brand checked by {@link isKeelError}; survives two copies of the package in one process. */
  readonly isKeelError = true
  readonly code: KeelErrorCode
  readonly status: number

  constructor(code: KeelErrorCode, message: string, options: KeelErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'KeelError'
    this.code = code
    this.status = options.status ?? 500
  }
}

/** True for any {@link KeelError}, including one thrown by another copy of Keel. */
export function isKeelError(error: unknown): error is KeelError {
  return typeof error === 'object' && error !== null && (error as KeelError).isKeelError === true
}
