import { type RequestIdOptions, requestId } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

function idApp(options?: RequestIdOptions) {
  const { app, logs } = testApp()
  if (options) app.guard(requestId(options))
  app.get('/id', (ctx) => ({ id: ctx.requestId }))
  app.get('/fail', () => {
    throw new Error('boom')
  })
  return { app, logs }
}

describe('requestId()', () => {
  it('without the guard, the kernel honours a safe X-Request-Id and mints a UUID otherwise', async () => {
    const { app } = idApp()
    const honoured = await app.inject({ url: '/id', headers: { 'x-request-id': 'abc-123' } })
    expect(honoured.json()).toEqual({ id: 'abc-123' })
    expect(honoured.headers['x-request-id']).toBe('abc-123')
    const unsafe = await app.inject({ url: '/id', headers: { 'x-request-id': 'a b<script>' } })
    expect(unsafe.json().id).toMatch(uuid)
  })

  it('mints version-8 UUIDs: RFC 9562 variant, distinct, one random prefix per process', async () => {
    const { app } = idApp()
    const ids: string[] = []
    for (let i = 0; i < 20; i++) ids.push((await app.inject({ url: '/id' })).json().id)
    expect(new Set(ids).size).toBe(20)
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(ids.map((id) => id.slice(0, 24))).size).toBe(1)
    const counters = ids.map((id) => Number.parseInt(id.slice(24), 16))
    expect(counters.every((n, i) => i === 0 || n > counters[i - 1]!)).toBe(true)
  })

  it('reads and echoes a custom header, and the id reaches problems and log lines', async () => {
    const { app, logs } = idApp({ header: 'X-Correlation-Id' })
    const res = await app.inject({ url: '/fail', headers: { 'x-correlation-id': 'corr-1' } })
    expect(res.headers['x-correlation-id']).toBe('corr-1')
    expect(res.headers['x-request-id']).toBeUndefined()
    expect(res.json().requestId).toBe('corr-1')
    const line = logs.records.find((r) => r.msg === 'request completed' && r.url === '/fail')
    expect(line?.request_id).toBe('corr-1')
    // The old header is just another header now.
    const other = await app.inject({ url: '/id', headers: { 'x-request-id': 'ignored' } })
    expect(other.json().id).toMatch(uuid)
  })

  it('uses a custom generator, and ignores incoming ids when told not to trust them', async () => {
    let n = 0
    const { app } = idApp({ generate: () => `req-${++n}`, trustIncoming: false })
    const first = await app.inject({ url: '/id', headers: { 'x-request-id': 'from-client' } })
    expect(first.json()).toEqual({ id: 'req-1' })
    expect(first.headers['x-request-id']).toBe('req-1')
    expect((await app.inject('/id')).json()).toEqual({ id: 'req-2' })
  })

  it('replaces an unsafe generated id by a UUID rather than break the response', async () => {
    const { app } = idApp({ generate: () => 'bad\r\nid' })
    const res = await app.inject('/id')
    expect(res.statusCode).toBe(200)
    expect(res.json().id).toMatch(uuid)
  })

  it('costs nothing per request: the server takes it out of the guard chain', async () => {
    const { app } = idApp({ header: 'x-trace' })
    expect(app.describe().guards).toEqual([
      { name: 'requestId', options: { header: 'x-trace', trustIncoming: true, generate: 'uuid' } },
    ])
    expect((await app.inject('/id')).statusCode).toBe(200)
  })

  it('fails loudly when used on a group instead of app-wide', async () => {
    const { app, logs } = testApp()
    app.group('/api', { guards: [requestId()] }, (api) => {
      api.get('/id', (ctx) => ctx.requestId)
    })
    const res = await app.inject('/api/id')
    expect(res.statusCode).toBe(500)
    const failure = logs.records.find((r) => r.msg === 'request failed')
    expect(JSON.stringify(failure)).toContain('KEEL_GUARD_PLACEMENT')
    expect(JSON.stringify(failure)).toContain('app.guard(requestId(…))')
  })

  it('rejects bad options', () => {
    const bad = (options: unknown) => () => requestId(options as RequestIdOptions)
    expect(bad({ header: 'x id' })).toThrow(/requestId: options\.header must be a header name/)
    expect(bad({ generate: 'uuid' })).toThrow(/requestId: options\.generate must be a function/)
    expect(bad({ trustIncoming: 'no' })).toThrow(/options\.trustIncoming must be true or false/)
  })
})
