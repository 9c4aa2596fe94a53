import { channel } from 'node:diagnostics_channel'
import type { Registry } from 'prom-client'
import { OutcomeCounters } from '../../telemetry/index.ts'
import type { GuardHost } from '../guard.ts'
import type { Principal } from '../principal.ts'
import type { RequestContext } from '../route.ts'
import { type AuthOutcome, authMetrics } from './auth-metrics.ts'

/**
 * Name of the `node:diagnostics_channel` channel on which every auth guard decision is published
 * (the audit module's `audit.auth` subscribes to it). Messages are {@link AuthDecision}s.
 */
export const authChannelName = 'keel:auth'

/**
 * One auth guard decision, as published on {@link authChannelName}: the same decision that is
 * counted in `keel_auth_requests_total`. It never holds a credential: no token, no API key, no
 * key id, no raw header (the request id and client address are the validated forms the app uses).
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('keel:auth', (message) => {
 *   const decision = message as AuthDecision
 *   if (decision.isRefused) refusals.inc({ route: decision.route })
 * })
 * ```
 */
export interface AuthDecision {
  /** The guard that decided: `auth.jwt`, `auth.apiKey`, `auth.authorize`. */
  readonly guard: string
  readonly outcome: AuthOutcome
  /**
   * The guard refused the request (401, 403, or 503 when the keys could not be checked). False for
   * `accepted` and for `anonymous`: no credentials on a guard with `required: false` is let through.
   */
  readonly isRefused: boolean
  readonly method: string
  /** The route template that matched (`/todos/:id`); empty for a request no route matched. */
  readonly route: string
  /** The request id (`X-Request-Id` when the caller sent an acceptable one). */
  readonly requestId: string
  /** The client address, as `ctx.ip` resolves it. */
  readonly ip: string
  /**
   * The principal the request carries at the decision: the one just verified for `accepted`, the
   * one lacking a role or scope for `forbidden`; usually undefined for other refusals.
   */
  readonly principal: Principal | undefined
  /**
   * The metrics registry of the app the guard is attached to: tells apart the apps of one process
   * (the channel is process-wide). Undefined for a guard used outside an app.
   */
  readonly registry: Registry | undefined
}

// Held at module level: a channel object with subscribers must stay referenced to keep them.
const decisions = channel(authChannelName)

/**
 * The decisions of one auth guard: each is counted in `keel_auth_requests_total{guard,outcome}`
 * and published on {@link authChannelName} when, and only when, the channel has a subscriber, so
 * that without one a decision costs what counting it does. `outcomes` are the ones the guard can
 * produce, each a series at 0 once the guard is attached to an app. Guards of the same name share
 * series.
 */
export class AuthDecisions<O extends AuthOutcome> {
  readonly #guard: string
  readonly #counters: OutcomeCounters<O>
  #registry: Registry | undefined

  constructor(guard: string, outcomes: readonly O[]) {
    this.#guard = guard
    this.#counters = new OutcomeCounters(outcomes)
  }

  /** The guard's `attach`: counts into the app's registry from now on (the app attached last). */
  readonly attach = (host: GuardHost): void => {
    this.#registry = host.registry
    this.#counters.bind(authMetrics(host.registry).requests, [this.#guard])
  }

  /** Counts `outcome` and publishes it with what the request says about who asked and where. */
  decide(ctx: RequestContext, outcome: O): void {
    this.#counters.count(outcome)
    if (!decisions.hasSubscribers) return
    const decision: AuthDecision = {
      guard: this.#guard,
      outcome,
      isRefused: outcome !== 'accepted' && outcome !== 'anonymous',
      method: ctx.method,
      route: ctx.route,
      requestId: ctx.requestId,
      ip: ctx.ip,
      principal: ctx.principal,
      registry: this.#registry,
    }
    decisions.publish(decision)
  }
}
