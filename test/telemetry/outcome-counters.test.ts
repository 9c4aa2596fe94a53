import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { boundCounter, boundGauge, OutcomeCounters } from '../../src/telemetry/index.ts'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'

const spec = { name: 'things_total', help: 'Things by outcome', labelNames: ['thing', 'outcome'] }

describe('OutcomeCounters', () => {
  it('counts nowhere visible until bound, then renders every outcome, unused ones at 0', async () => {
    const registry = new Registry()
    const counters = new OutcomeCounters(['ok', 'failed', 'skipped'] as const)
    counters.count('ok')
    expect(counters.value('ok')).toBe(1)
    expect(await registry.metrics()).toBe('\n')
    counters.bind(boundCounter(registry, spec), ['widget'])
    counters.count('failed')
    counters.count('failed')
    const samples = parsePrometheusText(await registry.metrics())
    expect(
      findSamples(samples, 'things_total').map((s) => [s.labels.outcome, s.labels.thing, s.value]),
    ).toEqual([
      ['ok', 'widget', 0],
      ['failed', 'widget', 2],
      ['skipped', 'widget', 0],
    ])
  })

  it('moves its counting to the registry it was bound to last', async () => {
    const [first, second] = [new Registry(), new Registry()]
    const counters = new OutcomeCounters(['ok'] as const)
    counters.bind(boundCounter(first, spec), ['a'])
    counters.count('ok')
    counters.bind(boundCounter(second, spec), ['a'])
    counters.count('ok')
    counters.count('ok')
    expect(await first.metrics()).toContain('things_total{thing="a",outcome="ok"} 1')
    expect(await second.metrics()).toContain('things_total{thing="a",outcome="ok"} 2')
  })

  it('shares one series between counters bound with the same labels', async () => {
    const registry = new Registry()
    const [a, b] = [new OutcomeCounters(['ok'] as const), new OutcomeCounters(['ok'] as const)]
    a.bind(boundCounter(registry, spec), ['same'])
    b.bind(boundCounter(registry, spec), ['same'])
    a.count('ok')
    b.count('ok')
    expect(await registry.metrics()).toContain('things_total{thing="same",outcome="ok"} 2')
  })
})

describe('boundCounter and boundGauge', () => {
  it('reuse a metric of the same name already on the registry instead of failing', () => {
    const registry = new Registry()
    expect(boundCounter(registry, spec)).toBe(boundCounter(registry, spec))
    const gaugeSpec = { name: 'open_things', help: 'Open things', labelNames: ['thing'] }
    expect(boundGauge(registry, gaugeSpec)).toBe(boundGauge(registry, gaugeSpec))
  })

  it('render a gauge that went up and down as a gauge', async () => {
    const registry = new Registry()
    const open = boundGauge(registry, { name: 'open_things', help: 'Open things', labelNames: ['thing'] })
    const child = open.labels('door')
    child.inc()
    child.inc()
    child.inc(-1)
    const text = await registry.metrics()
    expect(text).toContain('# TYPE open_things gauge')
    expect(text).toContain('open_things{thing="door"} 1')
  })
})
