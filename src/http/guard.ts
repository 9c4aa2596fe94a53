import type { Registry } from 'prom-client'
import type { Logger } from '../log/index.ts'
import type { Tracing } from '../telemetry/index.ts'
import type { RequestContext } from './route.ts'

/**
 * What an app offers the guards registered on it, so they report their own metrics and logs.
 * Metrics go on `registry` (bind label sets here, not per request); `tracing` is read when
 * needed, since it exists only once the app has started.
 */
export interface GuardHost {
  /** The app's metrics registry (`app.metrics.registry`). */
  readonly registry: Registry
  /** A logger for a module name (`keel:auth`), at the level the `log` config gives it. */
  logger(name: string): Logger
  /** The app's tracing: disabled until the app starts, so read it per use, never keep it. */
  readonly tracing: Tracing
}

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
  /**
   * Called once by each app the guard is registered on (`app.guard()`, a group's or a route's
   * guards, a WebSocket route's), before it starts: bind metrics to `host.registry` here. A guard
   * instance shared by two apps reports to the one it was attached to last.
   */
  attach?(host: GuardHost): void
}

/**
 * Attaches guards to one app's {@link GuardHost}, each guard once however many routes share it
 * (a group's guards are on every route of the group).
 */
export class GuardAttachments {
  readonly #host: GuardHost
  readonly #attached = new WeakSet<Guard>()

  constructor(host: GuardHost) {
    this.#host = host
  }

  /** Calls `attach(host)` on each guard not attached yet. */
  add(guards: readonly Guard[] | undefined): void {
    for (const guard of guards ?? []) {
      if (this.#attached.has(guard)) continue
      this.#attached.add(guard)
      guard.attach?.(this.#host)
    }
  }
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
  // No Promise.resolve per step: guards that only act before the handler keep a synchronous
  // chain synchronous, which the benchmark showed matters (a promise per guard per request).
  // The chain is nested once, here: a request then allocates one anonymous `next` per guard and
  // nothing else (a named per-request closure also costs a `__name` call when run through tsx).
  let chain = handler
  for (let i = guards.length - 1; i >= 0; i--) chain = guarded(guards[i]!, chain)
  return chain
}

const guarded =
  (guard: Guard, inner: Handler): Handler =>
  (ctx) =>
    guard.handle(ctx, () => inner(ctx))
