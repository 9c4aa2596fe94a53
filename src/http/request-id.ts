import { randomUUID } from 'node:crypto'

const acceptable = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's `X-Request-Id` when it is a safe token, else a fresh UUID. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptable.test(header) ? header : randomUUID()
}
