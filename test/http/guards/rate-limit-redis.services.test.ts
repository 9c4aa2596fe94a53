import { randomUUID } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { Redis } from 'ioredis'
import { type RateLimitStore, RedisRateLimitStore, rateLimit, rateLimitStore } from 'keel/http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testApp } from '../../support/test-app.ts'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Every key this run creates starts with this, so runs never meet and cleanup finds them all. */
const prefix = `keel-test:ratelimit:${randomUUID()}:`
let redis: Redis
const stores: RateLimitStore[] = []

beforeAll(async () => {
  redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 2000 })
  let lastError = ''
  redis.on('error', (error: NodeJS.ErrnoException) => {
    lastError = error.code ?? error.message
  })
  try {
    await redis.connect()
    await redis.ping()
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${redisUrl} (${lastError || (error as Error).message}); start it (../shared/services.sh redis) or set REDIS_URL`,
    )
  }
})

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close?.()))
  if (redis?.status === 'ready') {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  }
})

const store = (options: { url?: string; prefix?: string; timeoutMs?: number } = {}) => {
  const made = new RedisRateLimitStore({ url: redisUrl, prefix, ...options })
  stores.push(made)
  return made
}

/** One replica: its own app and its own connection to Redis. */
function replica(limit: number, windowMs: number, name: string) {
  const { app, logs } = testApp()
  app.guard(rateLimit({ name, limit, windowMs, store: store() }))
  app.get('/a', () => ({ ok: true }))
  return { app, logs }
}

type App = ReturnType<typeof testApp>['app']
const get = (app: App, remoteAddress = '203.0.113.7') =>
  app.inject({ method: 'GET', url: '/a', remoteAddress })

describe('rateLimit with the Redis store', () => {
  it('shares one limit between two app instances', async () => {
    const one = replica(3, 60_000, 'shared')
    const two = replica(3, 60_000, 'shared')
    const statuses = []
    const remaining = []
    for (const app of [one.app, two.app, one.app, two.app]) {
      const res = await get(app)
      statuses.push(res.statusCode)
      remaining.push(res.headers['ratelimit-remaining'])
    }
    expect(statuses).toEqual([200, 200, 200, 429])
    expect(remaining).toEqual(['2', '1', '0', '0'])
    // Another client still has its whole budget, on either replica.
    expect((await get(two.app, '198.51.100.1')).statusCode).toBe(200)
    const key = `${prefix}shared|203.0.113.7`
    expect(await redis.get(key)).toBe('4')
    const ttl = await redis.pttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_000)
  })

  it('lets Redis expire a window, after which the count starts again', async () => {
    const { app } = replica(1, 400, 'expiring')
    const key = `${prefix}expiring|203.0.113.7`
    expect((await get(app)).statusCode).toBe(200)
    const limited = await get(app)
    expect(limited.statusCode).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBe(1)
    expect(await redis.exists(key)).toBe(1)
    await vi.waitFor(async () => expect(await redis.exists(key)).toBe(0), { timeout: 3000, interval: 50 })
    const again = await get(app)
    expect(again.statusCode).toBe(200)
    expect(again.headers['ratelimit-remaining']).toBe('0')
  })

  it('works on a real listening app', async () => {
    const { app } = replica(5, 60_000, 'listening')
    const { url } = await app.start()
    try {
      const res = await fetch(`${url}/a`)
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit-remaining')).toBe('4')
      expect(res.headers.get('ratelimit-policy')).toBe('5;w=60')
    } finally {
      await app.stop()
    }
  })

  it('is what rateLimitStore picks when redis.url is set, memory otherwise', () => {
    const picked = rateLimitStore({ url: redisUrl })
    stores.push(picked)
    expect(picked.kind).toBe('redis')
    expect(rateLimitStore({}).kind).toBe('memory')
    const { app } = testApp({ env: { REDIS_URL: redisUrl } })
    const fromConfig = rateLimitStore(app.config.values.redis)
    stores.push(fromConfig)
    expect(fromConfig.kind).toBe('redis')
  })
})

describe('rateLimitStore(app)', () => {
  it('closes the Redis store when the app stops', async () => {
    const { app } = testApp({ env: { REDIS_URL: redisUrl } })
    const owned = rateLimitStore(app)
    expect(owned.kind).toBe('redis')
    app.guard(rateLimit({ limit: 5, windowMs: 60_000, store: owned, name: `owned-${Date.now()}` }))
    app.get('/a', () => ({ ok: true }))
    await app.start()
    expect((await get(app)).statusCode).toBe(200)
    await app.stop()
    await expect(owned.hit('after-stop', 1000)).rejects.toThrow('the Redis rate limit store is closed')
  })
})

describe('rateLimit when Redis cannot be reached', () => {
  const deadUrl = 'redis://127.0.0.1:1'

  it('fails open by default, logging the failure', async () => {
    const { app, logs } = testApp()
    app.guard(rateLimit({ limit: 1, windowMs: 60_000, store: store({ url: deadUrl }) }))
    app.get('/a', () => ({ ok: true }))
    for (let i = 0; i < 3; i++) expect((await get(app)).statusCode).toBe(200)
    const failure = logs.records.find((r) => String(r.msg).startsWith('rate limit store failed'))
    expect(failure).toMatchObject({ level: 'error', store: 'redis' })
    expect(JSON.stringify(failure)).toContain('Redis at redis://127.0.0.1:1 is not connected')
    expect(JSON.stringify(failure)).toContain('ECONNREFUSED')
  })

  it("fails closed with onStoreError: 'reject'", async () => {
    const { app } = testApp()
    app.guard(
      rateLimit({ limit: 1, windowMs: 60_000, store: store({ url: deadUrl }), onStoreError: 'reject' }),
    )
    app.get('/a', () => ({ ok: true }))
    const res = await get(app)
    expect(res.statusCode).toBe(503)
    expect(res.json()).toMatchObject({ code: 'KEEL_RATE_LIMIT_UNAVAILABLE' })
  })

  it('fails while the connection is down and recovers when Redis is back', async () => {
    const target = new URL(redisUrl)
    const proxy = await tcpProxy(Number(target.port || 6379), target.hostname)
    const url = `redis://127.0.0.1:${proxy.port}`
    const flaky = store({ url })
    expect((await flaky.hit('flaky', 60_000)).count).toBe(1)
    await proxy.stop()
    await expect(flaky.hit('flaky', 60_000)).rejects.toThrow()
    await proxy.restart()
    await vi.waitFor(async () => expect((await flaky.hit('flaky', 60_000)).count).toBeGreaterThan(1), {
      timeout: 5000,
      interval: 100,
    })
    await proxy.stop()
  })
})

/** A TCP proxy to Redis that the test can cut and restore, on a fixed port. */
async function tcpProxy(targetPort: number, targetHost: string) {
  const sockets = new Set<Socket>()
  let server: Server | undefined
  let port = 0
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = tcpConnect(targetPort, targetHost)
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on('close', () => sockets.delete(socket))
          socket.on('error', () => {})
        }
        client.pipe(upstream).pipe(client)
      })
      server.listen(port, '127.0.0.1', () => {
        const address = server!.address()
        port = typeof address === 'object' && address ? address.port : port
        resolve()
      })
    })
  await listen()
  return {
    get port() {
      return port
    },
    async stop() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve()))
    },
    restart: listen,
  }
}
