import { HealthRegistry } from 'keel/health'
import { describe, expect, it } from 'vitest'

const registry = (cacheMs = 0) => new HealthRegistry({ timeoutMs: 200, cacheMs })

describe('HealthRegistry', () => {
  it('passes when every check resolves, reporting each with its duration', async () => {
    const health = registry()
      .add({ name: 'a', check: () => {} })
      .add({ name: 'b', check: async () => true })
    const report = await health.run()
    expect(report.status).toBe('pass')
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['a', 'pass'],
      ['b', 'pass'],
    ])
    expect(report.checks[0]!.durationMs).toBeGreaterThanOrEqual(0)
  })

  it('fails when a critical check throws, and names its message', async () => {
    const health = registry().add({
      name: 'db',
      check: () => {
        throw new Error('connection refused')
      },
    })
    const report = await health.run()
    expect(report.status).toBe('fail')
    expect(report.checks[0]).toMatchObject({
      name: 'db',
      status: 'fail',
      critical: true,
      message: 'connection refused',
    })
  })

  it('only warns when a non-critical check fails', async () => {
    const health = registry()
      .add({ name: 'cache', critical: false, check: () => false })
      .add({ name: 'db', check: () => {} })
    const report = await health.run()
    expect(report.status).toBe('warn')
    expect(report.checks.find((c) => c.name === 'cache')).toMatchObject({
      status: 'fail',
      message: 'check returned false',
    })
  })

  it('reads detail objects: ok, message and details', async () => {
    const health = registry().add({
      name: 'queue',
      check: () => ({ ok: false, message: 'backlog', details: { depth: 9 } }),
    })
    const [result] = (await health.run()).checks
    expect(result).toMatchObject({ status: 'fail', message: 'backlog', details: { depth: 9 } })
  })

  it('fails a check that exceeds its timeout and aborts its signal', async () => {
    let aborted = false
    const health = registry().add({
      name: 'slow',
      timeoutMs: 30,
      check: (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => {
            aborted = true
          })
          setTimeout(resolve, 1000).unref()
        }),
    })
    const [result] = (await health.run()).checks
    expect(result).toMatchObject({ status: 'fail', message: 'timed out after 30 ms' })
    expect(aborted).toBe(true)
  })

  it('reuses a result within cacheMs and shares one run between concurrent callers', async () => {
    let calls = 0
    const health = registry(10_000).add({
      name: 'counted',
      check: async () => {
        calls++
        await new Promise((r) => setTimeout(r, 10))
      },
    })
    await Promise.all(Array.from({ length: 20 }, () => health.run()))
    await health.run()
    expect(calls).toBe(1)
  })

  it('runs again once the cached result expires', async () => {
    let calls = 0
    const health = registry(0).add({ name: 'counted', check: () => void calls++ })
    await health.run()
    await new Promise((r) => setTimeout(r, 2))
    await health.run()
    expect(calls).toBe(2)
  })

  it('rejects a duplicate name and a check without a function', () => {
    const health = registry().add({ name: 'db', check: () => {} })
    expect(() => health.add({ name: 'db', check: () => {} })).toThrow(/already registered/)
    expect(() => health.add({ name: 'x' } as never)).toThrow(/needs a name and a check function/)
  })

  it('reports each real run to onResult, not cached ones', async () => {
    const seen: string[] = []
    const health = new HealthRegistry({
      timeoutMs: 100,
      cacheMs: 10_000,
      onResult: (r) => seen.push(`${r.name}:${r.status}`),
    })
    health.add({ name: 'db', check: () => false })
    await health.run()
    await health.run()
    expect(seen).toEqual(['db:fail'])
  })
})
