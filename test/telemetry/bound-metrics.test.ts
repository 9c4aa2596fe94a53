import { Counter, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { BoundCounter, BoundGauge, BoundHistogram } from '../../src/telemetry/index.ts'

describe('bound metrics', () => {
  it('render counters, gauges and cumulative histogram buckets in the Prometheus text format', async () => {
    const registry = new Registry()
    const steps = new BoundCounter({
      name: 'x_steps_total',
      help: 'steps',
      labelNames: ['flow', 'outcome'],
      registry,
    })
    const active = new BoundGauge({ name: 'x_active', help: 'active', labelNames: ['flow'], registry })
    const seconds = new BoundHistogram({
      name: 'x_seconds',
      help: 'seconds',
      labelNames: ['flow'],
      buckets: [1, 0.1],
      registry,
    })
    const ok = steps.labels('order', 'ok')
    ok.inc()
    ok.inc(2)
    steps.labels('order', 'failed').inc()
    active.labels('order').inc()
    active.labels('order').inc(-1)
    active.labels('refund').inc()
    const h = seconds.labels('order')
    for (const v of [0.05, 0.5, 0.5, 3]) h.observe(v)

    const text = await registry.metrics()
    expect(text).toContain('# TYPE x_steps_total counter')
    expect(text).toContain('x_steps_total{flow="order",outcome="ok"} 3')
    expect(text).toContain('x_steps_total{flow="order",outcome="failed"} 1')
    expect(text).toContain('# TYPE x_active gauge')
    expect(text).toContain('x_active{flow="order"} 0')
    expect(text).toContain('x_active{flow="refund"} 1')
    expect(text).toContain('# TYPE x_seconds histogram')
    expect(text).toContain('x_seconds_bucket{flow="order",le="0.1"} 1')
    expect(text).toContain('x_seconds_bucket{flow="order",le="1"} 3')
    expect(text).toContain('x_seconds_bucket{flow="order",le="+Inf"} 4')
    expect(text).toContain('x_seconds_sum{flow="order"} 4.05')
    expect(text).toContain('x_seconds_count{flow="order"} 4')
  })

  it('binds one child per label set and sits beside prom-client metrics on one registry', async () => {
    const registry = new Registry()
    registry.setDefaultLabels({ service: 'svc' })
    const bound = new BoundCounter({ name: 'y_total', help: 'y', labelNames: ['k'], registry })
    const plain = new Counter({ name: 'z_total', help: 'z', registers: [registry] })
    expect(bound.labels('a')).toBe(bound.labels('a'))
    expect(bound.labels('a')).not.toBe(bound.labels('b'))
    bound.labels('a').inc()
    plain.inc()
    const json = await registry.getMetricsAsJSON()
    expect(json.map((m) => m.name).sort()).toEqual(['y_total', 'z_total'])
    expect(await registry.metrics()).toContain('y_total{k="a",service="svc"} 1')
    registry.resetMetrics()
    expect(await registry.metrics()).not.toContain('y_total{k="a"')
  })

  it('refuses a second metric with the same name on a registry', () => {
    const registry = new Registry()
    new BoundCounter({ name: 'dup_total', help: 'd', labelNames: [], registry })
    expect(() => new BoundCounter({ name: 'dup_total', help: 'd', labelNames: [], registry })).toThrow(
      /already/,
    )
  })
})
