import { isKeelError } from 'keel/errors'
import { bulkhead } from 'keel/resilience'
import { describe, expect, it, vi } from 'vitest'
import { deferred, settle } from './fake-clock.ts'

/** Starts a call that runs until its `finish` is called; records when it started. */
function hold(policy: ReturnType<typeof bulkhead>, label: string, started: string[], signal?: AbortSignal) {
  const gate = deferred<string>()
  const result = policy
    .execute(() => {
      started.push(label)
      return gate.promise
    }, signal)
    .then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    )
  return { finish: () => gate.resolve(label), fail: (e: unknown) => gate.reject(e), result }
}

describe('bulkhead() options', () => {
  it.each([
    [{}, 'bulkhead.concurrency is required'],
    [{ concurrency: 0 }, 'bulkhead.concurrency must be an integer >= 1 (got 0)'],
    [{ concurrency: 2.5 }, 'bulkhead.concurrency must be an integer >= 1 (got 2.5)'],
    [{ concurrency: 1, queue: -1 }, 'bulkhead.queue must be an integer >= 0 (got -1)'],
    [{ concurrency: 1, queue: 'all' }, 'bulkhead.queue must be an integer >= 0 (got "all")'],
    [{ concurrency: 1, limit: 3 }, 'bulkhead: unknown option "limit"'],
  ])('refuses %j', (options, message) => {
    expect(() => bulkhead(options as never)).toThrow(RangeError)
    expect(() => bulkhead(options as never)).toThrow(message)
  })

  it('is named "bulkhead" unless given a name', () => {
    expect(bulkhead({ concurrency: 1 }).name).toBe('bulkhead')
  })
})

describe('bulkhead()', () => {
  it('runs up to `concurrency` calls, queues up to `queue`, and refuses the rest with KEEL_BULKHEAD_FULL', async () => {
    const policy = bulkhead({ name: 'reports', concurrency: 2, queue: 1 })
    const started: string[] = []
    const a = hold(policy, 'a', started)
    const b = hold(policy, 'b', started)
    const c = hold(policy, 'c', started)
    await settle()
    expect(started).toEqual(['a', 'b'])
    expect([policy.active, policy.queued]).toEqual([2, 1])

    const fn = vi.fn()
    const error = await policy.execute(fn).catch((e: unknown) => e)
    expect(fn).not.toHaveBeenCalled()
    expect(isKeelError(error)).toBe(true)
    expect(error).toMatchObject({
      code: 'KEEL_BULKHEAD_FULL',
      status: 503,
      message: 'bulkhead "reports" is full: 2 calls running and 1 waiting',
    })

    a.finish()
    expect(await a.result).toEqual({ value: 'a' })
    await settle()
    expect(started).toEqual(['a', 'b', 'c'])
    expect([policy.active, policy.queued]).toEqual([2, 0])
    b.finish()
    c.finish()
    expect(await Promise.all([b.result, c.result])).toEqual([{ value: 'b' }, { value: 'c' }])
    expect([policy.active, policy.queued]).toEqual([0, 0])
  })

  it('without a queue refuses as soon as every slot is busy', async () => {
    const policy = bulkhead({ concurrency: 1 })
    const a = hold(policy, 'a', [])
    await expect(policy.execute(() => 'b')).rejects.toMatchObject({ code: 'KEEL_BULKHEAD_FULL' })
    a.finish()
    await a.result
    await expect(policy.execute(() => 'c')).resolves.toBe('c')
  })

  it('admits waiters first come, first served; a newcomer queues behind them', async () => {
    const policy = bulkhead({ concurrency: 1, queue: 4 })
    const started: string[] = []
    const calls = ['a', 'b', 'c', 'd'].map((label) => hold(policy, label, started))
    await settle()
    calls[0]!.finish()
    const late = hold(policy, 'late', started) // arrives while the slot passes from a to b
    await settle()
    expect(started).toEqual(['a', 'b'])
    for (const call of calls.slice(1)) {
      call.finish()
      await settle()
    }
    late.finish()
    await late.result
    expect(started).toEqual(['a', 'b', 'c', 'd', 'late'])
  })

  it('frees the slot of a call that fails', async () => {
    const policy = bulkhead({ concurrency: 1, queue: 1 })
    const started: string[] = []
    const a = hold(policy, 'a', started)
    const b = hold(policy, 'b', started)
    a.fail(new Error('boom'))
    expect(await a.result).toEqual({ error: new Error('boom') })
    await settle()
    expect(started).toEqual(['a', 'b'])
    b.finish()
    expect(await b.result).toEqual({ value: 'b' })
    expect(policy.active).toBe(0)
  })

  it("takes a waiter whose signal aborts out of the queue at once, rejecting with the signal's reason", async () => {
    const policy = bulkhead({ concurrency: 1, queue: 1 })
    const started: string[] = []
    const a = hold(policy, 'a', started)
    const controller = new AbortController()
    const b = hold(policy, 'b', started, controller.signal)
    await settle()
    expect(policy.queued).toBe(1)
    controller.abort(new Error('client went away'))
    expect(await b.result).toEqual({ error: new Error('client went away') })
    expect(policy.queued).toBe(0)
    // Its queue place is free again.
    const c = hold(policy, 'c', started)
    a.finish()
    c.finish()
    expect(await c.result).toEqual({ value: 'c' })
    expect(started).toEqual(['a', 'c'])
  })

  it('does not run a call whose signal is already aborted', async () => {
    const fn = vi.fn()
    const reason = new Error('gone')
    await expect(bulkhead({ concurrency: 1 }).execute(fn, AbortSignal.abort(reason))).rejects.toBe(reason)
    expect(fn).not.toHaveBeenCalled()
  })
})
