/**
 * The credentials after `scheme` in an `Authorization` header value (`Bearer abc` → `abc`).
 * The scheme matches case-insensitively (RFC 9110 §11.1); `undefined` when the header is absent
 * or names another scheme (including a bare token with no scheme at all); `''` when the scheme
 * is right but no credentials follow it.
 */
export function authorizationCredentials(header: string | undefined, scheme: string): string | undefined {
  if (header === undefined) return undefined
  const value = header.trim()
  if (value.length < scheme.length) return undefined
  if (value.slice(0, scheme.length).toLowerCase() !== scheme.toLowerCase()) return undefined
  if (value.length === scheme.length) return ''
  const rest = value.slice(scheme.length)
  // `Bearerabc` is not the Bearer scheme: a space must separate scheme and credentials.
  if (rest[0] !== ' ') return undefined
  return rest.trim()
}
