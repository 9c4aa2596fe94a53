import { KeelError } from '../../errors/index.ts'
import type { Guard } from '../guard.ts'
import { HttpError } from '../http-error.ts'
import type { Principal } from '../principal.ts'
import { challengesFor, formatChallenge, unauthorized } from './auth-challenge.ts'
import { AuthDecisions } from './auth-decision.ts'

/** What {@link authorize} requires of the principal. */
export interface AuthorizeOptions {
  roles?: readonly string[]
  scopes?: readonly string[]
  /**
   * `all` (default): every listed role and every listed scope. `any`: at least one listed role
   * (if roles are listed) and at least one listed scope (if scopes are listed).
   */
  match?: 'all' | 'any'
}

/**
 * A guard that lets a request through only if an earlier auth guard set a principal with the
 * listed roles and scopes. No principal: 401 with the challenges of the auth guards that ran.
 * Lacking: 403 `KEEL_FORBIDDEN`, listing what the route requires; for a JWT principal short of
 * scopes the response also carries `WWW-Authenticate: Bearer error="insufficient_scope"`.
 * Decisions are counted in `keel_auth_requests_total{guard="auth.authorize",outcome}`
 * (`accepted`, `unauthenticated`, `forbidden`) and published on the `keel:auth` diagnostics
 * channel (see `AuthDecision`).
 *
 * @example
 * ```ts
 * app.delete('/orders/:id', { guards: [authorize({ roles: ['admin', 'support'], match: 'any' })] }, remove)
 * ```
 */
export function authorize(options: AuthorizeOptions): Guard {
  const roles = names(options.roles, 'roles')
  const scopes = names(options.scopes, 'scopes')
  const match = options.match ?? 'all'
  if (roles.length === 0 && scopes.length === 0) {
    throw new KeelError('KEEL_GUARD_OPTIONS', 'authorize: list at least one role or scope')
  }
  if (match !== 'all' && match !== 'any') {
    throw new KeelError('KEEL_GUARD_OPTIONS', `authorize: match must be "all" or "any", not "${match}"`)
  }
  const satisfies = (held: readonly string[], wanted: readonly string[]) =>
    wanted.length === 0 ||
    (match === 'all' ? wanted.every((w) => held.includes(w)) : wanted.some((w) => held.includes(w)))
  const required = { roles, scopes, match }
  const outcomes = new AuthDecisions('auth.authorize', ['accepted', 'unauthenticated', 'forbidden'])

  return {
    name: 'auth.authorize',
    options: Object.freeze(required),
    attach: outcomes.attach,
    handle(ctx, next) {
      const principal = ctx.principal
      if (principal === undefined) {
        outcomes.decide(ctx, 'unauthenticated')
        throw unauthorized(challengesFor(ctx), 'the request carries no credentials')
      }
      const hasRoles = satisfies(principal.roles, roles)
      const hasScopes = satisfies(principal.scopes, scopes)
      if (hasRoles && hasScopes) {
        outcomes.decide(ctx, 'accepted')
        return next()
      }
      outcomes.decide(ctx, 'forbidden')
      ctx.log.debug(
        { auth: 'authorize', principal: principal.id, hasRoles, hasScopes },
        'authorize: forbidden',
      )
      throw forbidden(principal, required, hasScopes)
    },
  }
}

/**
 * A guard requiring every one of `roles` (see {@link authorize}).
 *
 * @example
 * ```ts
 * app.group('/admin', { guards: [jwtAuth(jwt), requireRoles('admin')] }, (admin) => { … })
 * ```
 */
export const requireRoles = (...roles: string[]): Guard => authorize({ roles })

/**
 * A guard requiring every one of `scopes` (see {@link authorize}); OpenAPI lists them as the
 * route's security requirement.
 *
 * @example
 * ```ts
 * app.get('/orders', { guards: [requireScopes('orders:read')] }, listOrders)
 * ```
 */
export const requireScopes = (...scopes: string[]): Guard => authorize({ scopes })

function names(values: readonly string[] | undefined, what: string): readonly string[] {
  const list = Object.freeze([...new Set(values ?? [])])
  for (const value of list) {
    // Scope tokens (RFC 6749 §3.3) are printable ASCII without spaces, quotes or backslashes.
    if (typeof value !== 'string' || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(value)) {
      throw new KeelError(
        'KEEL_GUARD_OPTIONS',
        `authorize: ${what} entry ${JSON.stringify(value)} is not a valid name`,
      )
    }
  }
  return list
}

function forbidden(
  principal: Principal,
  required: { roles: readonly string[]; scopes: readonly string[]; match: string },
  hasScopes: boolean,
): HttpError {
  const headers: Record<string, string> = {}
  if (!hasScopes && principal.kind === 'jwt') {
    headers['www-authenticate'] = formatChallenge('Bearer', {
      error: 'insufficient_scope',
      scope: required.scopes.join(' '),
    })
  }
  return new HttpError(
    403,
    'KEEL_FORBIDDEN',
    'the credentials lack a role or scope this route requires',
    { required: { roles: required.roles, scopes: required.scopes, match: required.match } },
    headers,
  )
}
