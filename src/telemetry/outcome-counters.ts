import type { Registry } from 'prom-client'
import { BoundCounter, BoundGauge, CounterChild } from './bound-metrics.ts'

/**
 * A counter per outcome of one thing (a guard, a limiter), for hot paths: `count('accepted')` is
 * a property read and an addition. Until {@link bind} is called the counts go to children no
 * registry renders, so a guard used outside an app costs the same and reports nothing. `bind`
 * creates every outcome's series at once, so each shows 0 before its first event (a rate of 0 is
 * an answer; a missing series is a question).
 *
 * @example
 * ```ts
 * const outcomes = new OutcomeCounters(['allowed', 'limited'] as const)
 * outcomes.bind(boundCounter(registry, { name: 'x_total', help: '…', labelNames: ['limiter', 'outcome'] }), ['api'])
 * outcomes.count('allowed')
 * ```
 */
export class OutcomeCounters<O extends string> {
  readonly outcomes: readonly O[]
  #children: Record<O, CounterChild>

  constructor(outcomes: readonly O[]) {
    this.outcomes = outcomes
    this.#children = childrenOf(outcomes, () => new CounterChild())
  }

  /**
   * Counts into `metric` from now on, with `labels` followed by the outcome as label values.
   * A later call moves the counting to the new metric (the last app a guard was attached to).
   */
  bind(metric: BoundCounter, labels: readonly string[]): void {
    this.#children = childrenOf(this.outcomes, (outcome) => metric.labels(...labels, outcome))
  }

  /** Adds one to `outcome`. */
  count(outcome: O): void {
    this.#children[outcome].inc()
  }

  /** The current count of `outcome` (what the bound series shows). */
  value(outcome: O): number {
    return this.#children[outcome].value
  }
}

function childrenOf<O extends string>(outcomes: readonly O[], make: (outcome: O) => CounterChild) {
  // A plain object, not Object.create(null): V8 keeps those in dictionary mode, and this one is
  // read on every request. The keys are our own closed set, never the request's.
  const children = {} as Record<O, CounterChild>
  for (const outcome of outcomes) children[outcome] = make(outcome)
  return children
}

/** What {@link boundCounter} and {@link boundGauge} register. */
export interface BoundMetricSpec {
  name: string
  help: string
  labelNames: readonly string[]
}

/**
 * The bound counter named `spec.name` on `registry`, registered on first use. A metric of that
 * name already there (a second copy of Keel in the process, which has its own memo) is reused,
 * rather than failing on a duplicate name.
 */
export function boundCounter(registry: Registry, spec: BoundMetricSpec): BoundCounter {
  return (
    (registry.getSingleMetric(spec.name) as BoundCounter | undefined) ??
    new BoundCounter({ ...spec, registry })
  )
}

/** The bound gauge named `spec.name` on `registry`, registered on first use (see {@link boundCounter}). */
export function boundGauge(registry: Registry, spec: BoundMetricSpec): BoundGauge {
  return (
    (registry.getSingleMetric(spec.name) as BoundGauge | undefined) ?? new BoundGauge({ ...spec, registry })
  )
}
