import type { Registry } from 'prom-client'
import { type BoundCounter, boundCounter, perRegistry } from '../../telemetry/index.ts'

/** What a rate limit decided about a request it could count: `keel_rate_limit_requests_total{outcome}`. */
export type RateLimitOutcome = 'allowed' | 'limited'

/**
 * What happened to a request the store could not count: let through (`onStoreError: 'allow'`,
 * fail open) or refused with 503 (`'reject'`, fail closed).
 */
export type RateLimitStoreErrorOutcome = 'allowed' | 'rejected'

/** The rate limit metrics of one registry, labelled by limiter (the guard's `name`). */
export interface RateLimitMetrics {
  /** `keel_rate_limit_requests_total{limiter,outcome}`: decisions, allowed or limited. */
  readonly requests: BoundCounter
  /** `keel_rate_limit_store_errors_total{limiter,outcome}`: requests the store failed to count. */
  readonly storeErrors: BoundCounter
}

/** The rate limit metrics registered on `registry`, created on first use. */
export const rateLimitMetrics: (registry: Registry) => RateLimitMetrics = perRegistry((registry) => ({
  requests: boundCounter(registry, {
    name: 'keel_rate_limit_requests_total',
    help: 'Requests a rate limit counted, by limiter and outcome (allowed, limited)',
    labelNames: ['limiter', 'outcome'],
  }),
  storeErrors: boundCounter(registry, {
    name: 'keel_rate_limit_store_errors_total',
    help: 'Requests a rate limit store failed to count, by limiter and what the request got (allowed: fail open, rejected: 503)',
    labelNames: ['limiter', 'outcome'],
  }),
}))
