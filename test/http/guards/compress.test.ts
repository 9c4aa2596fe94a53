import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { type CompressOptions, compress, cors, negotiateEncoding, Type } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

const big = { items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item number ${i}` })) }
const bigText = 'lorem ipsum dolor sit amet '.repeat(200)

function compressedApp(options?: CompressOptions) {
  const { app } = testApp()
  app.guard(compress(options))
  app.get('/json', () => big)
  app.get('/text', () => bigText)
  app.get('/small', () => ({ ok: true }))
  app.get('/png', (ctx) => {
    ctx.header('content-type', 'image/png')
    return Buffer.alloc(5000, 7)
  })
  app.get('/svg', (ctx) => {
    ctx.header('content-type', 'image/svg+xml')
    return Buffer.from(`<svg>${'<g/>'.repeat(1000)}</svg>`)
  })
  app.get('/encoded', (ctx) => {
    ctx.header('content-type', 'text/plain')
    ctx.header('content-encoding', 'gzip')
    return Buffer.from('already gzipped bytes (pretend)'.repeat(100))
  })
  app.get('/no-transform', (ctx) => {
    ctx.header('cache-control', 'no-transform')
    return bigText
  })
  app.get('/empty', () => undefined)
  app.get('/not-modified', (ctx) => {
    ctx.status = 304
    return bigText
  })
  app.get('/tagged', (ctx) => {
    ctx.header('etag', '"v1"')
    return bigText
  })
  app.get('/stream', (ctx) => {
    ctx.res.writeHead(200, { 'content-type': 'text/plain' })
    ctx.res.end(bigText)
  })
  app.get(
    '/typed',
    { response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.Integer() })) }) } },
    () => big,
  )
  return app
}

const get = (
  app: ReturnType<typeof compressedApp>,
  url: string,
  acceptEncoding?: string,
  method: 'GET' | 'HEAD' = 'GET',
) =>
  app.inject({
    method,
    url,
    headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding },
  })

describe('compress()', () => {
  it('brotli-compresses a large JSON body when the client accepts br', async () => {
    const res = await get(compressedApp(), '/json', 'gzip, deflate, br')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-encoding']).toBe('br')
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(res.headers.vary).toBe('Accept-Encoding')
    expect(Number(res.headers['content-length'])).toBe(res.rawPayload.length)
    expect(res.rawPayload.length).toBeLessThan(JSON.stringify(big).length / 3)
    expect(JSON.parse(brotliDecompressSync(res.rawPayload).toString())).toEqual(big)
  })

  it('gzips text when the client prefers gzip by q-value', async () => {
    const res = await get(compressedApp(), '/text', 'br;q=0.5, gzip;q=0.9')
    expect(res.headers['content-encoding']).toBe('gzip')
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(gunzipSync(res.rawPayload).toString()).toBe(bigText)
  })

  it('compresses what a typed route serialized through its schema', async () => {
    const res = await get(compressedApp(), '/typed', 'gzip')
    expect(res.headers['content-encoding']).toBe('gzip')
    const body = JSON.parse(gunzipSync(res.rawPayload).toString())
    expect(body.items[3]).toEqual({ id: 3 })
  })

  it('honours the server preference order and the threshold option', async () => {
    const gzipFirst = compressedApp({ encodings: ['gzip', 'br'], thresholdBytes: 10 })
    const res = await get(gzipFirst, '/small', 'br, gzip')
    expect(res.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(res.rawPayload).toString())).toEqual({ ok: true })
  })

  it('sends bodies under the threshold as they are, with Vary', async () => {
    const res = await get(compressedApp(), '/small', 'br')
    expect(res.headers['content-encoding']).toBeUndefined()
    expect(res.headers.vary).toBe('Accept-Encoding')
    expect(res.json()).toEqual({ ok: true })
  })

  it('sends the body as it is without Accept-Encoding, or when every coding is refused', async () => {
    const app = compressedApp()
    for (const header of [undefined, 'identity', 'br;q=0, gzip;q=0', '*;q=0']) {
      const res = await get(app, '/text', header)
      expect(res.headers['content-encoding']).toBeUndefined()
      expect(res.body).toBe(bigText)
    }
  })

  it('leaves incompressible types alone, and compresses SVG', async () => {
    const app = compressedApp()
    const png = await get(app, '/png', 'br, gzip')
    expect(png.headers['content-encoding']).toBeUndefined()
    expect(png.headers.vary).toBeUndefined()
    expect(png.rawPayload.length).toBe(5000)
    const svg = await get(app, '/svg', 'gzip')
    expect(svg.headers['content-encoding']).toBe('gzip')
  })

  it('never compresses twice, and respects Cache-Control: no-transform', async () => {
    const app = compressedApp()
    const encoded = await get(app, '/encoded', 'gzip')
    expect(encoded.headers['content-encoding']).toBe('gzip')
    expect(encoded.rawPayload.toString()).toBe('already gzipped bytes (pretend)'.repeat(100))
    const noTransform = await get(app, '/no-transform', 'gzip')
    expect(noTransform.headers['content-encoding']).toBeUndefined()
    expect(noTransform.body).toBe(bigText)
  })

  it('skips HEAD, 204 and 304 responses', async () => {
    const app = compressedApp()
    const head = await get(app, '/text', 'gzip', 'HEAD')
    expect(head.statusCode).toBe(200)
    expect(head.headers['content-encoding']).toBeUndefined()
    expect(Number(head.headers['content-length'])).toBe(bigText.length)
    expect((await get(app, '/empty', 'gzip')).statusCode).toBe(204)
    const notModified = await get(app, '/not-modified', 'gzip')
    expect(notModified.statusCode).toBe(304)
    expect(notModified.headers['content-encoding']).toBeUndefined()
  })

  it('weakens a strong ETag on a compressed body', async () => {
    const res = await get(compressedApp(), '/tagged', 'gzip')
    expect(res.headers.etag).toBe('W/"v1"')
    const plain = await get(compressedApp(), '/tagged')
    expect(plain.headers.etag).toBe('"v1"')
  })

  it('adds Accept-Encoding to a Vary that CORS set, over a real connection', async () => {
    const { app } = testApp()
    app.guard(compress(), cors({ origins: ['https://app.example.com'] }))
    app.get('/text', () => bigText)
    const { url } = await app.start()
    try {
      // fetch decompresses for us: the bytes that arrive decode to the original text.
      const res = await fetch(`${url}/text`, {
        headers: { origin: 'https://app.example.com', 'accept-encoding': 'br' },
      })
      expect(res.headers.get('content-encoding')).toBe('br')
      expect(res.headers.get('vary')).toBe('Origin, Accept-Encoding')
      expect(await res.text()).toBe(bigText)
    } finally {
      await app.stop()
    }
  })

  it('leaves streamed responses uncompressed', async () => {
    const res = await get(compressedApp(), '/stream', 'gzip')
    expect(res.headers['content-encoding']).toBeUndefined()
    expect(res.body).toBe(bigText)
  })

  it('rejects bad options', () => {
    const bad = (options: unknown) => () => compress(options as CompressOptions)
    expect(bad({ thresholdBytes: -1 })).toThrow(/compress: options\.thresholdBytes must be an integer >= 0/)
    expect(bad({ encodings: ['deflate'] })).toThrow(
      /compress: options\.encodings must list "br" and\/or "gzip"/,
    )
    expect(bad({ encodings: [] })).toThrow(/options\.encodings/)
    expect(bad({ brotliQuality: 12 })).toThrow(/options\.brotliQuality must be an integer 0-11, got 12/)
    expect(bad({ gzipLevel: 0 })).toThrow(/options\.gzipLevel must be an integer 1-9/)
    expect(bad({ isCompressible: /json/ })).toThrow(/options\.isCompressible must be a function/)
    expect(bad(null)).toThrow(/compress: options must be an object/)
  })
})

describe('negotiateEncoding()', () => {
  const offered = ['br', 'gzip'] as const
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['gzip', 'gzip'],
    ['br, gzip', 'br'],
    ['gzip, br', 'br'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['GZIP;Q=0.8', 'gzip'],
    ['x-gzip', 'gzip'],
    ['*', 'br'],
    ['*;q=0.1, br;q=0', 'gzip'],
    ['br;q=0, gzip;q=0', undefined],
    ['identity', undefined],
    ['deflate', undefined],
    ['gzip;q=abc', undefined],
    ['gzip;q=2', undefined],
    [' , ;q=1, gzip ; q=0.3 ', 'gzip'],
  ])('%j → %j', (header, expected) => {
    expect(negotiateEncoding(header, offered)).toBe(expected)
  })
})
