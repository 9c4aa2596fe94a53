import { mkdirSync, mkdtempSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib'
import type { App } from 'keel/app'
import { type StaticOptions, serveStatic } from 'keel/http'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { httpRequest, rawGet } from '../support/raw-http.ts'
import { testApp } from '../support/test-app.ts'

const SECRET = 'TOP SECRET OUTSIDE THE ROOT'
const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256))
const bigText = 'All work and no play makes Jack a dull boy.\n'.repeat(200)
const mtime = new Date('2024-03-01T12:00:00Z')

/** base/public is the root; base/outside and base/public-evil sit beside it and must stay unreachable. */
let base: string
let root: string

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'keel-static-'))
  root = join(base, 'public')
  mkdirSync(join(root, 'css'), { recursive: true })
  mkdirSync(join(root, 'guide'))
  mkdirSync(join(root, 'assets'))
  mkdirSync(join(base, 'outside'))
  mkdirSync(join(base, 'public-evil'))
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET)
  writeFileSync(join(base, 'public-evil', 'secret.txt'), SECRET)
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>app</title>')
  writeFileSync(join(root, 'guide', 'index.html'), '<h1>guide</h1>')
  writeFileSync(join(root, 'css', 'site.css'), 'body { color: red }')
  writeFileSync(join(root, 'assets', 'app.3f9a1c2b.js'), 'console.log(1)')
  writeFileSync(join(root, 'data.bin'), bytes)
  writeFileSync(join(root, 'empty.txt'), '')
  writeFileSync(join(root, 'model.glb'), 'glTF')
  writeFileSync(join(root, 'blob.unknownext'), 'x')
  writeFileSync(join(root, 'big.txt'), bigText)
  writeFileSync(join(root, 'big.txt.br'), brotliCompressSync(bigText))
  writeFileSync(join(root, 'big.txt.gz'), gzipSync(bigText))
  writeFileSync(join(root, '.env'), `PASSWORD=${SECRET}`)
  symlinkSync(join(base, 'outside', 'secret.txt'), join(root, 'link-out.txt'))
  symlinkSync(join(base, 'outside'), join(root, 'dir-out'))
  symlinkSync(join(root, 'css', 'site.css'), join(root, 'link-in.css'))
  utimesSync(join(root, 'data.bin'), mtime, mtime)
})

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

async function serve(options: Partial<StaticOptions> = {}, more?: (app: App) => void) {
  const { app } = testApp()
  more?.(app)
  app.route(serveStatic({ root, ...options }))
  const address = await app.start()
  running = app
  return { url: address.url, port: address.port }
}

describe('static files', () => {
  it('serves a file with its type, length, validators, cache policy and Accept-Ranges', async () => {
    const { url } = await serve()
    const res = await httpRequest(`${url}/css/site.css`)
    expect(res.status).toBe(200)
    expect(res.text).toBe('body { color: red }')
    expect(res.headers['content-type']).toBe('text/css; charset=utf-8')
    expect(res.headers['content-length']).toBe('19')
    expect(res.headers.etag).toMatch(/^W\/"13-[0-9a-f]+"$/)
    expect(res.headers['last-modified']).toBeDefined()
    expect(res.headers['cache-control']).toBe('no-cache')
    expect(res.headers['accept-ranges']).toBe('bytes')
    expect(res.headers['x-request-id']).toBeDefined()
  })

  it('names types from a built-in map, extendable by option, octet-stream otherwise', async () => {
    const { url } = await serve({ mimeTypes: { glb: 'model/gltf-binary' } })
    expect((await httpRequest(`${url}/assets/app.3f9a1c2b.js`)).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    )
    expect((await httpRequest(`${url}/data.bin`)).headers['content-type']).toBe('application/octet-stream')
    expect((await httpRequest(`${url}/model.glb`)).headers['content-type']).toBe('model/gltf-binary')
    expect((await httpRequest(`${url}/blob.unknownext`)).headers['content-type']).toBe(
      'application/octet-stream',
    )
    const empty = await httpRequest(`${url}/empty.txt`)
    expect(empty.status).toBe(200)
    expect(empty.headers['content-length']).toBe('0')
    expect(empty.headers['content-type']).toBe('text/plain; charset=utf-8')
  })

  it('answers 304 to a matching If-None-Match or an unchanged If-Modified-Since', async () => {
    const { url } = await serve()
    const first = await httpRequest(`${url}/data.bin`)
    const etag = first.headers.etag as string
    expect(first.headers['last-modified']).toBe(mtime.toUTCString())

    const byTag = await httpRequest(`${url}/data.bin`, { headers: { 'if-none-match': `"x", ${etag}` } })
    expect(byTag.status).toBe(304)
    expect(byTag.body.length).toBe(0)
    expect(byTag.headers.etag).toBe(etag)
    expect(byTag.headers['cache-control']).toBe('no-cache')

    const byDate = await httpRequest(`${url}/data.bin`, {
      headers: { 'if-modified-since': mtime.toUTCString() },
    })
    expect(byDate.status).toBe(304)

    const older = await httpRequest(`${url}/data.bin`, {
      headers: { 'if-modified-since': new Date('2020-01-01').toUTCString() },
    })
    expect(older.status).toBe(200)
    // If-None-Match decides when present, even if the date alone would say "not modified".
    const otherTag = await httpRequest(`${url}/data.bin`, {
      headers: { 'if-none-match': 'W/"other"', 'if-modified-since': mtime.toUTCString() },
    })
    expect(otherTag.status).toBe(200)
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    const { url } = await serve()
    const res = await httpRequest(`${url}/data.bin`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers['content-length']).toBe('1000')
    expect(res.headers.etag).toBeDefined()
    expect(res.body.length).toBe(0)
  })

  it('serves a single byte range with 206 and Content-Range', async () => {
    const { url } = await serve()
    const first = await httpRequest(`${url}/data.bin`, { headers: { range: 'bytes=10-19' } })
    expect(first.status).toBe(206)
    expect(first.headers['content-range']).toBe('bytes 10-19/1000')
    expect(first.headers['content-length']).toBe('10')
    expect(first.body).toEqual(bytes.subarray(10, 20))

    const suffix = await httpRequest(`${url}/data.bin`, { headers: { range: 'bytes=-5' } })
    expect(suffix.headers['content-range']).toBe('bytes 995-999/1000')
    expect(suffix.body).toEqual(bytes.subarray(995))

    const open = await httpRequest(`${url}/data.bin`, { headers: { range: 'bytes=990-5000' } })
    expect(open.headers['content-range']).toBe('bytes 990-999/1000')
    expect(open.body).toEqual(bytes.subarray(990))
  })

  it('answers an unsatisfiable range with a 416 problem naming the size', async () => {
    const { url } = await serve()
    const res = await httpRequest(`${url}/data.bin`, { headers: { range: 'bytes=1000-' } })
    expect(res.status).toBe(416)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['content-range']).toBe('bytes */1000')
    expect(JSON.parse(res.text)).toMatchObject({
      status: 416,
      code: 'KEEL_RANGE_NOT_SATISFIABLE',
      title: 'Range Not Satisfiable',
    })
  })

  it('sends the whole file for multiple ranges, malformed ranges and a stale If-Range', async () => {
    const { url } = await serve()
    for (const range of ['bytes=0-1,5-6', 'bytes=abc', 'items=0-5', 'bytes=9-2']) {
      const res = await httpRequest(`${url}/data.bin`, { headers: { range } })
      expect(res.status, range).toBe(200)
      expect(res.body.length).toBe(1000)
    }
    const stale = await httpRequest(`${url}/data.bin`, {
      headers: { range: 'bytes=0-9', 'if-range': new Date('2020-01-01').toUTCString() },
    })
    expect(stale.status).toBe(200)
    const fresh = await httpRequest(`${url}/data.bin`, {
      headers: { range: 'bytes=0-9', 'if-range': mtime.toUTCString() },
    })
    expect(fresh.status).toBe(206)
  })

  it('picks a precompressed sibling by Accept-Encoding, Brotli first, and varies on it', async () => {
    const { url } = await serve({ precompressed: true })
    const br = await httpRequest(`${url}/big.txt`, { headers: { 'accept-encoding': 'gzip, deflate, br' } })
    expect(br.headers['content-encoding']).toBe('br')
    expect(br.headers.vary).toBe('Accept-Encoding')
    expect(br.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(brotliDecompressSync(br.body).toString()).toBe(bigText)

    const gz = await httpRequest(`${url}/big.txt`, { headers: { 'accept-encoding': 'gzip, br;q=0' } })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(gz.body).toString()).toBe(bigText)
    expect(gz.headers.etag).not.toBe(br.headers.etag)

    const plain = await httpRequest(`${url}/big.txt`)
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.headers.vary).toBe('Accept-Encoding')
    expect(plain.text).toBe(bigText)
  })

  it('ignores precompressed siblings unless asked to', async () => {
    const { url } = await serve()
    const res = await httpRequest(`${url}/big.txt`, { headers: { 'accept-encoding': 'br' } })
    expect(res.headers['content-encoding']).toBeUndefined()
    expect(res.text).toBe(bigText)
  })

  it('sets Cache-Control per pattern, immutable for hashed names, and a default', async () => {
    const { url } = await serve({
      immutable: true,
      cacheControl: {
        default: 'public, max-age=60',
        rules: [{ pattern: /\.css$/, value: 'public, max-age=300' }],
      },
    })
    const cacheOf = async (path: string) => (await httpRequest(`${url}${path}`)).headers['cache-control']
    expect(await cacheOf('/assets/app.3f9a1c2b.js')).toBe('public, max-age=31536000, immutable')
    expect(await cacheOf('/css/site.css')).toBe('public, max-age=300')
    expect(await cacheOf('/data.bin')).toBe('public, max-age=60')
  })

  it('serves a directory index, or 404 when index is off', async () => {
    const { url } = await serve()
    for (const path of ['/guide', '/guide/', '/']) {
      const res = await httpRequest(`${url}${path}`)
      expect(res.status, path).toBe(200)
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    }
    expect((await httpRequest(`${url}/guide/`)).text).toBe('<h1>guide</h1>')
    await running?.stop()
    const off = await serve({ index: false })
    expect((await httpRequest(`${off.url}/guide/`)).status).toBe(404)
  })

  it('answers a missing file with a 404 problem', async () => {
    const { url } = await serve()
    const res = await httpRequest(`${url}/nope.txt`)
    expect(res.status).toBe(404)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(JSON.parse(res.text)).toMatchObject({ status: 404, code: 'KEEL_NOT_FOUND' })
  })

  it('never serves anything outside the root, however the path is spelled', async () => {
    const { port } = await serve({ spaFallback: true })
    const attempts = [
      '/../outside/secret.txt',
      '/../../../../../../etc/passwd',
      '/css/../../outside/secret.txt',
      '/%2e%2e/outside/secret.txt',
      '/%2E%2E/%2E%2E/outside/secret.txt',
      '/..%2foutside%2fsecret.txt',
      '/%2e%2e%2foutside%2fsecret.txt',
      '/css/..%5c..%5coutside%5csecret.txt',
      '/..\\outside\\secret.txt',
      '/%2e%2e%5coutside%5csecret.txt',
      '/.%2e/outside/secret.txt',
      '/%252e%252e/outside/secret.txt',
      '/secret.txt%00.css',
      '/css/site.css%00',
      '/%c0%ae%c0%ae/outside/secret.txt',
      '/%E0%A4%A',
      '/../public-evil/secret.txt',
      '//outside/secret.txt',
      '/link-out.txt',
      '/dir-out/secret.txt',
      '/.env',
      '/%2eenv',
    ]
    for (const target of attempts) {
      const res = await rawGet(port, target, { accept: 'text/html' })
      expect(res.text, target).not.toContain(SECRET)
      expect(res.text, target).not.toContain('root:')
      // Refused (400), missing (404), or the SPA page — never a file from outside.
      if (res.status === 200) expect(res.text, target).toBe('<!doctype html><title>app</title>')
      else expect([400, 404], target).toContain(res.status)
    }
    const invalid = await rawGet(port, '/%2e%2e/outside/secret.txt')
    expect(invalid.status).toBe(400)
    expect(JSON.parse(invalid.text)).toMatchObject({ code: 'KEEL_PATH_INVALID' })
  })

  it('answers 404 for everything, and warns once, while the root does not exist', async () => {
    const { app, logs } = testApp()
    app.route(serveStatic({ root: join(base, 'not-built-yet'), spaFallback: true }))
    const { url } = await app.start()
    running = app
    for (const path of ['/index.html', '/', '/deep/link']) {
      const res = await httpRequest(`${url}${path}`, { headers: { accept: 'text/html' } })
      expect(res.status, path).toBe(404)
    }
    expect(
      logs.records.filter((r) => r.msg === 'static root does not exist; every file is 404 until it does'),
    ).toHaveLength(1)
  })

  it('follows symlinks that stay inside the root', async () => {
    const { url } = await serve()
    const res = await httpRequest(`${url}/link-in.css`)
    expect(res.status).toBe(200)
    expect(res.text).toBe('body { color: red }')
  })

  it('serves files under a prefix and nothing beside it', async () => {
    const { url } = await serve({ prefix: '/static' })
    expect((await httpRequest(`${url}/static/css/site.css`)).status).toBe(200)
    expect((await httpRequest(`${url}/staticcss/site.css`)).status).toBe(404)
    expect((await httpRequest(`${url}/css/site.css`)).status).toBe(404)
  })
})

describe('SPA fallback', () => {
  const spa = (app: App) => app.get('/api/users', () => [{ id: 1 }])

  it('answers unknown HTML navigations with index.html, never cached', async () => {
    const { url } = await serve({ spaFallback: { exclude: ['/api'] }, immutable: true }, spa)
    const res = await httpRequest(`${url}/settings/profile`, { headers: { accept: 'text/html,*/*;q=0.8' } })
    expect(res.status).toBe(200)
    expect(res.text).toBe('<!doctype html><title>app</title>')
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-cache')
  })

  it('keeps API routes, API 404s and non-HTML requests out of the fallback', async () => {
    const { url } = await serve({ spaFallback: { exclude: ['/api'] } }, spa)
    const api = await httpRequest(`${url}/api/users`, { headers: { accept: 'text/html' } })
    expect(JSON.parse(api.text)).toEqual([{ id: 1 }])

    const missingApi = await httpRequest(`${url}/api/nope`, { headers: { accept: 'text/html' } })
    expect(missingApi.status).toBe(404)
    expect(missingApi.headers['content-type']).toBe('application/problem+json')

    const script = await httpRequest(`${url}/missing.js`, { headers: { accept: '*/*' } })
    expect(script.status).toBe(404)

    // A path that merely starts like an excluded prefix is still the app's.
    const apiary = await httpRequest(`${url}/apiary`, { headers: { accept: 'text/html' } })
    expect(apiary.status).toBe(200)
  })

  it('leaves probes alone', async () => {
    const { url } = await serve({ spaFallback: true })
    const live = await httpRequest(`${url}/live`, { headers: { accept: 'text/html' } })
    expect(live.headers['content-type']).toContain('application/json')
  })

  it('lists the static route in the app description', () => {
    const { app } = testApp()
    app.route(serveStatic({ root, prefix: '/assets', spaFallback: false }))
    const route = app.describe().routes.find((r) => r.path === '/assets*')
    expect(route?.meta).toEqual({ static: { prefix: '/assets', spaFallback: false, precompressed: false } })
  })
})
