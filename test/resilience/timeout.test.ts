import { isKeelError } from 'keel/errors'
import { timeout } from 'keel/resilience'
import { describe, expect, it, vi } from 'vitest'
import { deferred, FakeClock, settle } from './fake-clock.ts'

describe('timeout() options', () => {
  it.each([
    [0, 'timeout.ms must be an integer from 1 to 2147483647 (got 0)'],
    [-5, 'timeout.ms must be an integer from 1 to 2147483647 (got -5)'],
    [1.5, 'timeout.ms must be an integer from 1 to 2147483647 (got 1.5)'],
    [2 ** 31, 'timeout.ms must be an integer from 1 to 2147483647 (got 2147483648)'],
    ['100', 'timeout.ms must be an integer from 1 to 2147483647 (got "100")'],
    [undefined, 'timeout.ms is required'],
  ])('refuses ms = %j', (ms, message) => {
    expect(() => timeout(ms as never)).toThrow(RangeError)
    expect(() => timeout(ms as never)).toThrow(message)
  })

  it('refuses unknown options and names them', () => {
    expect(() => timeout(100, { nam: 'x' } as never)).toThrow('timeout: unknown option "nam"')
  })

  it('is named "timeout" unless given a name', () => {
    expect(timeout(10).name).toBe('timeout')
    expect(timeout(10, { name: 'inventory' }).name).toBe('inventory')
  })
})

describe('timeout()', () => {
  it('answers with the value when the function finishes in time, leaving its signal alone', async () => {
    const clock = new FakeClock('manual')
    let seen: AbortSignal | undefined
    const value = await timeout(1_000, { clock }).execute(({ signal }) => {
      seen = signal
      return 42
    })
    expect(value).toBe(42)
    expect(seen?.aborted).toBe(false)
    expect(clock.sleeps).toEqual([1_000])
    expect(clock.pending).toBe(0) // the deadline was cancelled
  })

  it('rejects at the deadline with KEEL_POLICY_TIMEOUT even when the function ignores its signal', async () => {
    const clock = new FakeClock('manual')
    let seen: AbortSignal | undefined
    const call = timeout(500, { name: 'inventory', clock })
      .execute(({ signal }) => {
        seen = signal
        return new Promise(() => {}) // never settles, never looks at the signal
      })
      .catch((e: unknown) => e)
    await clock.advance(499)
    expect(seen?.aborted).toBe(false)
    await clock.advance(1)
    const error = await call
    expect(isKeelError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'KEEL_POLICY_TIMEOUT',
      status: 504,
      message: 'timeout "inventory": no result within 500 ms',
    })
    expect(seen?.aborted).toBe(true)
    expect(seen?.reason).toBe(error)
  })

  it('passes the deadline to a function that honours its signal, which then fails with the timeout error', async () => {
    const clock = new FakeClock('manual')
    const call = timeout(100, { clock })
      .execute(
        ({ signal }) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () => reject(signal.reason), { once: true }),
          ),
      )
      .catch((e: unknown) => e)
    await clock.advance(100)
    expect(await call).toMatchObject({ code: 'KEEL_POLICY_TIMEOUT' })
  })

  it('drops a result that arrives after the deadline', async () => {
    const clock = new FakeClock('manual')
    const late = deferred<string>()
    const call = timeout(100, { clock })
      .execute(() => late.promise)
      .catch((e: unknown) => e)
    await clock.advance(100)
    late.resolve('too late')
    expect(await call).toMatchObject({ code: 'KEEL_POLICY_TIMEOUT' })
  })

  it("rejects with the function's own error when it fails in time", async () => {
    const clock = new FakeClock('manual')
    const failure = new Error('connection refused')
    await expect(
      timeout(100, { clock }).execute(() => {
        throw failure
      }),
    ).rejects.toBe(failure)
    expect(clock.pending).toBe(0)
  })

  it("rejects at once with the caller's reason when the caller aborts, and aborts the function's signal", async () => {
    const clock = new FakeClock('manual')
    const controller = new AbortController()
    let seen: AbortSignal | undefined
    const call = timeout(10_000, { clock })
      .execute(({ signal }) => {
        seen = signal
        return new Promise(() => {})
      }, controller.signal)
      .catch((e: unknown) => e)
    await settle()
    const reason = new Error('client disconnected')
    controller.abort(reason)
    expect(await call).toBe(reason)
    expect(seen?.reason).toBe(reason)
    expect(clock.pending).toBe(0)
  })

  it('does not run the function when the caller signal is already aborted', async () => {
    const fn = vi.fn()
    const reason = new Error('gone')
    await expect(timeout(100).execute(fn, AbortSignal.abort(reason))).rejects.toBe(reason)
    expect(fn).not.toHaveBeenCalled()
  })

  it('on the system clock, cuts off a function that never settles', async () => {
    let seen: AbortSignal | undefined
    const error = await timeout(20)
      .execute(({ signal }) => {
        seen = signal
        return new Promise(() => {})
      })
      .catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'KEEL_POLICY_TIMEOUT', status: 504 })
    expect(seen?.aborted).toBe(true)
  })
})
