import type { Registry } from 'prom-client'
import {
  type BoundCounter,
  boundCounter,
  boundGauge,
  CounterChild,
  OutcomeCounters,
  perRegistry,
} from '../telemetry/index.ts'

/**
 * Why an upgrade was refused: the `reason` label of `keel_ws_upgrades_refused_total`, from the
 * refusal's status. `unavailable` is a 503 (the app starting or shutting down, a JWKS or rate
 * limit store down); `client_error` and `error` are any other 4xx and 5xx.
 */
export type UpgradeRefusal =
  | 'not_found'
  | 'unauthorized'
  | 'forbidden'
  | 'rate_limited'
  | 'unavailable'
  | 'client_error'
  | 'error'

const refusals: readonly UpgradeRefusal[] = [
  'not_found',
  'unauthorized',
  'forbidden',
  'rate_limited',
  'unavailable',
  'client_error',
  'error',
]

/** The refusal reason of an upgrade answered with `status`. */
export function upgradeRefusal(status: number): UpgradeRefusal {
  switch (status) {
    case 401:
      return 'unauthorized'
    case 403:
      return 'forbidden'
    case 404:
      return 'not_found'
    case 429:
      return 'rate_limited'
    case 503:
      return 'unavailable'
    default:
      return status >= 500 ? 'error' : 'client_error'
  }
}

/** The series of one WebSocket route, bound when the route is added. */
export interface WebSocketRouteMetrics {
  /** `keel_ws_connections_open{route}`: +1 on accept, -1 on close. */
  readonly open: CounterChild
  /** `keel_ws_messages_received_total{route}`. */
  readonly received: CounterChild
  /** `keel_ws_messages_sent_total{route}`: every `send` on an open socket, broadcasts included. */
  readonly sent: CounterChild
  /** `keel_ws_upgrades_refused_total{route,reason}`. */
  readonly refused: OutcomeCounters<UpgradeRefusal>
}

interface WebSocketMetricSet {
  readonly open: BoundCounter
  readonly received: BoundCounter
  readonly sent: BoundCounter
  readonly refused: BoundCounter
}

const metricSet: (registry: Registry) => WebSocketMetricSet = perRegistry((registry) => ({
  open: boundGauge(registry, {
    name: 'keel_ws_connections_open',
    help: 'WebSocket connections open now, by route template',
    labelNames: ['route'],
  }),
  received: boundCounter(registry, {
    name: 'keel_ws_messages_received_total',
    help: 'WebSocket messages received, by route template',
    labelNames: ['route'],
  }),
  sent: boundCounter(registry, {
    name: 'keel_ws_messages_sent_total',
    help: 'WebSocket messages sent, by route template',
    labelNames: ['route'],
  }),
  refused: boundCounter(registry, {
    name: 'keel_ws_upgrades_refused_total',
    help: 'WebSocket upgrade requests refused, by route template (not_found when none matched) and reason',
    labelNames: ['route', 'reason'],
  }),
}))

/**
 * The series of WebSocket route `route` on `registry`, every one at 0 from the start; without a
 * registry, children no registry renders. An unmatched path counts under route `not_found`,
 * as `keel_http_requests_total` does.
 */
export function webSocketRouteMetrics(registry: Registry | undefined, route: string): WebSocketRouteMetrics {
  const reasons = route === NOT_FOUND_ROUTE ? (['not_found'] as const) : refusals
  const refused = new OutcomeCounters<UpgradeRefusal>(reasons)
  if (!registry)
    return { open: new CounterChild(), received: new CounterChild(), sent: new CounterChild(), refused }
  const metrics = metricSet(registry)
  refused.bind(metrics.refused, [route])
  return {
    open: metrics.open.labels(route),
    received: metrics.received.labels(route),
    sent: metrics.sent.labels(route),
    refused,
  }
}

/** The `route` label of upgrades for paths no WebSocket route matches. */
export const NOT_FOUND_ROUTE = 'not_found'
