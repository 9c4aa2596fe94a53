import { setTimeout as sleep } from 'node:timers/promises'
import { type TimeoutOptions, timeout } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

describe('timeout()', () => {
  let stop: (() => Promise<unknown>) | undefined
  afterEach(async () => {
    await stop?.()
    stop = undefined
  })

  it('answers a slow handler with a 504 problem and aborts its signal', async () => {
    const { app, logs } = testApp()
    app.guard(timeout({ ms: 50 }))
    let seen: { isAborted: boolean; reason: unknown } | undefined
    let finished: () => void = () => {}
    const done = new Promise<void>((resolve) => {
      finished = resolve
    })
    app.get('/slow', async (ctx) => {
      await sleep(300)
      seen = { isAborted: ctx.signal.aborted, reason: ctx.signal.reason }
      finished()
      return { late: true }
    })
    const res = await app.inject('/slow')
    // Answered while the handler is still at work.
    expect(seen).toBeUndefined()
    expect(res.statusCode).toBe(504)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.json()).toMatchObject({
      code: 'KEEL_TIMEOUT',
      type: 'urn:keel:problem:timeout',
      status: 504,
      detail: 'the handler did not answer within 50 ms',
      timeoutMs: 50,
    })
    await done
    expect(seen?.isAborted).toBe(true)
    expect(seen?.reason).toMatchObject({ code: 'KEEL_TIMEOUT', status: 504 })
    // The handler's late answer is dropped: one access line, with the 504.
    const lines = logs.records.filter((r) => r.msg === 'request completed' && r.url === '/slow')
    expect(lines.map((r) => r.status)).toEqual([504])
  })

  it('lets an abort-aware handler stop its work at once', async () => {
    const { app } = testApp()
    app.guard(timeout({ ms: 30 }))
    let stopped: unknown
    app.get('/work', async (ctx) => {
      await sleep(60_000, undefined, { signal: ctx.signal }).catch((error: unknown) => {
        stopped = error
      })
      return 'never sent'
    })
    const res = await app.inject('/work')
    expect(res.statusCode).toBe(504)
    await sleep(1)
    // The minute-long wait ended with the abort, carrying the timeout as its cause.
    expect(stopped).toMatchObject({ name: 'AbortError', cause: { code: 'KEEL_TIMEOUT' } })
  })

  it('passes a fast answer through untouched, errors included', async () => {
    const { app } = testApp()
    app.guard(timeout({ ms: 1_000 }))
    app.get('/fast', (ctx) => ({ isAborted: ctx.signal.aborted }))
    app.get('/bad', () => {
      throw new Error('boom')
    })
    const fast = await app.inject('/fast')
    expect(fast.statusCode).toBe(200)
    expect(fast.json()).toEqual({ isAborted: false })
    expect((await app.inject('/bad')).statusCode).toBe(500)
  })

  it('does not cut off a handler that already streams; it sees the aborted signal and ends', async () => {
    const { app } = testApp()
    app.guard(timeout({ ms: 40 }))
    app.get('/stream', async (ctx) => {
      ctx.res.writeHead(200, { 'content-type': 'text/plain' })
      ctx.res.write('part 1;')
      await sleep(150)
      ctx.res.end(ctx.signal.aborted ? 'stopped' : 'finished')
    })
    const res = await app.inject('/stream')
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('part 1;stopped')
  })

  it('aborts the signal when the client disconnects', async () => {
    const { app } = testApp()
    let reason: unknown
    let reached!: () => void
    const handling = new Promise<void>((resolve) => {
      reached = resolve
    })
    const aborted = new Promise<void>((resolve) => {
      app.get('/hang', (ctx) => {
        reached()
        ctx.signal.addEventListener('abort', () => {
          reason = ctx.signal.reason
          resolve()
        })
        return new Promise(() => {})
      })
    })
    const { url } = await app.start()
    stop = () => app.stop()
    const client = new AbortController()
    const request = fetch(`${url}/hang`, { signal: client.signal }).catch((error: Error) => error.name)
    // Abort once the handler runs: a fixed sleep could abort before the request reached it.
    await handling
    client.abort()
    expect(await request).toBe('AbortError')
    await aborted
    expect(reason).toMatchObject({ name: 'AbortError', message: 'the client closed the connection' })
  })

  it('rejects bad options', () => {
    const bad = (options: unknown) => () => timeout(options as TimeoutOptions)
    expect(bad({})).toThrow(/timeout: options\.ms is required/)
    expect(bad({ ms: 0 })).toThrow(/timeout: options\.ms must be an integer 1-2147483647, got 0/)
    expect(bad({ ms: 3e9 })).toThrow(/options\.ms must be an integer 1-2147483647/)
    expect(bad({ ms: '5s' })).toThrow(/got "5s"/)
  })
})
