import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { Registry } from 'prom-client'
import { type AuthDecision, authChannelName } from '../http/auth/auth-decision.ts'
import type { Logger } from '../log/index.ts'
import type { AuditEvent } from './entry.ts'
import type { AuditMetrics, AuthAuditAction } from './metrics.ts'
import type { AuditTrail } from './trail.ts'

/** What `audit.auth` records: nothing, refusals, or refusals and acceptances. */
export type AuthAuditMode = 'off' | 'refused' | 'all'

/** Options of {@link AuthEventRecorder}. */
export interface AuthEventRecorderOptions {
  readonly trail: AuditTrail
  readonly mode: Exclude<AuthAuditMode, 'off'>
  /** Most entries of each action appended per second; the rest are counted as dropped. */
  readonly maxPerSecond: number
  /** Only decisions of guards attached to the app with this registry are recorded. */
  readonly registry: Registry
  readonly metrics: AuditMetrics
  readonly log: Logger
}

/**
 * Appends auth guard decisions, published on the `keel:auth` diagnostics channel, to the audit
 * trail: `auth.refused` for every refusal and, in mode `all`, `auth.accepted` for every principal
 * an authenticating guard verified. The request never waits for the commit; a failed append is
 * logged and counted. Each action has its own budget of `maxPerSecond`, so a flood of refused
 * requests (anyone can send them) neither grows the trail without bound nor crowds out
 * acceptances.
 */
export class AuthEventRecorder {
  readonly #options: AuthEventRecorderOptions
  readonly #budgets: Record<AuthAuditAction, AppendBudget>
  #isSubscribed = false

  constructor(options: AuthEventRecorderOptions) {
    this.#options = options
    this.#budgets = {
      'auth.refused': new AppendBudget(options.maxPerSecond),
      'auth.accepted': new AppendBudget(options.maxPerSecond),
    }
  }

  /** Starts listening on the channel. */
  subscribe(): void {
    if (this.#isSubscribed) return
    subscribe(authChannelName, this.#onDecision)
    this.#isSubscribed = true
  }

  /** Stops listening; appends already made still commit (the trail's `flush` waits for them). */
  unsubscribe(): void {
    if (!this.#isSubscribed) return
    unsubscribe(authChannelName, this.#onDecision)
    this.#isSubscribed = false
  }

  readonly #onDecision = (message: unknown): void => {
    const decision = message as AuthDecision
    if (decision.registry !== this.#options.registry) return // another app of this process
    const event = authEvent(decision, this.#options.mode)
    if (event === undefined) return
    const { trail, metrics, log } = this.#options
    const action = event.action as AuthAuditAction
    if (!this.#budgets[action].take()) {
      metrics.authDropped(action)
      return
    }
    trail.append(event).catch((error: unknown) => {
      metrics.authFailed(action)
      log.error(
        {
          err: error,
          action,
          guard: decision.guard,
          outcome: decision.outcome,
          request_id: decision.requestId,
        },
        'audit: an auth event could not be appended',
      )
    })
  }
}

/**
 * The entry for a decision, or undefined when `mode` does not record it. `anonymous` (no
 * credentials where the guard lets that through) is no refusal; `authorize` acceptances add nothing
 * to the entry of the guard that verified the principal.
 */
export function authEvent(
  decision: AuthDecision,
  mode: Exclude<AuthAuditMode, 'off'>,
): AuditEvent | undefined {
  const subject = `${decision.method} ${decision.route || '(no route)'}`
  const actor = decision.principal?.id
  if (decision.isRefused) {
    return {
      action: 'auth.refused',
      ...(actor ? { actor } : {}),
      subject,
      data: {
        guard: decision.guard,
        outcome: decision.outcome,
        requestId: decision.requestId,
        ip: decision.ip,
      },
    }
  }
  if (mode !== 'all' || decision.outcome !== 'accepted' || decision.guard === 'auth.authorize')
    return undefined
  return {
    action: 'auth.accepted',
    ...(actor ? { actor } : {}),
    subject,
    data: { guard: decision.guard, requestId: decision.requestId, ip: decision.ip },
  }
}

/** A token bucket: up to `perSecond` at once, refilled at `perSecond` a second. */
class AppendBudget {
  readonly #perSecond: number
  #tokens: number
  #at = performance.now()

  constructor(perSecond: number) {
    this.#perSecond = perSecond
    this.#tokens = perSecond
  }

  take(): boolean {
    const now = performance.now()
    this.#tokens = Math.min(this.#perSecond, this.#tokens + ((now - this.#at) * this.#perSecond) / 1000)
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}
