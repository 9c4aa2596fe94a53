import type { App } from 'keel/app'
import { type Guard, ipFilter, jwtAuth, openApiDocument, securityHeaders } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'
import { AUDIENCE, goodClaims, ISSUER, SECRET, secretBytes, sign } from '../auth/token-fixtures.ts'

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

async function start(...guards: Guard[]) {
  const { app } = testApp()
  app.guard(...guards)
  app.get('/orders', () => [])
  const { url } = await app.start()
  running = app
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { headers: { connection: 'close', ...headers } })
  return { app, get }
}

const docsPaths = ['/docs', '/docs/assets/swagger-ui.css', '/openapi.json']

describe('the OpenAPI routes under app-wide guards', () => {
  it('refuses the docs page, its assets and the document to an address an app-wide ipFilter denies', async () => {
    const { get } = await start(ipFilter({ deny: ['127.0.0.1'] }))
    for (const path of [...docsPaths, '/orders']) {
      const res = await get(path)
      expect({ path, status: res.status }).toEqual({ path, status: 403 })
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(((await res.json()) as { code: string }).code).toBe('KEEL_IP_DENIED')
    }
  })

  it('still answers probes and metrics to that address: they stay outside app-wide guards', async () => {
    const { get } = await start(ipFilter({ deny: ['127.0.0.1'] }))
    expect((await get('/live')).status).toBe(200)
    expect((await get('/metrics')).status).toBe(200)
  })

  it('asks for credentials on /docs and /openapi.json behind an app-wide auth guard, and serves them with a token', async () => {
    const { app, get } = await start(jwtAuth({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE }))
    for (const path of docsPaths) {
      const res = await get(path)
      expect({ path, status: res.status }).toEqual({ path, status: 401 })
      expect(res.headers.get('www-authenticate')).toBe('Bearer')
    }
    const token = await sign(goodClaims(), secretBytes(), 'HS256')
    const page = await get('/docs', { authorization: `Bearer ${token}` })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const doc = await get('/openapi.json', { authorization: `Bearer ${token}` })
    expect(await doc.json()).toEqual(openApiDocument(app.describe()))
  })

  it("keeps the page's own CSP when an app-wide securityHeaders guard sets another", async () => {
    const { get } = await start(securityHeaders())
    const page = await get('/docs')
    expect(page.status).toBe(200)
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    const api = await get('/orders')
    expect(api.headers.get('content-security-policy')).not.toBe(csp)
  })

  it('lists the app-wide guards on the docs routes when the document includes internal routes', () => {
    const { app } = testApp()
    app.guard(jwtAuth({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE }))
    const document = openApiDocument(
      {
        ...app.describe(),
        // What app.describe() gives once it passes `appGuards` through (see the docs).
        routes: app.describe().routes.map((r) => (r.path === '/docs' ? { ...r, appGuards: true } : r)),
      },
      { includeInternal: true },
    )
    const operations = document.paths as Record<string, Record<string, { security?: unknown }>>
    expect(operations['/docs']?.get?.security).toEqual([{ bearerAuth: [] }])
    expect(operations['/live']?.get?.security).toBeUndefined()
  })
})
