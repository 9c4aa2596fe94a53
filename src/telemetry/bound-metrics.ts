import type { Registry } from 'prom-client'

/**
 * Counters and histograms for hot paths, registered on a prom-client Registry like any metric.
 *
 * prom-client hashes the label set on every `inc`/`observe`, even through a bound child: about
 * 1-2 µs a call, which is more than a flow step itself costs. Here a child is bound once per
 * label set and updating it is plain arithmetic on its own fields; the label sets are only
 * walked when the registry renders (a scrape). What prom-client does not need to know about
 * (exemplars, pushgateway aggregation) is left out.
 */
interface MetricValue {
  labels: Record<string, string | number>
  value: number
  metricName?: string
}

abstract class BoundMetric<Child> {
  readonly name: string
  readonly help: string
  abstract readonly type: 'counter' | 'gauge' | 'histogram'
  /** prom-client's cluster aggregation rule, for `AggregatorRegistry`. */
  readonly aggregator = 'sum'
  protected readonly labelNames: readonly string[]
  protected readonly children = new Map<string, { labels: Record<string, string>; child: Child }>()

  constructor(options: { name: string; help: string; labelNames: readonly string[]; registry: Registry }) {
    this.name = options.name
    this.help = options.help
    this.labelNames = options.labelNames
    options.registry.registerMetric(this as never)
  }

  /** The child for these label values (in `labelNames` order); bind it once and keep it. */
  labels(...values: string[]): Child {
    const key = values.join('\u0000')
    let entry = this.children.get(key)
    if (!entry) {
      const labels: Record<string, string> = {}
      this.labelNames.forEach((name, i) => {
        labels[name] = values[i] ?? ''
      })
      entry = { labels, child: this.create() }
      this.children.set(key, entry)
    }
    return entry.child
  }

  protected abstract create(): Child
  abstract get(): Promise<{
    name: string
    help: string
    type: string
    values: MetricValue[]
    aggregator: string
  }>

  /** Called by `registry.resetMetrics()`. */
  reset(): void {
    this.children.clear()
  }
}

/** A bound counter child: `inc()` is one addition. */
export class CounterChild {
  value = 0
  inc(by = 1): void {
    this.value += by
  }
}

/** A counter with label sets bound ahead of time. */
export class BoundCounter extends BoundMetric<CounterChild> {
  readonly type: 'counter' | 'gauge' = 'counter'

  protected create(): CounterChild {
    return new CounterChild()
  }

  async get() {
    const values: MetricValue[] = []
    for (const { labels, child } of this.children.values()) values.push({ labels, value: child.value })
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}

/** A gauge with label sets bound ahead of time: a counter that may go down (`inc(-1)`). */
export class BoundGauge extends BoundCounter {
  override readonly type = 'gauge'
}

/**
 * A gauge read when the registry renders: each label set reports the sum of the readers added
 * to it (`keel_db_pool_connections`: every pool of a driver). Nothing is written on a hot path.
 */
export class SampledGauge extends BoundMetric<Set<() => number>> {
  readonly type = 'gauge'

  protected create(): Set<() => number> {
    return new Set()
  }

  async get() {
    const values: MetricValue[] = []
    for (const { labels, child } of this.children.values()) {
      let value = 0
      for (const read of child) value += read()
      values.push({ labels, value })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }

  /** `registry.resetMetrics()` keeps the readers: what they read is not the registry's to reset. */
  override reset(): void {}
}

/**
 * A gauge without labels (`keel_http_requests_in_flight`): `inc()` and `dec()` are one addition.
 * prom-client's `Gauge` hashes its (empty) label set on every call.
 */
export class UnlabelledGauge {
  readonly name: string
  readonly help: string
  readonly type = 'gauge'
  readonly aggregator = 'sum'
  value = 0

  constructor(options: { name: string; help: string; registry: Registry }) {
    this.name = options.name
    this.help = options.help
    options.registry.registerMetric(this as never)
  }

  inc(by = 1): void {
    this.value += by
  }

  dec(by = 1): void {
    this.value -= by
  }

  async get() {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: [{ labels: {}, value: this.value }] as MetricValue[],
      aggregator: this.aggregator,
    }
  }

  /** Called by `registry.resetMetrics()`, as prom-client's gauge: back to 0. */
  reset(): void {
    this.value = 0
  }
}

/** A bound histogram child: `observe()` finds the bucket and adds. */
export class HistogramChild {
  readonly counts: number[]
  sum = 0
  count = 0
  readonly #upper: readonly number[]

  constructor(upper: readonly number[]) {
    this.#upper = upper
    this.counts = new Array<number>(upper.length).fill(0)
  }

  observe(value: number): void {
    this.sum += value
    this.count++
    const upper = this.#upper
    for (let i = 0; i < upper.length; i++) {
      if (value <= upper[i]!) {
        this.counts[i]!++
        return
      }
    }
  }
}

/** A histogram with label sets bound ahead of time; buckets are cumulative when rendered. */
export class BoundHistogram extends BoundMetric<HistogramChild> {
  readonly type = 'histogram' as const
  readonly #buckets: readonly number[]

  constructor(options: {
    name: string
    help: string
    labelNames: readonly string[]
    buckets: readonly number[]
    registry: Registry
  }) {
    super(options)
    this.#buckets = [...options.buckets].sort((a, b) => a - b)
  }

  protected create(): HistogramChild {
    return new HistogramChild(this.#buckets)
  }

  async get() {
    const values: MetricValue[] = []
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0
      this.#buckets.forEach((le, i) => {
        cumulative += child.counts[i]!
        values.push({ labels: { ...labels, le }, value: cumulative, metricName: `${this.name}_bucket` })
      })
      values.push({
        labels: { ...labels, le: '+Inf' },
        value: child.count,
        metricName: `${this.name}_bucket`,
      })
      values.push({ labels, value: child.sum, metricName: `${this.name}_sum` })
      values.push({ labels, value: child.count, metricName: `${this.name}_count` })
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator }
  }
}
