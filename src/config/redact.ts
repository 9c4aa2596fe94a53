/** Query parameters that carry credentials: `password`, `api_key`, `X-Amz-Signature`, `sessionid`, … */
const secretParameter = /pass|pwd|secret|token|key|sig|auth|credential|session/i

/** The text shown instead of a secret. */
export const REDACTED = '[REDACTED]'

/**
 * A secret value made safe to print. URLs keep scheme, host, port and path so an operator can
 * still see where a connection goes; only credentials are hidden.
 */
export function redactSecret(value: unknown): unknown {
  if (typeof value !== 'string' || value === '') return value === '' ? value : REDACTED
  try {
    const url = new URL(value)
    if (url.host === '') return REDACTED
    if (url.password) url.password = REDACTED
    else if (url.username) url.username = REDACTED
    for (const key of [...url.searchParams.keys()]) {
      if (secretParameter.test(key)) url.searchParams.set(key, REDACTED)
    }
    return decodeURIComponent(url.toString())
  } catch {
    return REDACTED
  }
}
