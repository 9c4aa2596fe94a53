import { validationError } from '../../http/http-error.ts'

/** Where a cursor page ends: the sort value and primary key of its last row. */
export interface CursorPosition {
  /** The sort the cursor was made for (`-created_at`); a cursor does not carry over to another sort. */
  readonly sort: string
  readonly value: unknown
  readonly key: unknown
}

/** An opaque, URL-safe token for a position. Not signed: it only says where to continue. */
export function encodeCursor(position: CursorPosition): string {
  const value = position.value instanceof Date ? position.value.toISOString() : position.value
  return Buffer.from(JSON.stringify([position.sort, value, position.key])).toString('base64url')
}

/** Reads a token made by {@link encodeCursor} for `sort`; anything else is a 400. */
export function decodeCursor(token: string, sort: string): CursorPosition {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw invalid('it is not a cursor this API made')
  }
  if (!Array.isArray(parsed) || parsed.length !== 3 || typeof parsed[0] !== 'string') {
    throw invalid('it is not a cursor this API made')
  }
  if (parsed[0] !== sort) throw invalid(`it was made for sort "${parsed[0]}", not "${sort}"`)
  return { sort, value: parsed[1], key: parsed[2] }
}

const invalid = (why: string) =>
  validationError([{ pointer: '/query/cursor', message: `invalid cursor: ${why}` }])
