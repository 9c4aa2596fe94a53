import type { Registry } from 'prom-client'

/**
 * Memoizes a capability's metrics per registry: every user of one registry (two runners, two
 * databases, all policies) shares one set, so their series land in the same metrics instead of
 * failing on duplicate names.
 *
 * @example
 * ```ts
 * export const cacheMetrics = perRegistry((registry) => ({ hits: new Counter({ …, registers: [registry] }) }))
 * cacheMetrics(app.metrics.registry).hits.inc()
 * ```
 */
export function perRegistry<M>(create: (registry: Registry) => M): (registry: Registry) => M {
  const byRegistry = new WeakMap<Registry, M>()
  return (registry) => {
    let metrics = byRegistry.get(registry)
    if (!metrics) {
      metrics = create(registry)
      byRegistry.set(registry, metrics)
    }
    return metrics
  }
}
