import type { RequestContext } from './route.ts'

/**
 * A guard runs around a route's handler: app-wide (every request, unmatched ones included),
 * per group, or per route. It calls `next()` to go on (and gets the handler's body back), or
 * answers by throwing an {@link HttpError} or by returning without calling `next()`.
 *
 * Guards are made by option-taking factories (`cors({ origins })`) and list themselves, with
 * their options minus secrets, in the app description.
 */
export interface Guard {
  readonly name: string
  /** Options as the app description and OpenAPI show them; never secrets. */
  readonly options?: Readonly<Record<string, unknown>>
  handle(ctx: RequestContext, next: () => Promise<unknown>): unknown
}

/** A route handler as guards see it. */
export type Handler = (ctx: RequestContext) => unknown

/**
 * Wraps `handler` in `guards`, the first outermost. With no guards it returns `handler` itself,
 * so unguarded routes pay nothing.
 */
export function withGuards(guards: readonly Guard[], handler: Handler): Handler {
  if (guards.length === 0) return handler
  return (ctx) => {
    const dispatch = (index: number): Promise<unknown> => {
      if (index === guards.length) return Promise.resolve(handler(ctx))
      return Promise.resolve(guards[index]!.handle(ctx, () => dispatch(index + 1)))
    }
    return dispatch(0)
  }
}
