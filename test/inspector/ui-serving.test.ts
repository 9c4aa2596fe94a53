import { createHash } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import type { App } from 'keel/app'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UiAssets } from '../../src/inspector/ui-assets.ts'
import { inspectorUiRoutes } from '../../src/inspector/ui-routes.ts'
import { testApp } from '../support/test-app.ts'
import { fixtureApp, problemOf } from './support/fixture-app.ts'

const ui = '/_keel/inspector'

/** The import map of the page, and its exact text (what the CSP hash covers). */
function importMapOf(html: string): { text: string; imports: Record<string, string> } {
  const match = /<script type="importmap">([^<]*)<\/script>/.exec(html)
  if (!match) throw new Error(`no import map in the page:\n${html}`)
  return { text: match[1]!, imports: (JSON.parse(match[1]!) as { imports: Record<string, string> }).imports }
}

/** Module specifiers a UI module imports: `from '…'` and side-effect `import '…'`. */
function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:from|import)\s*'([^']+)'/g)].map((m) => m[1]!)
}

describe('the inspector UI files (dev profile)', () => {
  let app: App
  let url: string
  const assets = new UiAssets()

  beforeAll(async () => {
    ;({ app } = fixtureApp())
    url = (await app.start()).url
  })
  afterAll(async () => {
    await app.stop()
  })

  it('serves the page with a strict CSP that allows exactly its import map by hash', async () => {
    const res = await fetch(`${url}${ui}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    const html = await res.text()
    const { text } = importMapOf(html)
    const hash = createHash('sha256').update(text).digest('base64')
    const csp = res.headers.get('content-security-policy')!
    expect(csp.split('; ')).toEqual([
      "default-src 'none'",
      `script-src 'self' 'sha256-${hash}'`,
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ])
    // The import map is the only inline script; the entry module is a file.
    expect([...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0])).toEqual([
      '<script type="importmap">',
      `<script type="module" src="${ui}/ui/app.js">`,
    ])
    expect(html).toContain(`data-base="${ui}"`)
    // Without a trailing slash too (absolute URLs inside, so both work).
    expect((await fetch(`${url}${ui}`)).status).toBe(200)
  })

  it('maps preact, preact/hooks and htm to the installed packages, each served as JavaScript', async () => {
    const { imports } = importMapOf(await (await fetch(`${url}${ui}/`)).text())
    expect(Object.keys(imports).sort()).toEqual(['htm', 'preact', 'preact/hooks'])
    const preactVersion = (await import('preact/package.json', { with: { type: 'json' } })).default.version
    expect(imports.preact).toBe(`${ui}/vendor/preact.module.js?v=${preactVersion}`)
    for (const [specifier, address] of Object.entries(imports)) {
      const res = await fetch(`${url}${address}`)
      expect(res.status, specifier).toBe(200)
      expect(res.headers.get('content-type'), specifier).toBe('text/javascript; charset=utf-8')
      // Versioned URLs never change what they name.
      expect(res.headers.get('cache-control'), specifier).toBe('public, max-age=31536000, immutable')
      expect(await res.text(), specifier).toMatch(/\bexport\b/)
    }
  })

  it('serves every UI module and the stylesheet with its content type, and their imports all resolve', async () => {
    const names = await assets.uiNames()
    expect(names).toEqual(expect.arrayContaining(['app.js', 'inspector.css', 'views/traces.js']))
    const { imports } = importMapOf(await (await fetch(`${url}${ui}/`)).text())
    for (const name of names) {
      const res = await fetch(`${url}${ui}/ui/${name}`)
      expect(res.status, name).toBe(200)
      const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8'
      expect(res.headers.get('content-type'), name).toBe(type)
      expect(res.headers.get('cache-control'), name).toBe('no-cache')
      if (!name.endsWith('.js')) continue
      // Every import of a UI module is another served UI file or an import map entry.
      for (const specifier of importsOf(await res.text())) {
        if (specifier.startsWith('.')) {
          const target = new URL(specifier, `http://x${ui}/ui/${name}`).pathname.slice(`${ui}/ui/`.length)
          expect(names, `${name} imports ${specifier}`).toContain(target)
        } else {
          expect(Object.keys(imports), `${name} imports ${specifier}`).toContain(specifier)
        }
      }
    }
  })

  it('answers 304 to a matching If-None-Match and gzips when asked', async () => {
    const first = await fetch(`${url}${ui}/ui/app.js`)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/)
    const body = await first.text()
    const again = await fetch(`${url}${ui}/ui/app.js`, { headers: { 'if-none-match': etag } })
    expect(again.status).toBe(304)
    const page = await fetch(`${url}${ui}/`)
    const pageAgain = await fetch(`${url}${ui}/`, { headers: { 'if-none-match': page.headers.get('etag')! } })
    expect(pageAgain.status).toBe(304)
    // fetch() decompresses on its own: ask through node:http-like raw bytes instead.
    const raw = await app.inject({
      method: 'GET',
      url: `${ui}/ui/app.js`,
      headers: { 'accept-encoding': 'gzip' },
    })
    expect(raw.headers['content-encoding']).toBe('gzip')
    expect(raw.headers.vary).toBe('accept-encoding')
    expect(gunzipSync(raw.rawPayload).toString()).toBe(body)
    const plain = await app.inject({
      method: 'GET',
      url: `${ui}/ui/app.js`,
      headers: { 'accept-encoding': 'identity' },
    })
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.payload).toBe(body)
  })

  it('serves nothing but its own files: unknown names, other types and paths out of the folder are 404', async () => {
    for (const path of [
      '/ui/nope.js',
      '/ui/../api-routes.ts',
      '/ui/%2e%2e/api-routes.ts',
      '/ui/..%2fapi-routes.ts',
      '/vendor/preact.js',
      '/vendor/package.json',
      '/vendor/../../package.json',
    ]) {
      const res = await fetch(`${url}${ui}${path}`)
      expect([400, 404], path).toContain(res.status)
      expect(res.headers.get('content-type'), path).toBe('application/problem+json')
    }
  })

  it('serves an unversioned or stale vendor URL with revalidation, not for a year', async () => {
    for (const query of ['', '?v=0.0.1']) {
      const res = await fetch(`${url}${ui}/vendor/htm.module.js${query}`)
      expect(res.status).toBe(200)
      expect(res.headers.get('cache-control')).toBe('no-cache')
    }
  })

  it('is internal like the API: not traced, not in the app routes the inspector lists', async () => {
    const routes = app.describe().routes.filter((r) => r.path.startsWith(`${ui}/ui`) || r.path === ui)
    expect(routes.map((r) => r.path).sort()).toEqual([ui, `${ui}/ui/*`])
    for (const route of routes) expect(route.internal).toBe(true)
    expect((await fetch(`${url}/items/1`)).status).toBe(200)
    for (const path of ['/', '/ui/app.js', '/vendor/htm.module.js'])
      await (await fetch(`${url}${ui}${path}`)).text()
    const listed = (await (await fetch(`${url}${ui}/v1/traces`)).json()) as {
      traces: { name: string; route?: string }[]
    }
    // (Requests that matched no route, like the 404s above, are traced as the app's own.)
    expect(listed.traces[0]).toMatchObject({ name: 'GET /items/:id' })
    expect(listed.traces.filter((t) => t.route?.startsWith(ui))).toEqual([])
    const appRoutes = (await (await fetch(`${url}${ui}/v1/routes`)).json()) as { routes: { path: string }[] }
    expect(appRoutes.routes.some((r) => r.path.startsWith(ui))).toBe(false)
  })
})

describe('the inspector UI in the prod profile', () => {
  const { app } = fixtureApp({
    profile: 'prod',
    yaml: 'inspector:\n  enabled: true\n  tokens:\n    viewer:\n      - viewer-token-0123456789\n',
  })
  let url: string
  beforeAll(async () => {
    url = (await app.start()).url
  })
  afterAll(async () => {
    await app.stop()
  })

  it('loads the page and its files without a token, while the API refuses', async () => {
    const page = await fetch(`${url}${ui}/`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<script type="module"')
    expect((await fetch(`${url}${ui}/ui/app.js`)).status).toBe(200)
    expect((await problemOf(await fetch(`${url}${ui}/v1/routes`), 401)).code).toBe('KEEL_UNAUTHORIZED')
    const allowed = await fetch(`${url}${ui}/v1/routes`, {
      headers: { authorization: 'Bearer viewer-token-0123456789' },
    })
    expect(allowed.status).toBe(200)
  })
})

describe('the inspector UI without its files', () => {
  it('answers the page with a 404 problem naming where the API is', async () => {
    const { app } = testApp()
    for (const route of inspectorUiRoutes({
      prefix: '/inspect',
      title: () => 'x',
      assets: new UiAssets('/nonexistent/keel/ui/'),
    }))
      app.route(route)
    const res = await app.inject({ method: 'GET', url: '/inspect' })
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'KEEL_NOT_FOUND' })
    expect(res.json().detail).toContain('/inspect/v1')
  })
})
