import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import { BoundCounter, BoundHistogram, type CounterChild, type HistogramChild } from './bound-metrics.ts'

/** Buckets for request latency in seconds: 1 ms to 10 s, dense where web latencies live. */
export const httpDurationBuckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * prom-client's default metrics include gauges named `*_total`, which Prometheus reserves for
 * counters (`promtool check metrics` rejects them). Each is the sum of a per-type gauge that stays
 * (`nodejs_active_handles{type}` …), so `sum(nodejs_active_handles)` gives the same number.
 */
const misnamedDefaultMetrics = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

/** The metrics every app has, on a registry of its own (no global state). */
export interface KeelMetrics {
  readonly registry: Registry
  readonly http: HttpMetrics
  /** The Prometheus text exposition of everything in the registry. */
  render(): Promise<string>
  readonly contentType: string
}

/** Request/error/duration (RED) metrics for HTTP routes, labelled by route template. */
export interface HttpMetrics {
  /** Records one finished request. `route` is the template (`/users/:id`), never the raw path. */
  observe(method: string, route: string, status: number, seconds: number): void
  readonly inFlight: Gauge
}

/** Creates the app's registry with process/runtime defaults and the HTTP RED metrics. */
export function createMetrics(options: {
  defaultMetrics: boolean
  labels?: Record<string, string>
}): KeelMetrics {
  const registry = new Registry()
  if (options.labels) registry.setDefaultLabels(options.labels)
  if (options.defaultMetrics) {
    collectDefaultMetrics({ register: registry })
    for (const name of misnamedDefaultMetrics) registry.removeSingleMetric(name)
  }
  return {
    registry,
    http: createHttpMetrics(registry),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  }
}

function createHttpMetrics(registry: Registry): HttpMetrics {
  const labelNames = ['method', 'route', 'status'] as const
  // Bound metrics (bound-metrics.ts): prom-client hashes the label set inside every inc and
  // observe, even on a bound child, which cost about 2% of a request under load.
  const requests = new BoundCounter({
    name: 'keel_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames,
    registry,
  })
  const errors = new BoundCounter({
    name: 'keel_http_errors_total',
    help: 'HTTP requests answered with a 5xx status',
    labelNames,
    registry,
  })
  const duration = new BoundHistogram({
    name: 'keel_http_request_duration_seconds',
    help: 'HTTP request duration from first byte read to response finished',
    labelNames,
    buckets: httpDurationBuckets,
    registry,
  })
  const inFlight = new Gauge({
    name: 'keel_http_requests_in_flight',
    help: 'HTTP requests being handled now',
    registers: [registry],
  })
  const children = new Map<
    string,
    { requests: CounterChild; duration: HistogramChild; errors?: CounterChild }
  >()
  return {
    inFlight,
    observe(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`
      let child = children.get(key)
      if (!child) {
        const labels = [method, route, String(status)]
        child = {
          requests: requests.labels(...labels),
          duration: duration.labels(...labels),
          errors: status >= 500 ? errors.labels(...labels) : undefined,
        }
        children.set(key, child)
      }
      child.requests.inc()
      child.duration.observe(seconds)
      child.errors?.inc()
    },
  }
}
