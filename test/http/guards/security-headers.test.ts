import { buildSecurityHeaders, type Guard, type SecurityHeadersOptions, securityHeaders } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

function secureApp(options?: SecurityHeadersOptions) {
  const { app } = testApp()
  // Stands in for an adapter or proxy layer that announces itself before the guards run.
  const poweredBy: Guard = {
    name: 'poweredBy',
    handle: (ctx, next) => {
      ctx.header('x-powered-by', 'Express')
      return next()
    },
  }
  app.guard(poweredBy, securityHeaders(options))
  app.get('/page', () => 'hello')
  app.get('/fail', () => {
    throw new Error('boom')
  })
  return app
}

describe('securityHeaders()', () => {
  it('sets safe defaults on every response and removes X-Powered-By', async () => {
    const res = await secureApp().inject('/page')
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('hello')
    expect(res.headers).toMatchObject({
      'strict-transport-security': 'max-age=15552000; includeSubDomains',
      'content-security-policy':
        "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    })
    expect(res.headers['x-powered-by']).toBeUndefined()
  })

  it('sets them on problem responses and on unmatched paths too', async () => {
    const app = secureApp()
    const failed = await app.inject('/fail')
    expect(failed.statusCode).toBe(500)
    expect(failed.headers['x-content-type-options']).toBe('nosniff')
    const missing = await app.inject('/missing')
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['x-frame-options']).toBe('DENY')
  })

  it('merges CSP directives over the defaults, drops false ones and keeps valueless ones', async () => {
    const res = await secureApp({
      contentSecurityPolicy: {
        directives: {
          'img-src': ["'self'", 'data:'],
          'object-src': false,
          'upgrade-insecure-requests': true,
        },
      },
      frameOptions: 'SAMEORIGIN',
    }).inject('/page')
    expect(res.headers['content-security-policy']).toBe(
      "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'; img-src 'self' data:; upgrade-insecure-requests",
    )
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN')
  })

  it('sends CSP report-only when asked, and lets every header be turned off', async () => {
    const res = await secureApp({
      contentSecurityPolicy: { reportOnly: true },
      hsts: false,
      frameOptions: false,
      noSniff: false,
      referrerPolicy: false,
      crossOriginOpenerPolicy: false,
      crossOriginResourcePolicy: false,
    }).inject('/page')
    expect(res.headers['content-security-policy']).toBeUndefined()
    expect(res.headers['content-security-policy-report-only']).toBe(
      "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'",
    )
    for (const name of [
      'strict-transport-security',
      'x-frame-options',
      'x-content-type-options',
      'referrer-policy',
      'cross-origin-opener-policy',
      'cross-origin-resource-policy',
    ])
      expect(res.headers[name]).toBeUndefined()
  })

  it('builds HSTS with preload', () => {
    const headers = new Map(
      buildSecurityHeaders({ hsts: { maxAgeSeconds: 63_072_000, includeSubDomains: true, preload: true } }),
    )
    expect(headers.get('strict-transport-security')).toBe('max-age=63072000; includeSubDomains; preload')
  })

  it('builds the header list once, at construction', () => {
    const guard = securityHeaders({ referrerPolicy: 'strict-origin-when-cross-origin' })
    expect(guard.options).toMatchObject({ 'referrer-policy': 'strict-origin-when-cross-origin' })
  })

  it('rejects bad options with messages that name the option', () => {
    const bad = (options: unknown) => () => securityHeaders(options as SecurityHeadersOptions)
    expect(bad({ hsts: { preload: true } })).toThrow(
      /securityHeaders: options\.hsts\.preload requires includeSubDomains and maxAgeSeconds >= 31536000/,
    )
    expect(bad({ hsts: { maxAgeSeconds: -5 } })).toThrow(
      /options\.hsts\.maxAgeSeconds must be an integer >= 0/,
    )
    expect(bad({ hsts: 'yes' })).toThrow(/options\.hsts must be false or an object/)
    expect(bad({ frameOptions: 'ALLOW-FROM x' })).toThrow(
      /options\.frameOptions must be one of "DENY", "SAMEORIGIN", false/,
    )
    expect(bad({ referrerPolicy: 'never' })).toThrow(/options\.referrerPolicy must be one of/)
    expect(bad({ crossOriginResourcePolicy: 'anyone' })).toThrow(/options\.crossOriginResourcePolicy/)
    expect(bad({ contentSecurityPolicy: { directives: { 'script-src': "'self'; img-src *" } } })).toThrow(
      /options\.contentSecurityPolicy\.directives\["script-src"\] must be a source string/,
    )
    expect(bad({ contentSecurityPolicy: { directives: { scriptSrc: "'self'" } } })).toThrow(
      /directives\["scriptSrc"\] is not a directive name/,
    )
    expect(bad({ contentSecurityPolicy: 'strict' })).toThrow(
      /options\.contentSecurityPolicy must be false or/,
    )
    expect(bad(null)).toThrow(/securityHeaders: options must be an object/)
  })
})
