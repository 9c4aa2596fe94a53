import { systemClock } from 'keel/resilience'
import { describe, expect, it } from 'vitest'

describe('systemClock', () => {
  it('reads the wall clock', () => {
    const before = Date.now()
    expect(systemClock.now()).toBeGreaterThanOrEqual(before)
  })

  it('sleeps, then resolves', async () => {
    await expect(systemClock.sleep(5)).resolves.toBeUndefined()
  })

  it('rejects with the reason as soon as its signal aborts', async () => {
    const controller = new AbortController()
    const sleeping = systemClock.sleep(60_000, controller.signal)
    const reason = new Error('stop waiting')
    controller.abort(reason)
    await expect(sleeping).rejects.toBe(reason)
  })

  it('rejects at once when the signal is already aborted', async () => {
    const reason = new Error('already')
    await expect(systemClock.sleep(60_000, AbortSignal.abort(reason))).rejects.toBe(reason)
  })
})
