import { gunzipSync } from 'node:zlib'
import type { App } from 'keel/app'
import { openApiDocument } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'
import { shopApi } from './fixtures/shop-api.ts'

const swaggerVersion = (
  (await import('swagger-ui-dist/package.json', { with: { type: 'json' } })) as {
    default: { version: string }
  }
).default.version

const shop = (yaml = 'service:\n  name: shop\n  version: 1.2.3\n') => shopApi(testApp({ yaml }).app)

/** The URLs of the scripts, stylesheets and icons an HTML page loads. */
const referencedUrls = (html: string) =>
  [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!.replaceAll('&#38;', '&'))

let started: App | undefined
afterEach(async () => {
  await started?.stop()
  started = undefined
})

describe('/openapi.json', () => {
  it('serves the document of the app as JSON', async () => {
    const app = shop()
    const res = await app.inject('/openapi.json')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.json()).toEqual(openApiDocument(app.describe()))
    expect(res.body).toBe(JSON.stringify(openApiDocument(app.describe())))
  })

  it('answers 304 to a request that already has this version', async () => {
    const app = shop()
    const first = await app.inject('/openapi.json')
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"[\w-]+"$/)
    const again = await app.inject({ url: '/openapi.json', headers: { 'if-none-match': etag } })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
  })

  it('includes routes added after the first request', async () => {
    const app = shop()
    await app.inject('/openapi.json')
    app.get('/late', () => 'late')
    const res = await app.inject('/openapi.json')
    expect(Object.keys(res.json().paths)).toContain('/late')
  })

  it('is served by a listening app, and answers HEAD', async () => {
    const app = shop()
    started = app
    const { url } = await app.start()
    const res = await fetch(`${url}/openapi.json`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { info: unknown }).info).toEqual({ title: 'shop', version: '1.2.3' })
    const head = await fetch(`${url}/openapi.json`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(await head.text()).toBe('')
  })
})

describe('/docs', () => {
  it('serves an HTML page that loads Swagger UI from the app, under a strict CSP', async () => {
    const app = shop()
    const res = await app.inject('/docs')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    const csp = res.headers['content-security-policy'] as string
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("connect-src 'self'")
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['x-frame-options']).toBe('DENY')
    expect(res.body).toContain('<title>shop · API reference</title>')
    expect(res.body).toContain('data-url="/openapi.json"')
    // Nothing comes from elsewhere, and there is no inline script for the CSP to refuse.
    for (const url of referencedUrls(res.body)) expect(url).toMatch(/^\/docs\/assets\//)
    expect(res.body).not.toMatch(/<script>|<script [^>]*>[^<]/)
  })

  it('serves every file the page references, with its content type', async () => {
    const app = shop()
    const page = await app.inject('/docs')
    const urls = referencedUrls(page.body)
    expect(urls.map((u) => u.replace(/\?.*/, '').replace('/docs/assets/', ''))).toEqual([
      'swagger-ui.css',
      'index.css',
      'favicon-32x32.png',
      'favicon-16x16.png',
      'swagger-ui-bundle.js',
      'keel-docs.js',
    ])
    const types: Record<string, string> = {
      css: 'text/css; charset=utf-8',
      js: 'text/javascript; charset=utf-8',
      png: 'image/png',
    }
    for (const url of urls) {
      const res = await app.inject(url)
      expect(res.statusCode, url).toBe(200)
      expect(res.headers['content-type'], url).toBe(types[url.replace(/\?.*/, '').split('.').pop()!])
      expect(res.rawPayload.length, url).toBeGreaterThan(0)
      expect(res.headers['cache-control'], url).toBe('public, max-age=31536000, immutable')
    }
    const init = await app.inject(urls.find((u) => u.includes('keel-docs.js'))!)
    expect(init.body).toContain('SwaggerUIBundle(')
    expect(init.body).toContain('validatorUrl: null')
    const bundle = await app.inject(urls.find((u) => u.includes('swagger-ui-bundle.js'))!)
    expect(bundle.body).toContain('SwaggerUIBundle')
  })

  it('puts the package version in asset URLs so they can be cached for good', async () => {
    const app = shop()
    const page = await app.inject('/docs')
    expect(page.body).toContain(`swagger-ui-bundle.js?v=${swaggerVersion}`)
    const unversioned = await app.inject('/docs/assets/swagger-ui.css')
    expect(unversioned.headers['cache-control']).toBe('no-cache')
  })

  it('gzips text assets for clients that accept it', async () => {
    const app = shop()
    const plain = await app.inject('/docs/assets/swagger-ui.css')
    const zipped = await app.inject({
      url: '/docs/assets/swagger-ui.css',
      headers: { 'accept-encoding': 'br, gzip;q=0.8' },
    })
    expect(zipped.headers['content-encoding']).toBe('gzip')
    expect(zipped.headers.vary).toBe('accept-encoding')
    expect(zipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3)
    expect(gunzipSync(zipped.rawPayload).equals(plain.rawPayload)).toBe(true)
    const refused = await app.inject({
      url: '/docs/assets/swagger-ui.css',
      headers: { 'accept-encoding': 'gzip;q=0' },
    })
    expect(refused.headers['content-encoding']).toBeUndefined()
  })

  it('answers 304 for an asset the browser has', async () => {
    const app = shop()
    const first = await app.inject('/docs/assets/keel-docs.js')
    const again = await app.inject({
      url: '/docs/assets/keel-docs.js',
      headers: { 'if-none-match': first.headers.etag as string },
    })
    expect(again.statusCode).toBe(304)
  })

  it('serves nothing else from the package: other names and traversal get a 404 problem', async () => {
    const app = shop()
    for (const url of [
      '/docs/assets/package.json',
      '/docs/assets/index.html',
      '/docs/assets/../../package.json',
      '/docs/assets/%2e%2e%2fpackage.json',
      '/docs/assets/',
    ]) {
      const res = await app.inject(url)
      expect(res.statusCode, url).toBe(404)
      expect(res.headers['content-type'], url).toBe('application/problem+json')
    }
  })

  it('loads the page and all its assets from a listening app', async () => {
    const app = shop()
    started = app
    const { url } = await app.start()
    const page = await fetch(`${url}/docs`)
    expect(page.status).toBe(200)
    for (const asset of referencedUrls(await page.text())) {
      const res = await fetch(url + asset)
      expect(res.status, asset).toBe(200)
      await res.arrayBuffer()
    }
  })
})

describe('the openapi config section', () => {
  it('moves the document and the page, and sets their title', async () => {
    const app = shop(
      'service:\n  name: shop\nopenapi:\n  path: /api/spec.json\n  docsPath: /reference\n  title: Shop API\n',
    )
    const spec = await app.inject('/api/spec.json')
    expect(spec.statusCode).toBe(200)
    expect(spec.json().info.title).toBe('Shop API')
    const page = await app.inject('/reference')
    expect(page.body).toContain('<title>Shop API · API reference</title>')
    expect(page.body).toContain('data-url="/api/spec.json"')
    expect(page.body).toContain('/reference/assets/swagger-ui-bundle.js')
    expect((await app.inject('/reference/assets/keel-docs.js')).statusCode).toBe(200)
    expect((await app.inject('/openapi.json')).statusCode).toBe(404)
    expect((await app.inject('/docs')).statusCode).toBe(404)
  })

  it('turns the docs page off, or both off', async () => {
    const noDocs = shop('openapi:\n  docs: false\n')
    expect((await noDocs.inject('/openapi.json')).statusCode).toBe(200)
    expect((await noDocs.inject('/docs')).statusCode).toBe(404)
    expect((await noDocs.inject('/docs/assets/keel-docs.js')).statusCode).toBe(404)
    const off = shop('openapi:\n  enabled: false\n')
    expect((await off.inject('/openapi.json')).statusCode).toBe(404)
    expect((await off.inject('/docs')).statusCode).toBe(404)
  })

  it('leaves /docs free for the app when the page is off', () => {
    const { app } = testApp({ yaml: 'openapi:\n  docs: false\n' })
    expect(() => app.get('/docs', () => 'mine')).not.toThrow()
  })

  it('refuses a docs path equal to the document path, or one ending in a slash', () => {
    expect(() => testApp({ yaml: 'openapi:\n  path: /docs\n' })).toThrow(
      /openapi\.docsPath: must differ from openapi\.path/,
    )
    expect(() => testApp({ yaml: 'openapi:\n  docsPath: /docs/\n' })).toThrow(/openapi\.docsPath/)
  })
})
