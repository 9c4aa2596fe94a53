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

/**
 * A 422 for a request that is well-formed and matches its schemas but cannot be processed: the
 * rules a schema cannot express (an end date before its start, an unknown product). Each
 * violation points into the request, as in a 400 from validation.
 *
 * @example
 * ```ts
 * if (ctx.body.end < ctx.body.start) {
 *   throw unprocessable([{ pointer: '/body/end', message: 'is before start' }])
 * }
 * ```
 */
export const unprocessable = (violations: readonly Violation[], message?: string): HttpError =>
  new HttpError(
    422,
    'KEEL_UNPROCESSABLE',
    message ?? violations.map((v) => `${v.pointer} ${v.message}`).join('; '),
    { errors: violations },
  )
