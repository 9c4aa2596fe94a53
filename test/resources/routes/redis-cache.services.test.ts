import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import type { App } from 'keel/app'
import { database } from 'keel/data'
import { jwtAuth } from 'keel/http'
import {
  checkResourceFiles,
  createTableSql,
  RedisResponseCache,
  type ResourceDefinition,
  type ResponseCacheOptions,
  serveResources,
} from 'keel/resources'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { goodClaims, SECRET, secretBytes, sign } from '../../http/auth/token-fixtures.ts'
import { postgresSchemas } from '../../support/postgres-schemas.ts'
import { findSamples, parsePrometheusText } from '../../support/prometheus-text.ts'
import { testApp } from '../../support/test-app.ts'

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** Every key this run creates starts with this, so runs never meet and cleanup finds them all. */
const prefix = `keel-test:cache:${randomUUID()}`
const schemas = postgresSchemas('keel_resource_cache')
let redis: Redis

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
  if (redis?.status === 'ready') {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  }
})

const tasksYaml = `
resource: tasks
version: 1
tenant: org_id
owner: owner_id
fields:
  id:         { type: integer, primary: true, generated: true }
  title:      { type: string, min: 1, max: 200, required: true }
  due:        { type: date }
  owner_id:   { type: string, required: true }
  org_id:     { type: string, required: true }
  created_at: { type: timestamp, generated: true }
  updated_at: { type: timestamp, generated: true }
endpoints:
  list:   { auth: [owner, admin], sort: [id], pagination: { style: offset, defaultLimit: 10 }, cache: { ttl: 30 } }
  get:    { auth: [owner, admin], cache: { ttl: 30 } }
  create: { auth: [member, admin], input: [title, due] }
  update: { auth: [owner, admin], input: [title, due] }
`

const blinksYaml = `
resource: blinks
version: 1
fields:
  id:   { type: integer, primary: true, generated: true }
  body: { type: text, required: true }
endpoints:
  get:    { auth: [public], cache: { ttl: 1 } }
  create: { auth: [public], input: [body] }
`

function definitions(): ResourceDefinition[] {
  const set = checkResourceFiles([
    { file: 'resources/tasks.yaml', text: tasksYaml },
    { file: 'resources/blinks.yaml', text: blinksYaml },
  ])
  expect(set.issues).toEqual([])
  return [...set.definitions]
}

type Json = Record<string, unknown>
const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

/**
 * One replica: its own app, database pool and Redis connection, on `databaseUrl` (shared
 * PostgreSQL) or PGlite. Redis is configured as a user would, with `redis.url`.
 */
async function replica(
  options: {
    databaseUrl?: string
    redisUrl?: string
    cache?: ResponseCacheOptions
    createTables?: boolean
  } = {},
) {
  const data = database({ migrations: false })
  const { app, logs } = testApp({
    modules: [data],
    overrides: {
      redis: { url: options.redisUrl ?? redisUrl },
      ...(options.databaseUrl ? { database: { url: options.databaseUrl } } : {}),
    },
  })
  const resources = definitions()
  const routes = serveResources(app, {
    database: data,
    resources,
    guards: [jwtAuth({ secret: SECRET, required: false })],
    cache: { prefix, ...options.cache },
  })
  running.push(app)
  const { url: base } = await app.start()
  if (options.createTables ?? true) {
    for (const resource of resources) await data.db.execute(createTableSql(resource).up)
  }
  const as = (claims: Json | undefined) => {
    const token = claims
      ? sign(
          goodClaims({ sub: 'alice', roles: ['member'], org_id: 'org-a', ...claims }),
          secretBytes(),
          'HS256',
        )
      : undefined
    return async (method: string, path: string, body?: unknown) => {
      const headers: Record<string, string> = {}
      if (token) headers.authorization = `Bearer ${await token}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      return {
        status: res.status,
        cache: res.headers.get('x-cache'),
        text,
        body: (text ? JSON.parse(text) : undefined) as Json,
      }
    }
  }
  const cacheSamples = async (labels: Record<string, string>) =>
    findSamples(
      parsePrometheusText(await (await fetch(`${base}/metrics`)).text()),
      'keel_resource_cache_total',
      labels,
    )
  return { app, data, logs, routes, as, cacheSamples }
}

describe('resource answer cache in Redis', () => {
  it('is chosen when redis.url is set: a write on replica B drops the answers replica A cached', async () => {
    const url = await schemas.fresh('replicas')
    const a = await replica({ databaseUrl: url })
    const b = await replica({ databaseUrl: url, createTables: false })
    expect([a.routes.cache.kind, b.routes.cache.kind]).toEqual(['redis', 'redis'])
    const aliceOnA = a.as({})
    const aliceOnB = b.as({})
    const { body: row } = await aliceOnA('POST', '/v1/tasks', { title: 'first', due: '2026-12-01' })
    expect(row.created_at).toMatch(/Z$/)

    const miss = await aliceOnA('GET', `/v1/tasks/${row.id}`)
    const hit = await aliceOnA('GET', `/v1/tasks/${row.id}`)
    const hitOnB = await aliceOnB('GET', `/v1/tasks/${row.id}`)
    expect([miss.status, hit.status, hitOnB.status]).toEqual([200, 200, 200])
    expect([miss.cache, hit.cache, hitOnB.cache]).toEqual(['miss', 'hit', 'hit'])
    // Timestamps come from PostgreSQL as Date objects: a cached answer is the same bytes as a fresh one.
    expect(hit.text).toBe(miss.text)
    expect(hitOnB.text).toBe(miss.text)
    expect(hit.body.created_at).toBe(row.created_at)
    expect(new Date(hit.body.created_at as string).toISOString()).toBe(hit.body.created_at)
    expect(hit.body.due).toBe('2026-12-01')
    const listed = await aliceOnA('GET', '/v1/tasks')
    expect((await aliceOnA('GET', '/v1/tasks')).cache).toBe('hit')
    expect(listed.body.items).toHaveLength(1)

    const changed = await aliceOnB('PATCH', `/v1/tasks/${row.id}`, { title: 'second' })
    expect(changed.status).toBe(200)
    const after = await aliceOnA('GET', `/v1/tasks/${row.id}`)
    expect(after.cache).toBe('miss')
    expect(after.body).toMatchObject({ title: 'second', created_at: row.created_at, due: '2026-12-01' })
    await aliceOnB('POST', '/v1/tasks', { title: 'another' })
    const relisted = await aliceOnA('GET', '/v1/tasks')
    expect(relisted.cache).toBe('miss')
    expect((relisted.body.items as Json[]).map((item) => item.title)).toEqual(['second', 'another'])

    // Every key lives under the prefix; answers expire, the generation counter stays.
    const keys = await redis.keys(`${prefix}:*{tasks}*`)
    expect(keys).toContain(`${prefix}:gen:{tasks}`)
    expect(await redis.get(`${prefix}:gen:{tasks}`)).toBe('3')
    for (const key of keys.filter((k) => !k.includes(':gen:'))) {
      const ttl = await redis.ttl(key)
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(30)
    }
    expect(await a.cacheSamples({ resource: 'tasks', result: 'hit' })).toEqual([
      expect.objectContaining({ value: 2 }),
    ])
    expect(await a.cacheSamples({ resource: 'tasks', result: 'miss' })).toEqual([
      expect.objectContaining({ value: 4 }),
    ])
  })

  it('lets Redis expire an answer after its TTL', async () => {
    const { as } = await replica()
    const anyone = as(undefined)
    const { body: blink } = await anyone('POST', '/v1/blinks', { body: 'now you see me' })
    expect((await anyone('GET', `/v1/blinks/${blink.id}`)).cache).toBe('miss')
    expect((await anyone('GET', `/v1/blinks/${blink.id}`)).cache).toBe('hit')
    await vi.waitFor(async () => expect((await anyone('GET', `/v1/blinks/${blink.id}`)).cache).toBe('miss'), {
      timeout: 4000,
      interval: 200,
    })
  })

  it('never gives a caller an answer cached for another owner or tenant', async () => {
    const { as } = await replica()
    const alice = as({ sub: 'alice' })
    const bob = as({ sub: 'bob' })
    const adminA = as({ sub: 'ann', roles: ['admin'] })
    const adminB = as({ sub: 'bert', roles: ['admin'], org_id: 'org-b' })
    const { body: row } = await alice('POST', '/v1/tasks', { title: "alice's" })
    await bob('POST', '/v1/tasks', { title: "bob's" })

    expect((await alice('GET', `/v1/tasks/${row.id}`)).cache).toBe('miss')
    expect((await alice('GET', `/v1/tasks/${row.id}`)).cache).toBe('hit')
    const bobReads = await bob('GET', `/v1/tasks/${row.id}`)
    expect(bobReads.status).toBe(404)
    const otherTenant = await adminB('GET', `/v1/tasks/${row.id}`)
    expect(otherTenant.status).toBe(404)

    const titles = async (caller: typeof alice) => {
      const res = await caller('GET', '/v1/tasks')
      return [res.cache, (res.body.items as Json[]).map((item) => item.title)]
    }
    expect(await titles(alice)).toEqual(['miss', ["alice's"]])
    expect(await titles(alice)).toEqual(['hit', ["alice's"]])
    expect(await titles(bob)).toEqual(['miss', ["bob's"]])
    expect(await titles(adminA)).toEqual(['miss', ["alice's", "bob's"]])
    expect(await titles(adminB)).toEqual(['miss', []])
    expect(await titles(adminB)).toEqual(['hit', []])
  })

  it('keeps the per-process cache with store: memory, even with Redis configured', async () => {
    const { routes, as } = await replica({ cache: { store: 'memory' } })
    expect(routes.cache.kind).toBe('memory')
    const anyone = as(undefined)
    const { body: blink } = await anyone('POST', '/v1/blinks', { body: 'local' })
    await anyone('GET', `/v1/blinks/${blink.id}`)
    expect((await anyone('GET', `/v1/blinks/${blink.id}`)).cache).toBe('hit')
    expect(await redis.keys(`${prefix}:{blinks}:*`)).toEqual([])
  })

  it('closes its Redis connection when the app stops', async () => {
    const { app, routes, as } = await replica()
    const anyone = as(undefined)
    const { body: blink } = await anyone('POST', '/v1/blinks', { body: 'bye' })
    expect((await anyone('GET', `/v1/blinks/${blink.id}`)).status).toBe(200)
    await app.stop()
    await expect(routes.cache.get('blinks', '', '/')).rejects.toThrow('the Redis response cache is closed')
    expect(app.describe().modules).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'resource-cache' })]),
    )
  })
})

describe('resource answer cache when Redis cannot be reached', () => {
  const deadUrl = 'redis://127.0.0.1:1'

  it('answers reads and writes from the database, warning once rather than per request', async () => {
    const { as, logs, cacheSamples } = await replica({ redisUrl: deadUrl })
    const alice = as({})
    const { body: row } = await alice('POST', '/v1/tasks', { title: 'still works', due: '2026-01-02' })
    const reads = []
    for (let i = 0; i < 3; i++) reads.push(await alice('GET', `/v1/tasks/${row.id}`))
    expect(reads.map((r) => [r.status, r.cache, r.body.title])).toEqual([
      [200, 'miss', 'still works'],
      [200, 'miss', 'still works'],
      [200, 'miss', 'still works'],
    ])
    const changed = await alice('PATCH', `/v1/tasks/${row.id}`, { title: 'changed' })
    expect(changed.status).toBe(200)
    expect((await alice('GET', `/v1/tasks/${row.id}`)).body.title).toBe('changed')

    expect(
      logs.records.find((r) => String(r.msg).startsWith('resource cache: Redis is not reachable at start')),
    ).toMatchObject({ level: 'warn' })
    const warnings = logs.records.filter(
      (r) => r.msg === 'resource cache unavailable; answering from the database',
    )
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatchObject({ level: 'warn', resource: 'tasks', store: 'redis' })
    expect(JSON.stringify(warnings[0])).toContain('Redis at redis://127.0.0.1:1 is not connected')
    const invalidation = logs.records.filter((r) =>
      String(r.msg).startsWith('resource cache invalidation failed'),
    )
    expect(invalidation.length).toBeGreaterThanOrEqual(1)
    expect(invalidation[0]).toMatchObject({ level: 'error', resource: 'tasks', store: 'redis' })
    // Three reads and one read after the write; two writes (create, update) failed to invalidate.
    expect(await cacheSamples({ resource: 'tasks', result: 'error' })).toEqual([
      expect.objectContaining({ value: 6 }),
    ])
  })

  it('a RedisResponseCache refuses a URL that is not redis:// or rediss://', () => {
    expect(() => new RedisResponseCache({ url: 'http://127.0.0.1:6379' })).toThrow(
      'RedisResponseCache: url must be a redis:// or rediss:// URL, got "http://127.0.0.1:6379"',
    )
  })
})
