import type { Principal } from '../principal.ts'
import type { RequestContext } from '../route.ts'
import { challengesFor, unauthorized } from './auth-challenge.ts'

/**
 * The request's principal, if an auth guard verified one. For code that receives a context
 * (handlers, later capabilities) and wants to stay independent of how it was authenticated.
 *
 * @example
 * ```ts
 * const who = principalOf(ctx)?.id ?? 'anonymous'
 * ```
 */
export const principalOf = (ctx: Pick<RequestContext, 'principal'>): Principal | undefined => ctx.principal

/**
 * The request's principal, or a 401 `KEEL_UNAUTHORIZED` problem (with the challenges of the
 * auth guards that ran) when there is none: for handlers behind optional auth that need one.
 *
 * @example
 * ```ts
 * app.post('/comments', (ctx) => saveComment({ author: requirePrincipal(ctx).id }))
 * ```
 */
export function requirePrincipal(ctx: RequestContext): Principal {
  if (ctx.principal === undefined)
    throw unauthorized(challengesFor(ctx), 'the request carries no credentials')
  return ctx.principal
}
