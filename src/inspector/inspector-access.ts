import { createHash, timingSafeEqual } from 'node:crypto'
import { authorizationCredentials } from '../http/auth/authorization-header.ts'
import type { Guard } from '../http/guard.ts'
import { HttpError } from '../http/http-error.ts'
import type { RequestContext } from '../http/route.ts'

/** What an inspector caller may do: `viewer` reads, `operator` also acts (retry, discard, relay). */
export type InspectorRole = 'viewer' | 'operator'

/** The WebSocket subprotocol the live feed speaks; offer it first, then `bearer.<token>`. */
export const liveProtocol = 'keel-inspector.v1'
const bearerProtocolPrefix = 'bearer.'

/** Who may call the inspector: whether a token is needed, and the tokens of each role. */
export interface InspectorAccess {
  readonly requireToken: boolean
  readonly tokens: { readonly viewer: readonly string[]; readonly operator: readonly string[] }
}

const digest = (text: string) => createHash('sha256').update(text).digest()

/**
 * The inspector's bearer-token check, as a guard per needed role. Tokens are compared in constant
 * time: each configured token's SHA-256 against the presented one's, every token every time (so
 * neither length nor position leaks). No token where one is required → 401 with
 * `WWW-Authenticate: Bearer`; a viewer token on an operator action → 403. Without
 * `requireToken` (dev and test), a request without a token acts as operator, and a presented
 * token is still checked (a UI can test its token locally).
 *
 * A browser cannot set headers on a WebSocket, so an upgrade may carry the token as the
 * subprotocol `bearer.<token>`, after `keel-inspector.v1` (which the server picks, so the token is
 * never echoed back).
 */
export function inspectorAccess(access: InspectorAccess): (needs: InspectorRole) => Guard {
  const known = [
    ...access.tokens.operator
      .filter((t) => t !== '')
      .map((t) => ({ digest: digest(t), role: 'operator' as const })),
    ...access.tokens.viewer
      .filter((t) => t !== '')
      .map((t) => ({ digest: digest(t), role: 'viewer' as const })),
  ]
  const roleOf = (token: string): InspectorRole | undefined => {
    const presented = digest(token)
    let role: InspectorRole | undefined
    for (const entry of known) {
      // No early exit: the time taken does not say which token matched, or whether one did.
      if (timingSafeEqual(entry.digest, presented) && role !== 'operator') role = entry.role
    }
    return role
  }
  const guards = new Map<InspectorRole, Guard>()
  for (const needs of ['viewer', 'operator'] as const) {
    guards.set(needs, {
      name: 'inspector.access',
      options: { role: needs, requireToken: access.requireToken },
      handle(ctx, next) {
        const token = tokenOf(ctx)
        let role: InspectorRole | undefined
        if (token === undefined) {
          if (access.requireToken) throw unauthorized('this inspector route needs a bearer token')
          role = 'operator'
        } else {
          role = roleOf(token)
          if (!role) throw unauthorized('the bearer token is not an inspector token')
        }
        if (needs === 'operator' && role !== 'operator') {
          throw new HttpError(403, 'KEEL_FORBIDDEN', 'this inspector action needs the operator role', {
            requiredRole: 'operator',
          })
        }
        ctx.principal = { id: `inspector:${role}`, kind: 'api-key', roles: [role], scopes: [], claims: {} }
        return next()
      },
    })
  }
  return (needs) => guards.get(needs)!
}

/** The presented token: `Authorization: Bearer`, or on an upgrade the `bearer.<token>` subprotocol. */
function tokenOf(ctx: RequestContext): string | undefined {
  const header = ctx.headers.authorization
  const bearer = authorizationCredentials(Array.isArray(header) ? header[0] : header, 'Bearer')
  if (bearer !== undefined) return bearer
  const offered = ctx.headers['sec-websocket-protocol']
  if (typeof offered !== 'string') return undefined
  const protocols = offered.split(',').map((p) => p.trim())
  const index = protocols.findIndex((p) => p.startsWith(bearerProtocolPrefix))
  if (index === -1) return undefined
  if (index === 0) {
    // The server picks the first protocol and echoes it: the token must not be that one.
    throw new HttpError(
      400,
      'KEEL_BAD_REQUEST',
      `offer the "${liveProtocol}" subprotocol before "bearer.<token>"`,
    )
  }
  return protocols[index]!.slice(bearerProtocolPrefix.length)
}

const unauthorized = (message: string) =>
  new HttpError(
    401,
    'KEEL_UNAUTHORIZED',
    message,
    {},
    { 'www-authenticate': 'Bearer realm="keel-inspector"' },
  )
