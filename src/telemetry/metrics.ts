import { collectDefaultMetrics, Registry } from 'prom-client'
import {
  BoundCounter,
  BoundHistogram,
  type CounterChild,
  type HistogramChild,
  UnlabelledGauge,
} from './bound-metrics.ts'

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
  /**
   * The recorder for one method and route template: what {@link observe} does without building
   * and looking up a label key per request. The server binds one per route and keeps it.
   */
  route(method: string, route: string): RouteRecorder
  /** Requests being handled now. */
  readonly inFlight: { inc(): void; dec(): void }
}

/** Records the finished requests of one method and route template. */
export interface RouteRecorder {
  observe(status: number, seconds: number): void
}

/** The series of one method, route and status: bound once, then updated with arithmetic. */
interface StatusChildren {
  requests: CounterChild
  duration: HistogramChild
  errors: CounterChild | undefined
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
  const inFlight = new UnlabelledGauge({
    name: 'keel_http_requests_in_flight',
    help: 'HTTP requests being handled now',
    registry,
  })
  const bind = (method: string, route: string): RouteRecorder => {
    // By status: a route answers with a handful of them, so a small map of ints.
    const byStatus = new Map<number, StatusChildren>()
    return {
      observe(status, seconds) {
        let child = byStatus.get(status)
        if (!child) {
          const labels = [method, route, String(status)]
          child = {
            requests: requests.labels(...labels),
            duration: duration.labels(...labels),
            errors: status >= 500 ? errors.labels(...labels) : undefined,
          }
          byStatus.set(status, child)
        }
        child.requests.inc()
        child.duration.observe(seconds)
        child.errors?.inc()
      },
    }
  }
  const recorders = new Map<string, RouteRecorder>()
  const route = (method: string, template: string): RouteRecorder => {
    const key = `${method} ${template}`
    let recorder = recorders.get(key)
    if (!recorder) {
      recorder = bind(method, template)
      recorders.set(key, recorder)
    }
    return recorder
  }
  return {
    inFlight,
    route,
    observe(method, template, status, seconds) {
      route(method, template).observe(status, seconds)
    },
  }
}
