import { isKeelError } from 'keel/errors'
import {
  type Guard,
  HttpError,
  MemoryRateLimitStore,
  type RateLimitOptions,
  type RateLimitStore,
  rateLimit,
} from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

type App = ReturnType<typeof testApp>['app']

/** A clock the test moves by hand. */
const clock = () => {
  const time = { now: 1_000_000, read: () => time.now }
  return time
}

function limitedApp(options: RateLimitOptions, extraGuards: Guard[] = []) {
  const { app, logs } = testApp()
  app.guard(...extraGuards, rateLimit(options))
  app.get('/a', () => ({ ok: true }))
  app.get('/b', () => ({ ok: true }))
  app.get('/fails', () => {
    throw new HttpError(409, 'KEEL_CONFLICT', 'no')
  })
  return { app, logs }
}

const get = (app: App, url = '/a', remoteAddress = '203.0.113.7', headers: Record<string, string> = {}) =>
  app.inject({ method: 'GET', url, remoteAddress, headers })

/** Sets ctx.principal from `x-user`, standing in for an auth guard. */
const fakeAuth: Guard = {
  name: 'fakeAuth',
  handle(ctx, next) {
    const id = ctx.headers['x-user']
    if (typeof id === 'string') ctx.principal = { id, kind: 'api-key', roles: [], scopes: [], claims: {} }
    return next()
  },
}

describe('rateLimit', () => {
  it('sends the draft-06 RateLimit headers and counts down', async () => {
    const time = clock()
    const store = new MemoryRateLimitStore({ now: time.read })
    const { app } = limitedApp({ limit: 3, windowMs: 60_000, store })
    const remaining: unknown[] = []
    for (let i = 0; i < 3; i++) {
      const res = await get(app)
      expect(res.statusCode).toBe(200)
      expect(res.headers['ratelimit-limit']).toBe('3')
      expect(res.headers['ratelimit-policy']).toBe('3;w=60')
      expect(res.headers['ratelimit-reset']).toBe('60')
      remaining.push(res.headers['ratelimit-remaining'])
    }
    expect(remaining).toEqual(['2', '1', '0'])
  })

  it('answers 429 with Retry-After and a problem once the limit is spent', async () => {
    const time = clock()
    const store = new MemoryRateLimitStore({ now: time.read })
    const { app } = limitedApp({ limit: 2, windowMs: 60_000, store })
    await get(app)
    time.now += 15_500
    await get(app)
    const res = await get(app)
    expect(res.statusCode).toBe(429)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['retry-after']).toBe('45')
    expect(res.headers['ratelimit-remaining']).toBe('0')
    expect(res.headers['ratelimit-reset']).toBe('45')
    expect(res.json()).toMatchObject({
      type: 'urn:keel:problem:rate-limited',
      code: 'KEEL_RATE_LIMITED',
      status: 429,
      detail: 'more than 2 requests in 60 s; retry in 45 s',
    })
  })

  it('starts counting afresh once the window has passed', async () => {
    const time = clock()
    const store = new MemoryRateLimitStore({ now: time.read })
    const { app } = limitedApp({ limit: 1, windowMs: 1000, store })
    expect((await get(app)).statusCode).toBe(200)
    expect((await get(app)).statusCode).toBe(429)
    time.now += 999
    expect((await get(app)).statusCode).toBe(429)
    time.now += 1
    const res = await get(app)
    expect(res.statusCode).toBe(200)
    expect(res.headers['ratelimit-remaining']).toBe('0')
    expect(res.headers['ratelimit-reset']).toBe('1')
  })

  it('resets after a real (short) window without an injected clock', async () => {
    const { app } = limitedApp({ limit: 1, windowMs: 500 })
    expect((await get(app)).statusCode).toBe(200)
    expect((await get(app)).statusCode).toBe(429)
    await new Promise((resolve) => setTimeout(resolve, 550))
    expect((await get(app)).statusCode).toBe(200)
  })

  it('puts the headers on error responses too', async () => {
    const { app } = limitedApp({ limit: 5, windowMs: 60_000 })
    const conflict = await get(app, '/fails')
    expect(conflict.statusCode).toBe(409)
    expect(conflict.headers['ratelimit-remaining']).toBe('4')
    const missing = await get(app, '/nope')
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['ratelimit-remaining']).toBe('3')
  })

  it('counts each client address apart by default', async () => {
    const { app } = limitedApp({ limit: 1, windowMs: 60_000 })
    expect((await get(app, '/a', '203.0.113.1')).statusCode).toBe(200)
    expect((await get(app, '/a', '203.0.113.1')).statusCode).toBe(429)
    expect((await get(app, '/a', '203.0.113.2')).statusCode).toBe(200)
    expect((await get(app, '/a', '2001:db8::1')).statusCode).toBe(200)
  })

  it("keys 'user' by the principal's id, and by address when there is none", async () => {
    const { app } = limitedApp({ limit: 1, windowMs: 60_000, key: 'user' }, [fakeAuth])
    expect((await get(app, '/a', '203.0.113.1', { 'x-user': 'ada' })).statusCode).toBe(200)
    // Same user from another address: still ada's budget.
    expect((await get(app, '/a', '203.0.113.2', { 'x-user': 'ada' })).statusCode).toBe(429)
    expect((await get(app, '/a', '203.0.113.2', { 'x-user': 'bob' })).statusCode).toBe(200)
    // Anonymous: per address, and a user named like an address does not share its budget.
    expect((await get(app, '/a', '203.0.113.3')).statusCode).toBe(200)
    expect((await get(app, '/a', '203.0.113.3')).statusCode).toBe(429)
    expect((await get(app, '/a', '203.0.113.4', { 'x-user': '203.0.113.3' })).statusCode).toBe(200)
  })

  it("keys 'route' by the matched route, shared by every client", async () => {
    const { app } = limitedApp({ limit: 1, windowMs: 60_000, key: 'route' })
    expect((await get(app, '/a', '203.0.113.1')).statusCode).toBe(200)
    expect((await get(app, '/a', '203.0.113.2')).statusCode).toBe(429)
    expect((await get(app, '/b', '203.0.113.2')).statusCode).toBe(200)
  })

  it('keys by a function', async () => {
    const { app } = limitedApp({
      limit: 1,
      windowMs: 60_000,
      key: (ctx) => String(ctx.headers['x-tenant'] ?? 'none'),
    })
    expect((await get(app, '/a', '203.0.113.1', { 'x-tenant': 't1' })).statusCode).toBe(200)
    expect((await get(app, '/a', '203.0.113.2', { 'x-tenant': 't1' })).statusCode).toBe(429)
    expect((await get(app, '/a', '203.0.113.1', { 'x-tenant': 't2' })).statusCode).toBe(200)
  })

  it('keeps guards with different names apart on one shared store', async () => {
    const store = new MemoryRateLimitStore()
    const { app } = testApp()
    app.get(
      '/login',
      { guards: [rateLimit({ name: 'login', limit: 1, windowMs: 60_000, store })] },
      () => 'in',
    )
    app.get(
      '/reset',
      { guards: [rateLimit({ name: 'reset', limit: 1, windowMs: 60_000, store })] },
      () => 'ok',
    )
    expect((await get(app, '/login')).statusCode).toBe(200)
    expect((await get(app, '/reset')).statusCode).toBe(200)
    expect((await get(app, '/login')).statusCode).toBe(429)
  })

  it('never limits the probes', async () => {
    const { app } = limitedApp({ limit: 1, windowMs: 60_000 })
    await get(app)
    for (let i = 0; i < 3; i++) expect((await get(app, '/live')).statusCode).toBe(200)
  })

  it('sends the headers on a real listening app', async () => {
    const { app } = limitedApp({ limit: 10, windowMs: 30_000 })
    const { url } = await app.start()
    try {
      const res = await fetch(`${url}/a`)
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-limit')).toBe('10')
      expect(res.headers.get('ratelimit-remaining')).toBe('9')
      expect(res.headers.get('ratelimit-policy')).toBe('10;w=30')
    } finally {
      await app.stop()
    }
  })

  it('lists itself in the app description', () => {
    const { app } = limitedApp({ limit: 100, windowMs: 60_000, key: 'user' })
    expect(app.describe().guards).toContainEqual({
      name: 'rateLimit',
      options: {
        limit: 100,
        windowMs: 60_000,
        key: 'user',
        name: 'user:100:60000',
        store: 'memory',
        onStoreError: 'allow',
      },
    })
  })
})

describe('rateLimit when its store fails', () => {
  const broken = (how: 'throw' | 'reject'): RateLimitStore => ({
    kind: 'broken',
    hit() {
      if (how === 'throw') throw new Error('store exploded')
      return Promise.reject(new Error('connection refused'))
    },
  })

  it('lets requests through by default and logs the failure once per interval', async () => {
    const { app, logs } = limitedApp({ limit: 1, windowMs: 60_000, store: broken('reject') })
    for (let i = 0; i < 3; i++) {
      const res = await get(app)
      expect(res.statusCode).toBe(200)
      expect(res.headers['ratelimit-limit']).toBeUndefined()
    }
    const failures = logs.records.filter((r) => String(r.msg).startsWith('rate limit store failed'))
    expect(failures).toHaveLength(1)
    expect(failures[0]).toMatchObject({ level: 'error', store: 'broken', name: 'ip:1:60000' })
    expect(JSON.stringify(failures[0])).toContain('connection refused')
  })

  it("answers 503 with onStoreError: 'reject'", async () => {
    const { app } = limitedApp({ limit: 1, windowMs: 60_000, store: broken('throw'), onStoreError: 'reject' })
    const res = await get(app)
    expect(res.statusCode).toBe(503)
    expect(res.headers['retry-after']).toBe('1')
    expect(res.json()).toMatchObject({ code: 'KEEL_RATE_LIMIT_UNAVAILABLE', status: 503 })
    expect(res.body).not.toContain('exploded')
  })

  it('lets a failing key function fail the request rather than skip the limit', async () => {
    const { app } = limitedApp({
      limit: 1,
      windowMs: 60_000,
      key: () => {
        throw new Error('bug in key function')
      },
    })
    expect((await get(app)).statusCode).toBe(500)
  })
})

describe('rateLimit options', () => {
  const code = (make: () => unknown) => {
    try {
      make()
    } catch (error) {
      return isKeelError(error) ? `${error.code}: ${error.message}` : String(error)
    }
    return 'no error'
  }

  it('rejects bad options naming the option', () => {
    expect(code(() => rateLimit({ limit: 0, windowMs: 1000 }))).toBe(
      'KEEL_GUARD_OPTIONS: rateLimit: options.limit must be an integer >= 1, got 0',
    )
    expect(code(() => rateLimit({ windowMs: 1000 } as never))).toBe(
      'KEEL_GUARD_OPTIONS: rateLimit: options.limit is required',
    )
    expect(code(() => rateLimit({ limit: 1, windowMs: 1.5 }))).toContain(
      'options.windowMs must be an integer',
    )
    expect(code(() => rateLimit({ limit: 1, windowMs: 1000, key: 'session' as never }))).toContain(
      'options.key must be "ip", "user", "route" or a function, got "session"',
    )
    expect(code(() => rateLimit({ limit: 1, windowMs: 1000, onStoreError: 'maybe' as never }))).toContain(
      'options.onStoreError must be one of "allow", "reject"',
    )
    expect(code(() => rateLimit({ limit: 1, windowMs: 1000, store: {} as never }))).toContain(
      'options.store must have a hit(key, windowMs) method',
    )
  })
})

describe('MemoryRateLimitStore', () => {
  it('keeps at most maxKeys keys, dropping the oldest first', () => {
    const store = new MemoryRateLimitStore({ maxKeys: 100 })
    for (let i = 0; i < 1000; i++) store.hit(`k${i}`, 60_000)
    expect(store.size).toBe(100)
    expect(store.evicted).toBe(900)
    // The newest keys kept their counts.
    expect(store.hit('k999', 60_000).count).toBe(2)
    expect(store.hit('k0', 60_000).count).toBe(1)
  })

  it('drops expired keys without a sweep: two idle windows empty it', () => {
    const time = clock()
    const store = new MemoryRateLimitStore({ now: time.read })
    for (let i = 0; i < 500; i++) store.hit(`k${i}`, 1000)
    expect(store.size).toBe(500)
    time.now += 1000
    store.hit('fresh', 1000)
    expect(store.size).toBe(501) // the 500 wait one more rotation in the previous generation
    time.now += 1000
    store.hit('fresh', 1000)
    expect(store.size).toBe(1)
    time.now += 5000
    store.hit('other', 1000)
    expect(store.size).toBe(1)
  })

  it('keeps a live window across a rotation', () => {
    const time = clock()
    const store = new MemoryRateLimitStore({ now: time.read })
    store.hit('x', 1000)
    time.now += 900
    expect(store.hit('y', 1000)).toEqual({ count: 1, resetMs: 1000 })
    time.now += 100 // rotation: x and y move to the previous generation
    store.hit('z', 1000)
    time.now += 800
    expect(store.hit('y', 1000)).toEqual({ count: 2, resetMs: 100 })
    time.now += 100
    expect(store.hit('y', 1000)).toEqual({ count: 1, resetMs: 1000 })
  })

  it('rejects a bad maxKeys', () => {
    expect(() => new MemoryRateLimitStore({ maxKeys: 0 })).toThrow('maxKeys must be an integer >= 1')
  })
})
