import { isKeelError } from 'keel/errors'
import { type CorsOptions, cors } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { parsePrometheusText } from '../../support/prometheus-text.ts'
import { testApp } from '../../support/test-app.ts'
import { seriesOf } from '../scrape.ts'

const site = 'https://app.example.com'

function corsApp(options: CorsOptions) {
  const { app } = testApp()
  app.guard(cors(options))
  app.get('/items', () => ({ items: [1, 2] }))
  app.post('/items', () => {
    throw new Error('boom')
  })
  return app
}

const preflight = (origin: string, extra: Record<string, string> = {}) => ({
  method: 'OPTIONS' as const,
  url: '/items',
  headers: { origin, 'access-control-request-method': 'POST', ...extra },
})

describe('cors()', () => {
  it('answers a preflight from an allowed origin with 204, though no OPTIONS route exists', async () => {
    const app = corsApp({
      origins: [site],
      credentials: true,
      maxAgeSeconds: 3600,
      exposedHeaders: ['X-Total'],
    })
    const res = await app.inject(
      preflight(site, { 'access-control-request-headers': 'content-type, x-tenant' }),
    )
    expect(res.statusCode).toBe(204)
    expect(res.body).toBe('')
    expect(res.headers['access-control-allow-origin']).toBe(site)
    expect(res.headers['access-control-allow-credentials']).toBe('true')
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, PUT, PATCH, POST, DELETE')
    expect(res.headers['access-control-allow-headers']).toBe('content-type, x-tenant')
    expect(res.headers['access-control-max-age']).toBe('3600')
    expect(res.headers.vary).toBe('Origin, Access-Control-Request-Headers')
    // Exposed headers belong to actual responses, not preflights.
    expect(res.headers['access-control-expose-headers']).toBeUndefined()
  })

  it('answers preflights for paths that have no route at all', async () => {
    const app = corsApp({ origins: [site] })
    const res = await app.inject({ ...preflight(site), url: '/nowhere' })
    expect(res.statusCode).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe(site)
  })

  it('lists configured allowed headers instead of echoing the request', async () => {
    const app = corsApp({
      origins: [site],
      allowedHeaders: ['Content-Type', 'Authorization'],
      methods: ['get', 'post'],
    })
    const res = await app.inject(preflight(site, { 'access-control-request-headers': 'x-evil' }))
    expect(res.headers['access-control-allow-headers']).toBe('Content-Type, Authorization')
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST')
    expect(res.headers.vary).toBe('Origin')
  })

  it('adds CORS headers and Vary: Origin to an actual request from an allowed origin', async () => {
    const app = corsApp({ origins: [site], exposedHeaders: ['X-Total'] })
    const res = await app.inject({ url: '/items', headers: { origin: site } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ items: [1, 2] })
    expect(res.headers['access-control-allow-origin']).toBe(site)
    expect(res.headers['access-control-expose-headers']).toBe('X-Total')
    expect(res.headers['access-control-allow-credentials']).toBeUndefined()
    expect(res.headers.vary).toBe('Origin')
  })

  it('keeps CORS headers on error responses, so the page can read the problem', async () => {
    const app = corsApp({ origins: [site] })
    const res = await app.inject({ method: 'POST', url: '/items', headers: { origin: site } })
    expect(res.statusCode).toBe(500)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['access-control-allow-origin']).toBe(site)
  })

  it('gives a disallowed origin no CORS headers and no 403: the browser blocks it', async () => {
    const app = corsApp({ origins: [site], credentials: true })
    const actual = await app.inject({ url: '/items', headers: { origin: 'https://evil.example' } })
    expect(actual.statusCode).toBe(200)
    expect(actual.headers['access-control-allow-origin']).toBeUndefined()
    expect(actual.headers['access-control-allow-credentials']).toBeUndefined()
    expect(actual.headers.vary).toBe('Origin')
    const pre = await app.inject(preflight('https://evil.example'))
    expect(pre.headers['access-control-allow-origin']).toBeUndefined()
    expect(pre.headers['access-control-allow-methods']).toBeUndefined()
    // No CORS answer: the request goes on as a plain OPTIONS, which this path does not allow.
    expect(pre.statusCode).toBe(405)
  })

  it('does not treat a plain OPTIONS (no Access-Control-Request-Method) as a preflight', async () => {
    const app = corsApp({ origins: [site] })
    const res = await app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: site } })
    expect(res.statusCode).toBe(405)
    expect(res.headers['access-control-allow-methods']).toBeUndefined()
  })

  it('says Vary: Origin even to requests without an Origin header', async () => {
    const app = corsApp({ origins: [site] })
    const res = await app.inject('/items')
    expect(res.headers.vary).toBe('Origin')
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('accepts origins by predicate', async () => {
    const app = corsApp({ origins: (origin) => origin.endsWith('.example.com') })
    const ok = await app.inject({ url: '/items', headers: { origin: 'https://a.example.com' } })
    expect(ok.headers['access-control-allow-origin']).toBe('https://a.example.com')
    const no = await app.inject({ url: '/items', headers: { origin: 'https://example.org' } })
    expect(no.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('answers "*" for a wildcard without credentials, with no Vary', async () => {
    const app = corsApp({ origins: '*' })
    const res = await app.inject({ url: '/items', headers: { origin: 'https://anyone.example' } })
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.headers.vary).toBeUndefined()
  })

  it('refuses a wildcard origin with credentials at construction, naming the option', () => {
    const make = () => cors({ origins: '*', credentials: true })
    expect(make).toThrow(/cors: options\.credentials cannot be true while options\.origins is "\*"/)
    try {
      make()
    } catch (error) {
      expect(isKeelError(error) && error.code).toBe('KEEL_GUARD_OPTIONS')
    }
  })

  it('rejects bad options with messages that name the option', () => {
    const bad = (options: unknown) => () => cors(options as CorsOptions)
    expect(bad({ origins: [] })).toThrow(/options\.origins must be "\*", a non-empty list/)
    expect(bad({})).toThrow(/options\.origins/)
    expect(bad({ origins: ['https://a.example.com', '*'] })).toThrow(
      /options\.origins\[1\] is "\*" inside a list/,
    )
    expect(bad({ origins: ['https://App.Example.com'] })).toThrow(
      /options\.origins\[0\] must be written as the browser sends it: "https:\/\/app\.example\.com"/,
    )
    expect(bad({ origins: ['https://a.example.com/path'] })).toThrow(/origins\[0\] must be written as/)
    expect(bad({ origins: ['*.example.com'] })).toThrow(/origins\[0\] must be an origin.*predicate/)
    expect(bad({ origins: [site], maxAgeSeconds: -1 })).toThrow(
      /options\.maxAgeSeconds must be an integer >= 0/,
    )
    expect(bad({ origins: [site], allowedHeaders: ['bad header'] })).toThrow(/options\.allowedHeaders\[0\]/)
    expect(bad({ origins: [site], credentials: 'yes' })).toThrow(/options\.credentials must be true or false/)
    expect(bad(undefined)).toThrow(/cors: options must be an object/)
  })

  it('describes itself in the app description', () => {
    const { app } = testApp()
    app.guard(cors({ origins: [site], credentials: true }))
    expect(app.describe().guards).toEqual([
      {
        name: 'cors',
        options: {
          origins: [site],
          methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE'],
          allowedHeaders: 'as requested',
          exposedHeaders: [],
          credentials: true,
          maxAgeSeconds: 600,
        },
      },
    ])
  })
})

describe('cors() metrics', () => {
  it('counts allowed, preflight, refused and origin-less requests', async () => {
    const app = corsApp({ origins: [site] })
    await app.inject(preflight(site))
    await app.inject({ method: 'GET', url: '/items', headers: { origin: site } })
    await app.inject({ method: 'GET', url: '/items', headers: { origin: site } })
    await app.inject({ method: 'GET', url: '/items', headers: { origin: 'https://evil.example' } })
    await app.inject(preflight('https://evil.example'))
    await app.inject({ method: 'GET', url: '/items' })
    expect(seriesOf(parsePrometheusText(await app.metrics.render()), 'keel_cors_requests_total')).toEqual({
      'outcome=allowed': 2,
      'outcome=preflight': 1,
      'outcome=refused': 2,
      'outcome=no_origin': 1,
    })
  })
})
