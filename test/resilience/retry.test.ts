import { isKeelError, KeelError } from 'keel/errors'
import {
  type GiveUpEvent,
  type RetryEvent,
  resolveRetryOptions,
  retry,
  retryDelay,
  shouldRetry,
} from 'keel/resilience'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FakeClock, settle } from './fake-clock.ts'

afterEach(() => {
  vi.restoreAllMocks()
})

/** A function that fails `failures` times with the errors given (or `Error('boom n')`), then answers. */
function flaky<T>(failures: number, value: T, errorOf = (n: number): unknown => new Error(`boom ${n}`)) {
  const attempts: number[] = []
  const fn = ({ attempt }: { attempt: number }) => {
    attempts.push(attempt)
    if (attempts.length <= failures) throw errorOf(attempts.length)
    return value
  }
  return { fn, attempts }
}

describe('resolveRetryOptions()', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveRetryOptions()
    expect(resolved).toMatchObject({
      maxAttempts: 3,
      backoff: 'exponential',
      initialDelayMs: 100,
      maxDelayMs: 30_000,
      jitter: true,
    })
    expect(resolved.retryOn(new Error('ECONNRESET'), 1)).toBe(true)
  })

  it.each([
    [{ maxAttempts: 0 }, 'retry.maxAttempts must be an integer >= 1 (got 0)'],
    [{ maxAttempts: 2.5 }, 'retry.maxAttempts must be an integer >= 1 (got 2.5)'],
    [{ maxAttempts: '3' }, 'retry.maxAttempts must be an integer >= 1 (got "3")'],
    [{ backoff: 'linear' }, 'retry.backoff must be "fixed" or "exponential" (got "linear")'],
    [{ initialDelayMs: -1 }, 'retry.initialDelayMs must be a finite number of milliseconds >= 0 (got -1)'],
    [
      { maxDelayMs: Number.POSITIVE_INFINITY },
      'retry.maxDelayMs must be a finite number of milliseconds >= 0 (got Infinity)',
    ],
    [
      { initialDelayMs: 500, maxDelayMs: 200 },
      'retry.maxDelayMs must be >= retry.initialDelayMs (500) (got 200)',
    ],
    [{ jitter: 'full' }, 'retry.jitter must be true or false (got "full")'],
    [{ retryOn: true }, 'retry.retryOn must be a function (got true)'],
    [{ maxAttemps: 5 }, 'retry: unknown option "maxAttemps"'],
  ])('rejects %j with a RangeError naming the option and the value', (options, message) => {
    expect(() => resolveRetryOptions(options as never)).toThrow(RangeError)
    expect(() => resolveRetryOptions(options as never)).toThrow(message)
  })

  it('rejects options that are not an object', () => {
    expect(() => resolveRetryOptions(null as never)).toThrow('retry must be an object (got null)')
  })
})

describe('retry() options', () => {
  it.each([
    [{ name: '' }, 'retry.name must be a non-empty string (got "")'],
    [{ registry: {} }, 'retry.registry must be a prom-client Registry (got {})'],
    [{ clock: { now: () => 0 } }, 'retry.clock must have now() and sleep(ms, signal) methods'],
    [{ maxAttempts: 0 }, 'retry.maxAttempts must be an integer >= 1 (got 0)'],
  ])('refuses %j at construction', (options, message) => {
    expect(() => retry(options as never)).toThrow(RangeError)
    expect(() => retry(options as never)).toThrow(message)
  })

  it('is named "retry" unless given a name', () => {
    expect(retry().name).toBe('retry')
    expect(retry({ name: 'geo' }).name).toBe('geo')
  })
})

describe('retryDelay()', () => {
  const exact = (options = {}) => resolveRetryOptions({ jitter: false, ...options })

  it('doubles an exponential delay after each failure and caps it at maxDelayMs', () => {
    const options = exact({ initialDelayMs: 100, maxDelayMs: 1_000 })
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelay(options, attempt))).toEqual([
      100, 200, 400, 800, 1_000, 1_000,
    ])
  })

  it('stays at maxDelayMs however many attempts failed', () => {
    const options = exact({ initialDelayMs: 100 })
    expect(retryDelay(options, 5_000)).toBe(30_000)
    expect(retryDelay(exact({ initialDelayMs: 0, maxDelayMs: 0 }), 5_000)).toBe(0)
  })

  it('keeps a fixed delay', () => {
    const options = exact({ backoff: 'fixed', initialDelayMs: 250 })
    expect([1, 2, 7].map((attempt) => retryDelay(options, attempt))).toEqual([250, 250, 250])
  })

  it('with jitter draws a whole number of ms between 0 and the computed delay', () => {
    const options = resolveRetryOptions({ initialDelayMs: 100 })
    expect(retryDelay(options, 3, () => 0)).toBe(0)
    expect(retryDelay(options, 3, () => 0.5)).toBe(200)
    expect(retryDelay(options, 3, () => 0.999_999_9)).toBe(400)
    for (let i = 0; i < 200; i++) {
      const delay = retryDelay(options, 2)
      expect(Number.isInteger(delay)).toBe(true)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(200)
    }
  })

  it('refuses an attempt number below 1', () => {
    expect(() => retryDelay(exact(), 0)).toThrow('attempt must be an integer >= 1 (got 0)')
  })
})

describe('shouldRetry()', () => {
  it('is false once maxAttempts are used up', () => {
    const options = resolveRetryOptions({ maxAttempts: 3 })
    const error = new Error('ECONNRESET')
    expect([1, 2, 3, 4].map((attempt) => shouldRetry(options, error, attempt))).toEqual([
      true,
      true,
      false,
      false,
    ])
  })

  it('asks retryOn with the error and the attempt number', () => {
    const retryOn = vi.fn((error: unknown, attempt: number) => error instanceof TypeError && attempt < 2)
    const options = resolveRetryOptions({ maxAttempts: 5, retryOn })
    expect(shouldRetry(options, new TypeError('x'), 1)).toBe(true)
    expect(shouldRetry(options, new TypeError('x'), 2)).toBe(false)
    expect(shouldRetry(options, new RangeError('x'), 1)).toBe(false)
    expect(retryOn).toHaveBeenCalledWith(expect.any(TypeError), 2)
  })

  it('by default retries server-side errors but not client errors or aborts', () => {
    const options = resolveRetryOptions()
    expect(shouldRetry(options, new Error('ECONNRESET'), 1)).toBe(true)
    expect(shouldRetry(options, new KeelError('KEEL_POLICY_TIMEOUT', 'slow', { status: 504 }), 1)).toBe(true)
    expect(shouldRetry(options, new KeelError('KEEL_NOT_FOUND', 'gone', { status: 404 }), 1)).toBe(false)
    expect(shouldRetry(options, new DOMException('stop', 'AbortError'), 1)).toBe(false)
  })
})

describe('retry()', () => {
  it('runs again until an attempt succeeds, waiting the computed delays', async () => {
    const clock = new FakeClock()
    const { fn, attempts } = flaky(2, 'ok')
    const policy = retry({ maxAttempts: 5, initialDelayMs: 100, jitter: false, clock })
    await expect(policy.execute(fn)).resolves.toBe('ok')
    expect(attempts).toEqual([1, 2, 3])
    expect(clock.sleeps).toEqual([100, 200])
  })

  it('caps the waits at maxDelayMs', async () => {
    const clock = new FakeClock()
    const policy = retry({ maxAttempts: 6, initialDelayMs: 100, maxDelayMs: 300, jitter: false, clock })
    await expect(policy.execute(flaky(5, 'ok').fn)).resolves.toBe('ok')
    expect(clock.sleeps).toEqual([100, 200, 300, 300, 300])
  })

  it('with jitter waits a random share of each delay', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.25)
    const clock = new FakeClock()
    await retry({ maxAttempts: 4, initialDelayMs: 100, clock }).execute(flaky(3, 'ok').fn)
    expect(clock.sleeps).toEqual([25, 50, 100])
  })

  it('tells onRetry listeners about each retry, and stops telling them once unsubscribed', async () => {
    const clock = new FakeClock()
    const policy = retry({ maxAttempts: 4, initialDelayMs: 10, backoff: 'fixed', jitter: false, clock })
    const events: RetryEvent[] = []
    const stop = policy.onRetry((event) => events.push(event))
    await policy.execute(flaky(2, 'ok', (n) => new Error(`fail ${n}`)).fn)
    expect(events).toEqual([
      { attempt: 1, error: new Error('fail 1'), delayMs: 10 },
      { attempt: 2, error: new Error('fail 2'), delayMs: 10 },
    ])
    stop()
    await policy.execute(flaky(1, 'ok').fn)
    expect(events).toHaveLength(2)
  })

  it('gives up after maxAttempts with KEEL_RETRY_EXHAUSTED carrying the last error', async () => {
    const clock = new FakeClock()
    const policy = retry({ name: 'geo', maxAttempts: 3, jitter: false, clock })
    const giveUps: GiveUpEvent[] = []
    policy.onGiveUp((event) => giveUps.push(event))
    const { fn, attempts } = flaky(10, 'never')
    const error = await policy.execute(fn).catch((e: unknown) => e)
    expect(attempts).toEqual([1, 2, 3])
    expect(clock.sleeps).toEqual([100, 200])
    expect(isKeelError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'KEEL_RETRY_EXHAUSTED',
      status: 503,
      message: 'retry "geo": 3 attempts failed; the last with: boom 3',
      cause: new Error('boom 3'),
    })
    expect(giveUps).toEqual([{ attempts: 3, error: new Error('boom 3') }])
  })

  it('gives up with the status of the last error when it is a KeelError', async () => {
    const policy = retry({ maxAttempts: 2, clock: new FakeClock() })
    const timedOut = new KeelError('KEEL_POLICY_TIMEOUT', 'slow', { status: 504 })
    const error = await policy.execute(flaky(5, 'x', () => timedOut).fn).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'KEEL_RETRY_EXHAUSTED', status: 504, cause: timedOut })
  })

  it('with maxAttempts 1 makes one attempt and reports it exhausted', async () => {
    const clock = new FakeClock()
    const { fn, attempts } = flaky(1, 'x')
    const error = await retry({ maxAttempts: 1, clock })
      .execute(fn)
      .catch((e: unknown) => e)
    expect(attempts).toEqual([1])
    expect(clock.sleeps).toEqual([])
    expect(error).toMatchObject({
      code: 'KEEL_RETRY_EXHAUSTED',
      message: expect.stringContaining('1 attempt failed'),
    })
  })

  it('rethrows an error retryOn refuses, unchanged and without waiting', async () => {
    const clock = new FakeClock()
    const retryOn = vi.fn((error: unknown) => !(error instanceof TypeError))
    const bug = new TypeError('undefined is not a function')
    const { fn, attempts } = flaky(5, 'x', (n) => (n === 2 ? bug : new Error('flaky')))
    const giveUp = vi.fn()
    const policy = retry({ maxAttempts: 5, retryOn, clock })
    policy.onGiveUp(giveUp)
    await expect(policy.execute(fn)).rejects.toBe(bug)
    expect(attempts).toEqual([1, 2])
    expect(retryOn.mock.calls).toEqual([
      [new Error('flaky'), 1],
      [bug, 2],
    ])
    expect(clock.sleeps).toHaveLength(1)
    expect(giveUp).not.toHaveBeenCalled()
  })

  it('by default does not retry a KeelError with a 4xx status', async () => {
    const notFound = new KeelError('KEEL_NOT_FOUND', 'no such user', { status: 404 })
    const { fn, attempts } = flaky(5, 'x', () => notFound)
    await expect(retry({ clock: new FakeClock() }).execute(fn)).rejects.toBe(notFound)
    expect(attempts).toEqual([1])
  })

  it('stops retrying when the caller aborts between attempts, rejecting with the reason', async () => {
    const clock = new FakeClock()
    const controller = new AbortController()
    const policy = retry({ maxAttempts: 5, clock })
    policy.onRetry(() => controller.abort(new Error('client went away')))
    const { fn, attempts } = flaky(5, 'x')
    await expect(policy.execute(fn, controller.signal)).rejects.toThrow('client went away')
    expect(attempts).toEqual([1])
  })

  it('stops waiting as soon as the caller aborts during a delay', async () => {
    const clock = new FakeClock('manual')
    const controller = new AbortController()
    const { fn, attempts } = flaky(5, 'x')
    const call = retry({ maxAttempts: 5, initialDelayMs: 1_000, clock }).execute(fn, controller.signal)
    const outcome = call.catch((e: unknown) => e)
    await settle()
    expect(clock.pending).toBe(1)
    controller.abort(new Error('shutting down'))
    expect(await outcome).toEqual(new Error('shutting down'))
    expect(attempts).toEqual([1])
    expect(clock.pending).toBe(0)
  })

  it("rethrows the running attempt's error when the caller aborted during it", async () => {
    const controller = new AbortController()
    const policy = retry({ maxAttempts: 5, clock: new FakeClock() })
    const attempts: number[] = []
    const failure = new Error('socket hang up')
    const call = policy.execute(({ attempt }) => {
      attempts.push(attempt)
      controller.abort()
      throw failure
    }, controller.signal)
    await expect(call).rejects.toBe(failure)
    expect(attempts).toEqual([1])
  })

  it('does not start when the signal is already aborted', async () => {
    const fn = vi.fn()
    const reason = new Error('already gone')
    await expect(retry().execute(fn, AbortSignal.abort(reason))).rejects.toBe(reason)
    expect(fn).not.toHaveBeenCalled()
  })

  it('hands every attempt the caller signal', async () => {
    const controller = new AbortController()
    const signals: AbortSignal[] = []
    await retry({ clock: new FakeClock() }).execute(({ signal }) => {
      signals.push(signal)
      if (signals.length < 2) throw new Error('again')
    }, controller.signal)
    expect(signals).toEqual([controller.signal, controller.signal])
  })

  it('keeps retrying when a listener throws, and reports the listener error as a warning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error) => warnings.push(warning)
    process.on('warning', onWarning)
    try {
      const policy = retry({ clock: new FakeClock() })
      policy.onRetry(() => {
        throw new Error('listener bug')
      })
      await expect(policy.execute(flaky(1, 'ok').fn)).resolves.toBe('ok')
      await settle()
      expect(warnings.map((w) => w.message)).toContain('listener bug')
    } finally {
      process.off('warning', onWarning)
    }
  })
})
