import { randomBytes } from 'node:crypto'

const acceptable = /^[A-Za-z0-9._:-]{1,128}$/

/** Whether a request id is safe to log and echo: 1-128 letters, digits, `.`, `_`, `:` or `-`. */
export const isAcceptableRequestId = (id: unknown): id is string =>
  typeof id === 'string' && acceptable.test(id)

/** The caller's `X-Request-Id` when it is a safe token, else a fresh {@link mintRequestId}. */
export function requestIdFrom(header: string | string[] | undefined): string {
  return typeof header === 'string' && acceptable.test(header) ? header : mintRequestId()
}

/**
 * A UUID (RFC 9562 version 8, the custom layout) unique among requests: 74 random bits drawn once
 * per process, then a 48-bit counter. A request id ties log lines, traces and problem details
 * together; it must be unique, not unpredictable, and `randomUUID()` (a fill of random bytes, then
 * formatting) was the largest cost of naming a request. Version 8 says the bits are not all
 * random, as version 4 would claim.
 */
export function mintRequestId(): string {
  if (counter === maxCounter) {
    prefix = drawPrefix()
    counter = 0
  }
  counter++
  return prefix + counter.toString(16).padStart(12, '0')
}

const maxCounter = 2 ** 48 - 1
let counter = 0
let prefix = drawPrefix()

/** `xxxxxxxx-xxxx-8xxx-yxxx-`: random x, version 8, variant bits 10 in y. */
function drawPrefix(): string {
  const hex = randomBytes(10).toString('hex')
  const variant = ((Number.parseInt(hex[15]!, 16) & 0x3) | 0x8).toString(16)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-`
}
