import { bulkhead, circuitBreaker, resilienceMetrics, retry, timeout } from 'keel/resilience'
import { Counter, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { deferred, FakeClock, settle } from './fake-clock.ts'

/** The value of one series, read from the registry's text exposition. */
async function sampleValue(registry: Registry, name: string, labels: Record<string, string>) {
  const samples = parsePrometheusText(await registry.getSingleMetricAsString(name))
  const found = findSamples(samples, name, labels)
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1)
  return found[0]!.value
}

const failing = () => {
  throw new Error('down')
}

describe('resilience metrics', () => {
  it('retry counts retries, give-ups and calls by outcome', async () => {
    const registry = new Registry()
    const policy = retry({ name: 'geo', maxAttempts: 3, registry, clock: new FakeClock() })
    expect(await sampleValue(registry, 'keel_resilience_retries_total', { policy: 'geo' })).toBe(0)

    let calls = 0
    await policy.execute(() => {
      if (++calls < 3) throw new Error('flaky')
      return 'ok'
    })
    await policy.execute(failing).catch(() => {})

    expect(await sampleValue(registry, 'keel_resilience_retries_total', { policy: 'geo' })).toBe(4)
    expect(await sampleValue(registry, 'keel_resilience_gave_up_total', { policy: 'geo' })).toBe(1)
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'geo', outcome: 'success' }),
    ).toBe(1)
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'geo', outcome: 'exhausted' }),
    ).toBe(1)
  })

  it('timeout counts the calls it cut off', async () => {
    const registry = new Registry()
    const clock = new FakeClock('manual')
    const policy = timeout(100, { name: 'inventory', registry, clock })
    await policy.execute(() => 'fast')
    const slow = policy.execute(() => new Promise(() => {})).catch(() => {})
    await settle()
    await clock.advance(100)
    await slow
    expect(await sampleValue(registry, 'keel_resilience_timeouts_total', { policy: 'inventory' })).toBe(1)
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'inventory', outcome: 'timeout' }),
    ).toBe(1)
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'inventory', outcome: 'success' }),
    ).toBe(1)
  })

  it('circuit breaker reports its state, its transitions and the calls it refused', async () => {
    const registry = new Registry()
    const clock = new FakeClock()
    const policy = circuitBreaker({
      name: 'payments',
      registry,
      clock,
      halfOpenAfterMs: 1_000,
      breaker: { consecutive: 2 },
    })
    const state = () => sampleValue(registry, 'keel_circuit_state', { policy: 'payments' })
    expect(await state()).toBe(0)

    await policy.execute(failing).catch(() => {})
    await policy.execute(failing).catch(() => {})
    expect(await state()).toBe(2)
    await policy.execute(() => 'refused').catch(() => {})
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'payments', outcome: 'rejected' }),
    ).toBe(1)
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'payments', outcome: 'failure' }),
    ).toBe(2)

    await clock.advance(1_000)
    const probe = deferred()
    const probing = policy.execute(() => probe.promise)
    expect(await state()).toBe(1)
    probe.resolve()
    await probing
    expect(await state()).toBe(0)

    const release = policy.isolate()
    expect(await state()).toBe(3)
    release()
    for (const [to, count] of [
      ['open', 1],
      ['half-open', 1],
      ['closed', 2],
      ['isolated', 1],
    ] as const) {
      expect(await sampleValue(registry, 'keel_circuit_transitions_total', { policy: 'payments', to })).toBe(
        count,
      )
    }
  })

  it('bulkhead reports running and waiting calls and the calls it refused', async () => {
    const registry = new Registry()
    const policy = bulkhead({ name: 'reports', registry, concurrency: 1, queue: 1 })
    const gate = deferred()
    const running = policy.execute(() => gate.promise)
    const waiting = policy.execute(() => 'queued')
    await policy.execute(() => 'refused').catch(() => {})
    expect(await sampleValue(registry, 'keel_bulkhead_active', { policy: 'reports' })).toBe(1)
    expect(await sampleValue(registry, 'keel_bulkhead_queued', { policy: 'reports' })).toBe(1)
    expect(await sampleValue(registry, 'keel_bulkhead_rejected_total', { policy: 'reports' })).toBe(1)
    gate.resolve()
    await Promise.all([running, waiting])
    expect(await sampleValue(registry, 'keel_bulkhead_active', { policy: 'reports' })).toBe(0)
    expect(await sampleValue(registry, 'keel_bulkhead_queued', { policy: 'reports' })).toBe(0)
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'reports', outcome: 'success' }),
    ).toBe(2)
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'reports', outcome: 'rejected' }),
    ).toBe(1)
  })

  it('counts calls the caller aborted', async () => {
    const registry = new Registry()
    const policy = retry({ name: 'geo', registry })
    await policy.execute(() => 'never', AbortSignal.abort()).catch(() => {})
    expect(
      await sampleValue(registry, 'keel_resilience_calls_total', { policy: 'geo', outcome: 'aborted' }),
    ).toBe(1)
  })

  it('keeps one set of metrics per registry, shared by every policy on it', async () => {
    const registry = new Registry()
    expect(resilienceMetrics(registry)).toBe(resilienceMetrics(registry))
    expect(resilienceMetrics(new Registry())).not.toBe(resilienceMetrics(registry))
    retry({ name: 'a', registry })
    retry({ name: 'b', registry })
    timeout(10, { name: 'c', registry })
    const json = await registry.getMetricsAsJSON()
    const retries = json.find((metric) => metric.name === 'keel_resilience_retries_total')
    expect(retries?.values.map((v) => v.labels.policy)).toEqual(['a', 'b'])
    expect(json.filter((metric) => metric.name === 'keel_resilience_timeouts_total')).toHaveLength(1)
  })

  it('reuses a metric another copy of Keel already registered on the registry', async () => {
    const registry = new Registry()
    const existing = new Counter({
      name: 'keel_resilience_retries_total',
      help: 'registered by another copy',
      labelNames: ['policy'],
      registers: [registry],
    })
    const policy = retry({ name: 'geo', registry, clock: new FakeClock() })
    let calls = 0
    await policy.execute(() => {
      if (++calls < 2) throw new Error('flaky')
    })
    expect((await existing.get()).values).toEqual([
      expect.objectContaining({ labels: { policy: 'geo' }, value: 1 }),
    ])
  })

  it('creates no metrics for policies without a registry', async () => {
    const registry = new Registry()
    await retry().execute(() => 'ok')
    expect(await registry.getMetricsAsJSON()).toEqual([])
  })
})
