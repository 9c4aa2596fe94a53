import { Counter, Gauge, type Registry } from 'prom-client'
import { perRegistry } from '../telemetry/index.ts'

/** How a call through a policy ended, the `outcome` label of `keel_resilience_calls_total`. */
export type CallOutcome = 'success' | 'failure' | 'aborted' | 'exhausted' | 'timeout' | 'rejected'

/** The resilience metrics of one registry; every series is labelled by policy name. */
export interface ResilienceMetrics {
  readonly retries: Counter<'policy'>
  readonly gaveUp: Counter<'policy'>
  readonly timeouts: Counter<'policy'>
  /** 0 closed, 1 half-open, 2 open, 3 isolated. */
  readonly circuitState: Gauge<'policy'>
  readonly circuitTransitions: Counter<'policy' | 'to'>
  readonly bulkheadActive: Gauge<'policy'>
  readonly bulkheadQueued: Gauge<'policy'>
  readonly bulkheadRejected: Counter<'policy'>
  readonly calls: Counter<'policy' | 'outcome'>
}

/**
 * The resilience metrics registered on `registry`, created on first use. Every policy given the
 * same registry shares one set, so they show up as series of the same metric.
 *
 * @example
 * ```ts
 * const metrics = resilienceMetrics(app.metrics.registry)
 * metrics.calls.inc({ policy: 'payments', outcome: 'success' })
 * ```
 */
export const resilienceMetrics: (registry: Registry) => ResilienceMetrics = perRegistry(createMetrics)

function createMetrics(registry: Registry): ResilienceMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    // A second copy of Keel in the process has its own WeakMap but may share the registry.
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  const gauge = (name: string, help: string) =>
    (registry.getSingleMetric(name) as Gauge<'policy'> | undefined) ??
    new Gauge({ name, help, labelNames: ['policy'] as const, registers: [registry] })
  const policy = ['policy'] as const
  return {
    retries: counter('keel_resilience_retries_total', 'Retries scheduled after a failed attempt', policy),
    gaveUp: counter(
      'keel_resilience_gave_up_total',
      'Calls a retry policy gave up on after its last attempt failed',
      policy,
    ),
    timeouts: counter(
      'keel_resilience_timeouts_total',
      'Calls a timeout policy cut off at its deadline',
      policy,
    ),
    circuitState: gauge(
      'keel_circuit_state',
      'Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 isolated',
    ),
    circuitTransitions: counter(
      'keel_circuit_transitions_total',
      'Circuit breaker state changes, by the state entered',
      ['policy', 'to'] as const,
    ),
    bulkheadActive: gauge('keel_bulkhead_active', 'Calls running inside a bulkhead'),
    bulkheadQueued: gauge('keel_bulkhead_queued', 'Calls waiting for a bulkhead slot'),
    bulkheadRejected: counter(
      'keel_bulkhead_rejected_total',
      'Calls a bulkhead refused because every slot and queue place was taken',
      policy,
    ),
    calls: counter(
      'keel_resilience_calls_total',
      'Calls through a resilience policy, by outcome (success, failure, aborted, exhausted, timeout, rejected)',
      ['policy', 'outcome'] as const,
    ),
  }
}
