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
  /**
   * Runs around the rest of the chain. `next()` returns the body, or a promise of it when
   * something further in is asynchronous: `await next()` works either way. A guard that only
   * acts before the handler should `return next()` untouched, so a fully synchronous chain stays
   * synchronous (no promise per request).
   */
  handle(ctx: RequestContext, next: Next): unknown
}

/** Continues the guard chain; returns the handler's body or a promise of it. */
export type Next = () => unknown

/** A route handler as guards see it. */
export type Handler = (ctx: RequestContext) => unknown

/**
 * Wraps `handler` in `guards`, the first outermost. With no guards it returns `handler` itself,
 * so unguarded routes pay nothing.
 */
export function withGuards(guards: readonly Guard[], handler: Handler): Handler {
  if (guards.length === 0) return handler
  // No Promise.resolve per step: guards that only act before the handler keep a synchronous
  // chain synchronous, which the benchmark showed matters (a promise per guard per request).
  return (ctx) => {
    const dispatch = (index: number): unknown =>
      index === guards.length ? handler(ctx) : guards[index]!.handle(ctx, () => dispatch(index + 1))
    return dispatch(0)
  }
}
