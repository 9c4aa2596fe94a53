import { randomUUID } from 'node:crypto'

const acceptable = /^[A-Za-z0-9._:-]{1,128}$/

/** Whether a request id is safe to log and echo: 1-128 letters, digits, `.`, `_`, `:` or `-`. */
export const isAcceptableRequestId = (id: unknown): id is string =>
  typeof id === 'string' && acceptable.test(id)

/** The caller's `X-Request-Id` when it is a safe token, else a fresh UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptable.test(header) ? header : randomUUID()
}
