import type { Registry } from 'prom-client'
import { boundCounter, boundGauge, type CounterChild, perRegistry } from '../telemetry/index.ts'

/** The series of one route's SSE streams, bound once per route. */
export interface SseRouteMetrics {
  /** `keel_sse_streams_open{route}`: +1 when a stream opens, -1 when it closes. */
  readonly open: CounterChild
  /** `keel_sse_events_sent_total{route}`: events handed to the socket (heartbeats and comments excluded). */
  readonly events: CounterChild
}

/** The SSE metrics of one registry. */
export interface SseMetrics {
  /** The series of `route` (a template), bound on first use. */
  forRoute(route: string): SseRouteMetrics
}

/**
 * The SSE metrics on `registry`, created on first use. Series appear with a route's first stream:
 * any route may turn its response into a stream, so they cannot be listed ahead.
 */
export const sseMetrics: (registry: Registry) => SseMetrics = perRegistry((registry) => {
  const open = boundGauge(registry, {
    name: 'keel_sse_streams_open',
    help: 'Server-Sent Events streams open now, by route template',
    labelNames: ['route'],
  })
  const events = boundCounter(registry, {
    name: 'keel_sse_events_sent_total',
    help: 'Server-Sent Events sent, by route template (heartbeats and comments excluded)',
    labelNames: ['route'],
  })
  const byRoute = new Map<string, SseRouteMetrics>()
  return {
    forRoute(route) {
      let metrics = byRoute.get(route)
      if (!metrics) {
        metrics = { open: open.labels(route), events: events.labels(route) }
        byRoute.set(route, metrics)
      }
      return metrics
    },
  }
})
