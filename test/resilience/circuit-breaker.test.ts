import { isKeelError, KeelError } from 'keel/errors'
import { type CircuitStateChange, circuitBreaker } from 'keel/resilience'
import { describe, expect, it, vi } from 'vitest'
import { deferred, FakeClock, settle } from './fake-clock.ts'

const fail =
  (message = 'upstream 502') =>
  () => {
    throw new Error(message)
  }
const succeed = () => 'ok'

/** Runs `fn` and returns what it resolved or rejected with, for asserting on. */
const outcome = (promise: Promise<unknown>) =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )

function consecutiveBreaker(consecutive = 3, halfOpenAfterMs = 1_000) {
  const clock = new FakeClock()
  const policy = circuitBreaker({ name: 'payments', clock, halfOpenAfterMs, breaker: { consecutive } })
  const changes: CircuitStateChange[] = []
  policy.onStateChange((change) => changes.push(change))
  return { clock, policy, changes }
}

describe('circuitBreaker() options', () => {
  const breaker = { consecutive: 3 }
  it.each([
    [{ breaker }, 'circuitBreaker.halfOpenAfterMs is required'],
    [
      { breaker, halfOpenAfterMs: -1 },
      'circuitBreaker.halfOpenAfterMs must be a finite number of milliseconds >= 0 (got -1)',
    ],
    [{ halfOpenAfterMs: 1000 }, 'circuitBreaker.breaker is required'],
    [
      { halfOpenAfterMs: 1000, breaker: { consecutive: 0 } },
      'circuitBreaker.breaker.consecutive must be an integer >= 1 (got 0)',
    ],
    [
      { halfOpenAfterMs: 1000, breaker: { consecutive: 3, ratio: 0.5 } },
      'circuitBreaker.breaker: unknown option "ratio" (known: consecutive)',
    ],
    [
      { halfOpenAfterMs: 1000, breaker: { ratio: 0, windowMs: 1000, minimumCalls: 5 } },
      'circuitBreaker.breaker.ratio must be a number greater than 0 and at most 1 (got 0)',
    ],
    [
      { halfOpenAfterMs: 1000, breaker: { ratio: 1.5, windowMs: 1000, minimumCalls: 5 } },
      'circuitBreaker.breaker.ratio must be a number greater than 0 and at most 1 (got 1.5)',
    ],
    [
      { halfOpenAfterMs: 1000, breaker: { ratio: 0.5, minimumCalls: 5 } },
      'circuitBreaker.breaker.windowMs is required',
    ],
    [
      { halfOpenAfterMs: 1000, breaker: { ratio: 0.5, windowMs: 1000, minimumCalls: 0 } },
      'circuitBreaker.breaker.minimumCalls must be an integer >= 1 (got 0)',
    ],
    [
      { halfOpenAfterMs: 1000, breaker: { threshold: 3 } },
      'circuitBreaker.breaker: unknown option "threshold"',
    ],
    [
      { halfOpenAfterMs: 1000, breaker: {} },
      'circuitBreaker.breaker must be { consecutive } or { ratio, windowMs, minimumCalls }',
    ],
    [
      { halfOpenAfterMs: 1000, breaker, isFailure: 'yes' },
      'circuitBreaker.isFailure must be a function (got "yes")',
    ],
    [{ halfOpenAfterMs: 1000, breaker, halfOpen: 5 }, 'circuitBreaker: unknown option "halfOpen"'],
  ])('refuses %j', (options, message) => {
    expect(() => circuitBreaker(options as never)).toThrow(RangeError)
    expect(() => circuitBreaker(options as never)).toThrow(message)
  })

  it('is named "circuit-breaker" unless given a name', () => {
    expect(circuitBreaker({ halfOpenAfterMs: 10, breaker }).name).toBe('circuit-breaker')
  })
})

describe('circuitBreaker() with a consecutive rule', () => {
  it('opens after `consecutive` failures in a row and then refuses calls with KEEL_CIRCUIT_OPEN', async () => {
    const { policy, changes } = consecutiveBreaker(3)
    for (const n of [1, 2, 3]) {
      expect(await outcome(policy.execute(fail(`failure ${n}`)))).toEqual({
        error: new Error(`failure ${n}`),
      })
    }
    expect(policy.state).toBe('open')
    expect(changes).toEqual([{ from: 'closed', to: 'open', error: new Error('failure 3') }])

    const fn = vi.fn()
    const { error } = (await outcome(policy.execute(fn))) as { error: KeelError }
    expect(fn).not.toHaveBeenCalled()
    expect(isKeelError(error)).toBe(true)
    expect(error).toMatchObject({ code: 'KEEL_CIRCUIT_OPEN', status: 503, cause: new Error('failure 3') })
    expect(error.message).toBe(
      'circuit breaker "payments" is open: it refuses calls until a probe, 1000 ms after it opened, succeeds',
    )
  })

  it('starts counting again after a success', async () => {
    const { policy } = consecutiveBreaker(3)
    await outcome(policy.execute(fail()))
    await outcome(policy.execute(fail()))
    await policy.execute(succeed)
    await outcome(policy.execute(fail()))
    await outcome(policy.execute(fail()))
    expect(policy.state).toBe('closed')
    await outcome(policy.execute(fail()))
    expect(policy.state).toBe('open')
  })

  it('lets one probe through after halfOpenAfterMs and closes when it succeeds', async () => {
    const { clock, policy, changes } = consecutiveBreaker(1, 1_000)
    await outcome(policy.execute(fail()))
    await clock.advance(999)
    expect(await outcome(policy.execute(succeed))).toMatchObject({ error: { code: 'KEEL_CIRCUIT_OPEN' } })
    await clock.advance(1)
    expect(await policy.execute(succeed)).toBe('ok')
    expect(policy.state).toBe('closed')
    expect(changes.map(({ from, to }) => `${from} -> ${to}`)).toEqual([
      'closed -> open',
      'open -> half-open',
      'half-open -> closed',
    ])
    expect(await policy.execute(succeed)).toBe('ok')
  })

  it('opens again for another full period when the probe fails', async () => {
    const { clock, policy, changes } = consecutiveBreaker(1, 1_000)
    await outcome(policy.execute(fail('first')))
    await clock.advance(1_000)
    expect(await outcome(policy.execute(fail('probe')))).toEqual({ error: new Error('probe') })
    expect(policy.state).toBe('open')
    expect(changes.slice(1)).toEqual([
      { from: 'open', to: 'half-open' },
      { from: 'half-open', to: 'open', error: new Error('probe') },
    ])
    await clock.advance(999)
    expect(await outcome(policy.execute(succeed))).toMatchObject({
      error: { code: 'KEEL_CIRCUIT_OPEN', cause: new Error('probe') },
    })
    await clock.advance(1)
    expect(await policy.execute(succeed)).toBe('ok')
  })

  it('holds calls that arrive during the probe until it answers', async () => {
    const { clock, policy } = consecutiveBreaker(1, 100)
    await outcome(policy.execute(fail()))
    await clock.advance(100)
    const probe = deferred<string>()
    const first = policy.execute(() => probe.promise)
    const second = vi.fn(() => 'second')
    const waiting = policy.execute(second)
    await settle()
    expect(policy.state).toBe('half-open')
    expect(second).not.toHaveBeenCalled()
    probe.resolve('probe')
    expect(await Promise.all([first, waiting])).toEqual(['probe', 'second'])
  })

  it('releases a call waiting for the probe when its signal aborts', async () => {
    const { clock, policy } = consecutiveBreaker(1, 100)
    await outcome(policy.execute(fail()))
    await clock.advance(100)
    const probe = deferred<string>()
    const first = policy.execute(() => probe.promise)
    const controller = new AbortController()
    const second = vi.fn()
    const waiting = outcome(policy.execute(second, controller.signal))
    await settle()
    controller.abort(new Error('client left'))
    expect(await waiting).toEqual({ error: new Error('client left') })
    probe.resolve('probe')
    await first
    await settle()
    expect(second).not.toHaveBeenCalled()
  })

  it('does not count errors isFailure rejects, which pass through unchanged', async () => {
    const clock = new FakeClock()
    const policy = circuitBreaker({
      clock,
      halfOpenAfterMs: 100,
      breaker: { consecutive: 1 },
      isFailure: (error) => !(error instanceof SyntaxError),
    })
    const bad = new SyntaxError('bad payload')
    await expect(
      policy.execute(() => {
        throw bad
      }),
    ).rejects.toBe(bad)
    expect(policy.state).toBe('closed')
  })

  it('by default does not count client errors (KeelError status < 500)', async () => {
    const { policy } = consecutiveBreaker(1)
    const notFound = new KeelError('KEEL_NOT_FOUND', 'no such card', { status: 404 })
    await expect(
      policy.execute(() => {
        throw notFound
      }),
    ).rejects.toBe(notFound)
    expect(policy.state).toBe('closed')
  })

  it('isolate() holds the circuit open until every release is called', async () => {
    const { policy, changes } = consecutiveBreaker(3)
    const releaseA = policy.isolate()
    const releaseB = policy.isolate()
    expect(policy.state).toBe('isolated')
    const { error } = (await outcome(policy.execute(succeed))) as { error: KeelError }
    expect(error).toMatchObject({ code: 'KEEL_CIRCUIT_OPEN', status: 503 })
    expect(error.message).toBe('circuit breaker "payments" is isolated: it refuses calls until released')
    releaseA()
    releaseA() // a second call of the same release does nothing
    expect(policy.state).toBe('isolated')
    releaseB()
    expect(policy.state).toBe('closed')
    expect(await policy.execute(succeed)).toBe('ok')
    expect(changes).toEqual([
      { from: 'closed', to: 'isolated' },
      { from: 'isolated', to: 'closed' },
    ])
  })

  it('stops telling a listener once it unsubscribed', async () => {
    const { policy } = consecutiveBreaker(1)
    const listener = vi.fn()
    policy.onStateChange(listener)()
    await outcome(policy.execute(fail()))
    expect(listener).not.toHaveBeenCalled()
  })

  it('on the system clock, probes after a real halfOpenAfterMs', async () => {
    // Long enough that a paused (loaded) test process does not reach half-open between the calls.
    const policy = circuitBreaker({ halfOpenAfterMs: 400, breaker: { consecutive: 1 } })
    await outcome(policy.execute(fail()))
    expect(await outcome(policy.execute(succeed))).toMatchObject({ error: { code: 'KEEL_CIRCUIT_OPEN' } })
    await new Promise((resolve) => setTimeout(resolve, 450))
    expect(await policy.execute(succeed)).toBe('ok')
    expect(policy.state).toBe('closed')
  })
})

describe('circuitBreaker() with a ratio rule', () => {
  function ratioBreaker() {
    const clock = new FakeClock()
    const policy = circuitBreaker({
      clock,
      halfOpenAfterMs: 5_000,
      breaker: { ratio: 0.5, windowMs: 10_000, minimumCalls: 4 },
    })
    return { clock, policy }
  }

  it('opens once the window holds minimumCalls calls and the failed share reaches the ratio', async () => {
    const { policy } = ratioBreaker()
    await outcome(policy.execute(fail()))
    await outcome(policy.execute(fail()))
    await outcome(policy.execute(fail()))
    expect(policy.state).toBe('closed') // 3 of 3 failed, but 3 calls are too few to judge
    await policy.execute(succeed)
    expect(policy.state).toBe('closed') // a success never opens
    await outcome(policy.execute(fail()))
    expect(policy.state).toBe('open') // 4 of 5 failed
  })

  it('stays closed while the failed share is below the ratio and opens when it reaches it', async () => {
    const { policy } = ratioBreaker()
    for (let i = 0; i < 4; i++) await policy.execute(succeed)
    for (let i = 0; i < 3; i++) await outcome(policy.execute(fail()))
    expect(policy.state).toBe('closed') // 3 of 7 failed
    await outcome(policy.execute(fail()))
    expect(policy.state).toBe('open') // 4 of 8: the ratio is reached
  })

  it('forgets calls older than windowMs', async () => {
    const { clock, policy } = ratioBreaker()
    for (let i = 0; i < 3; i++) await outcome(policy.execute(fail()))
    await clock.advance(11_000)
    await outcome(policy.execute(fail()))
    expect(policy.state).toBe('closed') // 1 call in the window
    for (let i = 0; i < 3; i++) await outcome(policy.execute(fail()))
    expect(policy.state).toBe('open')
  })

  it('after a successful probe starts from an empty window', async () => {
    const { clock, policy } = ratioBreaker()
    for (let i = 0; i < 4; i++) await outcome(policy.execute(fail()))
    expect(policy.state).toBe('open')
    await clock.advance(5_000)
    await policy.execute(succeed)
    expect(policy.state).toBe('closed')
    await outcome(policy.execute(fail()))
    await outcome(policy.execute(fail()))
    expect(policy.state).toBe('closed') // 2 of 3 failed but only 3 calls since the reset
  })
})
