import type { JWTPayload } from 'jose'
import type { Principal } from '../principal.ts'

/** Which claims a verified token's principal is read from. */
export interface ClaimMapping {
  /** Claim holding the principal's id. Default `sub`. */
  subjectClaim: string
  /**
   * Claim holding the roles: an array of strings or a space-separated string. A name with dots
   * (`realm_access.roles`) is a path into nested objects unless a claim has that exact name
   * (namespaced claims like `https://example.com/roles`). Default `roles`.
   */
  rolesClaim: string
}

/**
 * The {@link Principal} of a verified JWT: `id` from the subject claim, roles from the roles
 * claim, scopes from `scope` (space-separated, RFC 8693) and `scp` (array or string, as Azure
 * AD and Okta send it). `undefined` when the subject is missing or not a non-empty string.
 */
export function principalFromClaims(payload: JWTPayload, mapping: ClaimMapping): Principal | undefined {
  const id = payload[mapping.subjectClaim]
  if (typeof id !== 'string' || id === '') return undefined
  const scopes = new Set([...stringList(payload.scope), ...stringList(payload.scp)])
  return Object.freeze({
    id,
    kind: 'jwt' as const,
    roles: Object.freeze(stringList(claimAt(payload, mapping.rolesClaim))),
    scopes: Object.freeze([...scopes]),
    claims: Object.freeze({ ...payload }),
  })
}

function claimAt(payload: JWTPayload, name: string): unknown {
  if (Object.hasOwn(payload, name) || !name.includes('.'))
    return Object.hasOwn(payload, name) ? payload[name] : undefined
  let value: unknown = payload
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined
    value = (value as Record<string, unknown>)[part]
  }
  return value
}

/** Strings of an array, or the words of a space-separated string; anything else is empty. */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((word) => word !== '')
  if (Array.isArray(value))
    return value.filter((item): item is string => typeof item === 'string' && item !== '')
  return []
}
