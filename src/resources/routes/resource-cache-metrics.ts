import type { Registry } from 'prom-client'
import { BoundCounter, type CounterChild, perRegistry } from '../../telemetry/index.ts'

/** The counters of one resource's cache, bound once. */
export interface ResourceCacheCounters {
  readonly hit: CounterChild
  readonly miss: CounterChild
  /** A cache operation (lookup, store or invalidation) failed. */
  readonly error: CounterChild
}

/** `keel_resource_cache_total{resource,result}` on `registry`, shared by every serveResources call on it. */
export const resourceCacheMetrics: (registry: Registry) => (resource: string) => ResourceCacheCounters =
  perRegistry((registry) => {
    const total = new BoundCounter({
      name: 'keel_resource_cache_total',
      help: 'Resource answer cache lookups by result (hit, miss) and failed cache operations (error)',
      labelNames: ['resource', 'result'],
      registry,
    })
    return (resource) => ({
      hit: total.labels(resource, 'hit'),
      miss: total.labels(resource, 'miss'),
      error: total.labels(resource, 'error'),
    })
  })
