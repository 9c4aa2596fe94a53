import type { App } from 'keel/app'
import { RedisRateLimitStore, rateLimit } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'
import { sampleValue, scrape, seriesOf } from '../scrape.ts'

let running: App | undefined
const stores: RedisRateLimitStore[] = []
afterEach(async () => {
  await running?.stop()
  running = undefined
  await Promise.all(stores.splice(0).map((store) => store.close()))
})

const requests = 'keel_rate_limit_requests_total'
const storeErrors = 'keel_rate_limit_store_errors_total'

async function start(define: (app: App) => void) {
  const { app } = testApp()
  define(app)
  app.get('/hello', () => ({ hello: 'world' }))
  const { url } = await app.start()
  running = app
  const get = async (path = '/hello') =>
    (await fetch(`${url}${path}`, { headers: { connection: 'close' } })).status
  return { url, get }
}

/** A Redis store on a port nothing listens on: every hit fails, as when Redis is down. */
function downStore(): RedisRateLimitStore {
  const store = new RedisRateLimitStore({ url: 'redis://127.0.0.1:1', timeoutMs: 200 })
  stores.push(store)
  return store
}

describe('rate limit metrics', () => {
  it('starts both outcomes at 0, labelled by the limiter name', async () => {
    const { url } = await start((app) => app.guard(rateLimit({ name: 'api', limit: 2, windowMs: 60_000 })))
    expect(seriesOf(await scrape(url), requests)).toEqual({
      'limiter=api,outcome=allowed': 0,
      'limiter=api,outcome=limited': 0,
    })
    // The default policy fails open: only that outcome can happen, so only it has a series.
    expect(seriesOf(await scrape(url), storeErrors)).toEqual({ 'limiter=api,outcome=allowed': 0 })
  })

  it('counts allowed requests, then limited ones past the limit', async () => {
    const { url, get } = await start((app) =>
      app.guard(rateLimit({ name: 'api', limit: 2, windowMs: 60_000 })),
    )
    expect([await get(), await get(), await get(), await get()]).toEqual([200, 200, 429, 429])
    const samples = await scrape(url)
    expect(sampleValue(samples, requests, { limiter: 'api', outcome: 'allowed' })).toBe(2)
    expect(sampleValue(samples, requests, { limiter: 'api', outcome: 'limited' })).toBe(2)
  })

  it('names the default limiter <key>:<limit>:<windowMs> and keeps two limiters apart', async () => {
    const { url, get } = await start((app) => {
      app.guard(rateLimit({ limit: 100, windowMs: 1000 }))
      app.get('/login', { guards: [rateLimit({ name: 'login', limit: 1, windowMs: 60_000 })] }, () => 'ok')
    })
    expect([await get('/login'), await get('/login'), await get('/hello')]).toEqual([200, 429, 200])
    const samples = await scrape(url)
    expect(sampleValue(samples, requests, { limiter: 'ip:100:1000', outcome: 'allowed' })).toBe(3)
    expect(sampleValue(samples, requests, { limiter: 'login', outcome: 'allowed' })).toBe(1)
    expect(sampleValue(samples, requests, { limiter: 'login', outcome: 'limited' })).toBe(1)
  })

  it('counts store failures that fail open as allowed store errors, not as decisions', async () => {
    const { url, get } = await start((app) =>
      app.guard(rateLimit({ name: 'shared', limit: 1, windowMs: 60_000, store: downStore() })),
    )
    expect([await get(), await get(), await get()]).toEqual([200, 200, 200])
    const samples = await scrape(url)
    expect(sampleValue(samples, storeErrors, { limiter: 'shared', outcome: 'allowed' })).toBe(3)
    expect(sampleValue(samples, requests, { limiter: 'shared', outcome: 'allowed' })).toBe(0)
    expect(sampleValue(samples, requests, { limiter: 'shared', outcome: 'limited' })).toBe(0)
  })

  it('counts store failures that fail closed as rejected store errors', async () => {
    const { url, get } = await start((app) =>
      app.guard(
        rateLimit({ name: 'strict', limit: 1, windowMs: 60_000, store: downStore(), onStoreError: 'reject' }),
      ),
    )
    expect([await get(), await get()]).toEqual([503, 503])
    expect(seriesOf(await scrape(url), storeErrors)).toEqual({ 'limiter=strict,outcome=rejected': 2 })
  })
})
