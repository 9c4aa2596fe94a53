import type { Guard } from '../../http/guard.ts'
import { HttpError } from '../../http/http-error.ts'
import type { Principal } from '../../http/principal.ts'
import type { EndpointAuth, ResourceDefinition } from '../definition.ts'

/** The rows one request may touch: always within its tenant, and only its own under the owner rule. */
export interface RowScope {
  /** `field = value` on every statement, and the value of `field` on insert. */
  readonly tenant?: { readonly field: string; readonly value: string }
  /** `field = subject` on every statement: set when access comes from the owner rule alone. */
  readonly owner?: { readonly field: string; readonly value: string }
  /** Who asked (the JWT subject), for events and the audit trail. */
  readonly actor?: string
}

/**
 * Decides whether `principal` may call an endpoint, and on which rows. Fails closed: a request
 * without a principal is 401 unless the endpoint is public; a tenant-scoped resource refuses any
 * request without the tenant claim (403), even on a public endpoint, because without it the rows
 * of every tenant would be in reach.
 */
export function scopeFor(
  resource: ResourceDefinition,
  auth: EndpointAuth,
  principal: Principal | undefined,
): RowScope {
  if (!principal && (!auth.isPublic || resource.tenant)) {
    throw new HttpError(
      401,
      'KEEL_UNAUTHORIZED',
      `${resource.name}: this endpoint needs credentials`,
      {},
      {
        'www-authenticate': 'Bearer',
      },
    )
  }
  const tenant = resource.tenant && principal ? tenantOf(resource, principal) : undefined
  const actor = principal?.id
  const base = tenant || actor ? { ...(tenant ? { tenant } : {}), ...(actor ? { actor } : {}) } : anyone
  if (auth.isPublic) return base
  const roles = principal!.roles
  if (auth.roles.some((role) => roles.includes(role))) return base
  if (auth.allowsOwner && resource.owner)
    return { ...base, owner: { field: resource.owner, value: principal!.id } }
  throw new HttpError(
    403,
    'KEEL_FORBIDDEN',
    `${resource.name}: needs one of the roles ${auth.roles.map((r) => `"${r}"`).join(', ') || '(none)'}${auth.allowsOwner ? ' or ownership of the row' : ''}`,
  )
}

/** The scope of an anonymous request to a public endpoint of a resource without tenants. */
const anyone: RowScope = Object.freeze({})

function tenantOf(resource: ResourceDefinition, principal: Principal): { field: string; value: string } {
  const { field, claim } = resource.tenant!
  const value = principal.claims[claim]
  if (typeof value !== 'string' && typeof value !== 'number') {
    throw new HttpError(
      403,
      'KEEL_FORBIDDEN',
      `${resource.name} is isolated per tenant: the credentials carry no "${claim}" claim`,
    )
  }
  return { field, value: String(value) }
}

/**
 * Refuses a request without a principal (401) before the handler runs. Named `auth.require`, so
 * OpenAPI documents the operation as needing credentials even when the auth guard before it is
 * optional (`required: false`, for the resource's public endpoints).
 */
export const signedIn: Guard = {
  name: 'auth.require',
  handle(ctx, next) {
    if (!ctx.principal) {
      throw new HttpError(
        401,
        'KEEL_UNAUTHORIZED',
        'this endpoint needs credentials',
        {},
        { 'www-authenticate': 'Bearer' },
      )
    }
    return next()
  },
}
