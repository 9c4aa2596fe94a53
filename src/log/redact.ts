/** The text that replaces a secret in logs. */
export const REDACTED = '[REDACTED]'

/**
 * Key names that hold secrets wherever they appear, compared lowercased with `-` and `_` removed,
 * so `X-Api-Key`, `api_key` and `apiKey` all match.
 */
export const wellKnownSecretKeys: ReadonlySet<string> = new Set([
  'authorization',
  'proxyauthorization',
  'cookie',
  'setcookie',
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'clientsecret',
  'token',
  'accesstoken',
  'refreshtoken',
  'idtoken',
  'apikey',
  'xapikey',
  'apitoken',
  'privatekey',
  'sessionid',
  'credentials',
  'creditcard',
  'cardnumber',
  'cvv',
  'ssn',
])

const normalize = (key: string) => key.toLowerCase().replace(/[-_]/g, '')

/** True when a key names a secret under the well-known list. */
export const isSecretKey = (key: string): boolean => wellKnownSecretKeys.has(normalize(key))

/**
 * Returns `value` with every well-known secret key replaced by `[REDACTED]`, at any depth.
 * Objects on the way to a secret are copied; the caller's objects are never changed, and a value
 * without secrets is returned as is (no allocation on the common path).
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 8 || value instanceof Error) return value
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined
    value.forEach((item, i) => {
      const redacted = redactDeep(item, depth + 1)
      if (redacted !== item) {
        copy ??= [...value]
        copy[i] = redacted
      }
    })
    return copy ?? value
  }
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return value
  let copy: Record<string, unknown> | undefined
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key]
    const redacted = isSecretKey(key) && item !== undefined ? REDACTED : redactDeep(item, depth + 1)
    if (redacted !== item) {
      copy ??= { ...(value as Record<string, unknown>) }
      copy[key] = redacted
    }
  }
  return copy ?? value
}

/** A URL path with the values of secret-named query parameters redacted (`/cb?token=[REDACTED]`). */
export function redactUrl(url: string): string {
  const q = url.indexOf('?')
  if (q === -1) return url
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=')
      const key = eq === -1 ? pair : pair.slice(0, eq)
      return eq !== -1 && isSecretKey(decodeURIComponentSafe(key)) ? `${key}=${REDACTED}` : pair
    })
  return `${url.slice(0, q)}?${params.join('&')}`
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
