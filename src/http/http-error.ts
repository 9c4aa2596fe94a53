import { KeelError, type KeelErrorCode } from '../errors/index.ts'

/**
 * An error that becomes a problem details response with its status, code and extension members.
 * Throw it from a handler or a guard; a 4xx shows its message as `detail`, a 5xx does not.
 *
 * @example
 * ```ts
 * throw new HttpError(409, 'KEEL_CONFLICT', 'an order with this reference exists', { reference })
 * ```
 */
export class HttpError extends KeelError {
  /** Brand checked by {@link isHttpError}; survives two copies of the package. */
  readonly isHttpError = true
  readonly extensions: Readonly<Record<string, unknown>>
  readonly headers: Readonly<Record<string, string>>

  constructor(
    status: number,
    code: KeelErrorCode,
    message: string,
    extensions: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(code, message, { status })
    this.name = 'HttpError'
    this.extensions = extensions
    this.headers = headers
  }
}

/** True for an {@link HttpError}, including one from another copy of Keel. */
export const isHttpError = (error: unknown): error is HttpError =>
  typeof error === 'object' && error !== null && (error as HttpError).isHttpError === true

/** One failed rule in a request, located by a JSON pointer into the request (`/body/email`). */
export interface Violation {
  /** `/params/id`, `/query/limit`, `/headers/x-tenant`, `/body/items/0/qty`. */
  pointer: string
  message: string
}

/** A 400 listing every violation in the request. */
export const validationError = (violations: readonly Violation[]): HttpError =>
  new HttpError(
    400,
    'KEEL_VALIDATION',
    `the request has ${violations.length} invalid value${violations.length === 1 ? '' : 's'}`,
    { errors: violations },
  )
