import { HttpError } from '../../http/http-error.ts'

/**
 * The HTTP answer for a constraint the database enforced: a duplicate is 409, a reference to a
 * missing row or a failed check is 422, a row others still refer to is 409. Anything else is
 * rethrown as it is (a 500 that logs the cause).
 */
export function constraintProblem(error: unknown, resource: string): unknown {
  const code = (error as { code?: unknown }).code
  const constraint =
    (error as { constraint_name?: string; constraint?: string }).constraint_name ??
    (error as { constraint?: string }).constraint
  const named = constraint ? ` (${constraint})` : ''
  switch (code) {
    case '23505':
      return new HttpError(409, 'KEEL_CONFLICT', `${resource}: a row with this value exists already${named}`)
    case '23503':
      return /is still referenced|update or delete/.test(String((error as Error).message))
        ? new HttpError(409, 'KEEL_CONFLICT', `${resource}: other rows still refer to this one${named}`)
        : new HttpError(422, 'KEEL_UNPROCESSABLE', `${resource}: refers to a row that does not exist${named}`)
    case '23514':
      return new HttpError(
        422,
        'KEEL_UNPROCESSABLE',
        `${resource}: a value breaks a rule of the table${named}`,
      )
    default:
      return error
  }
}
