import {
  bulkhead,
  circuitBreaker,
  type Policy,
  type PolicyContext,
  retry,
  timeout,
  wrap,
} from 'keel/resilience'
import { describe, expect, it, vi } from 'vitest'
import { FakeClock, settle } from './fake-clock.ts'

/** A policy that logs when a call enters and leaves it. */
function recording(name: string, log: string[]): Policy {
  return {
    name,
    async execute<T>(fn: (ctx: PolicyContext) => T | Promise<T>, signal?: AbortSignal) {
      log.push(`${name} in`)
      try {
        return await fn({ attempt: 1, signal: signal ?? new AbortController().signal })
      } finally {
        log.push(`${name} out`)
      }
    },
  }
}

describe('wrap()', () => {
  it('runs the first policy outermost and the function innermost', async () => {
    const log: string[] = []
    const policy = wrap(recording('a', log), recording('b', log), recording('c', log))
    expect(policy.name).toBe('a > b > c')
    await policy.execute(() => {
      log.push('fn')
    })
    expect(log).toEqual(['a in', 'b in', 'c in', 'fn', 'c out', 'b out', 'a out'])
  })

  it('with no policies runs the function as it is', async () => {
    expect(await wrap().execute(({ attempt }) => attempt)).toBe(1)
  })

  it('refuses an argument that is not a policy, naming its position', () => {
    expect(() => wrap(retry(), {} as Policy)).toThrow('wrap: argument 2 is not a policy')
  })

  it('retry around timeout: each attempt gets its own deadline and sees its attempt number', async () => {
    const deadlines = new FakeClock('manual')
    const policy = wrap(retry({ maxAttempts: 3, clock: new FakeClock() }), timeout(100, { clock: deadlines }))
    const seen: Array<{ attempt: number; signal: AbortSignal }> = []
    const call = policy.execute((ctx) => {
      seen.push(ctx)
      return ctx.attempt < 3 ? new Promise<string>(() => {}) : 'third time lucky'
    })
    await settle()
    await deadlines.advance(100)
    await deadlines.advance(100)
    expect(await call).toBe('third time lucky')
    expect(seen.map((ctx) => ctx.attempt)).toEqual([1, 2, 3])
    expect(seen.map((ctx) => ctx.signal.aborted)).toEqual([true, true, false])
    expect(deadlines.sleeps).toEqual([100, 100, 100])
  })

  it('retry around timeout: gives up with the timeout as cause and its 504 status', async () => {
    const deadlines = new FakeClock('manual')
    const policy = wrap(retry({ maxAttempts: 2, clock: new FakeClock() }), timeout(100, { clock: deadlines }))
    const call = policy.execute(() => new Promise(() => {})).catch((e: unknown) => e)
    await settle()
    await deadlines.advance(100)
    await deadlines.advance(100)
    expect(await call).toMatchObject({
      code: 'KEEL_RETRY_EXHAUSTED',
      status: 504,
      cause: { code: 'KEEL_POLICY_TIMEOUT' },
    })
  })

  it('timeout around retry: one deadline bounds every attempt and the waits between them', async () => {
    const clock = new FakeClock('manual')
    const policy = wrap(
      timeout(1_500, { clock }),
      retry({ maxAttempts: 10, initialDelayMs: 1_000, jitter: false, clock }),
    )
    const fn = vi.fn(() => {
      throw new Error('down')
    })
    const call = policy.execute(fn).catch((e: unknown) => e)
    await settle()
    await clock.advance(1_000) // first retry wait ends; attempt 2 fails; a 2 s wait starts
    expect(fn).toHaveBeenCalledTimes(2)
    await clock.advance(500) // the deadline
    expect(await call).toMatchObject({ code: 'KEEL_POLICY_TIMEOUT' })
    expect(clock.pending).toBe(0) // the retry wait was cancelled through the signal
    expect(fn).toHaveBeenCalledTimes(2)
  })

  it('retry around circuit breaker: once open, the breaker spares the dependency', async () => {
    const clock = new FakeClock()
    const policy = wrap(
      retry({ maxAttempts: 5, clock }),
      circuitBreaker({ halfOpenAfterMs: 60_000, breaker: { consecutive: 2 }, clock }),
    )
    const fn = vi.fn(() => {
      throw new Error('down')
    })
    const error = await policy.execute(fn).catch((e: unknown) => e)
    expect(fn).toHaveBeenCalledTimes(2)
    expect(error).toMatchObject({
      code: 'KEEL_RETRY_EXHAUSTED',
      status: 503,
      cause: { code: 'KEEL_CIRCUIT_OPEN' },
    })
  })

  it('keeps the attempt number of a retry through nested wraps', async () => {
    const policy = wrap(
      retry({ maxAttempts: 3, clock: new FakeClock() }),
      wrap(timeout(1_000), bulkhead({ concurrency: 1 })),
    )
    const attempts: number[] = []
    await policy.execute(({ attempt }) => {
      attempts.push(attempt)
      if (attempt < 3) throw new Error('again')
    })
    expect(attempts).toEqual([1, 2, 3])
  })

  it("hands the function a signal that aborts with the caller's", async () => {
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const call = wrap(bulkhead({ concurrency: 1 }), timeout(60_000))
      .execute(({ signal }) => {
        seen = signal
        return new Promise(() => {})
      }, controller.signal)
      .catch((e: unknown) => e)
    await settle()
    controller.abort(new Error('bye'))
    expect(await call).toEqual(new Error('bye'))
    expect(seen?.reason).toEqual(new Error('bye'))
  })
})
