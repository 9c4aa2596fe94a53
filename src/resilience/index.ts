export { type BulkheadOptions, type BulkheadPolicy, bulkhead } from './bulkhead.ts'
export {
  type BreakerRule,
  type CircuitBreakerOptions,
  type CircuitBreakerPolicy,
  type CircuitState,
  type CircuitStateChange,
  circuitBreaker,
} from './circuit-breaker.ts'
export { type Clock, systemClock } from './clock.ts'
export { isAbortError, isTransientFailure } from './failure.ts'
export { type CallOutcome, type ResilienceMetrics, resilienceMetrics } from './metrics.ts'
export { type Policy, type PolicyContext, type PolicyOptions, wrap } from './policy.ts'
export {
  type GiveUpEvent,
  type ResolvedRetryOptions,
  type RetryEvent,
  type RetryOptions,
  type RetryPolicy,
  resolveRetryOptions,
  retry,
  retryDelay,
  shouldRetry,
} from './retry.ts'
export { timeout } from './timeout.ts'
