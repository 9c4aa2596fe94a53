import { request } from 'node:http'
import { type BodyLimitOptions, bodyLimit, Type } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'

const Note = Type.Object({ text: Type.String() })
const json = { 'content-type': 'application/json' }
const note = (length: number) => JSON.stringify({ text: 'x'.repeat(length) })

function limitedApp(maxBytes: number) {
  const { app } = testApp()
  app.guard(bodyLimit({ maxBytes }))
  app.post('/notes', { body: Note }, (ctx) => ({ length: ctx.body.text.length }))
  app.post('/big', { body: Note, bodyLimitBytes: 1_000_000 }, (ctx) => ({ length: ctx.body.text.length }))
  app.group('/uploads', { guards: [bodyLimit({ maxBytes: 10_000 })] }, (uploads) => {
    uploads.post('/', { body: Note }, (ctx) => ({ length: ctx.body.text.length }))
  })
  return app
}

/** Posts `body` in chunks without Content-Length to a listening app. */
function postChunked(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { ...json, 'transfer-encoding': 'chunked' } },
      (res) => {
        let text = ''
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      },
    )
    req.on('error', reject)
    for (let i = 0; i < body.length; i += 100) req.write(body.slice(i, i + 100))
    req.end()
  })
}

describe('bodyLimit()', () => {
  let stop: (() => Promise<unknown>) | undefined
  afterEach(async () => {
    await stop?.()
    stop = undefined
  })

  it('accepts a body within the limit', async () => {
    const res = await limitedApp(200).inject({
      method: 'POST',
      url: '/notes',
      headers: json,
      payload: note(50),
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ length: 50 })
  })

  it('answers 413 from Content-Length before reading the body, and closes the connection', async () => {
    let isHandlerCalled = false
    const { app } = testApp()
    app.guard(bodyLimit({ maxBytes: 100 }))
    app.post('/raw', () => {
      isHandlerCalled = true
      return 'read'
    })
    const res = await app.inject({ method: 'POST', url: '/raw', headers: json, payload: note(500) })
    expect(res.statusCode).toBe(413)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers.connection).toBe('close')
    expect(res.json()).toMatchObject({
      code: 'KEEL_BODY_TOO_LARGE',
      status: 413,
      detail: 'the request body is larger than 100 bytes',
      maxBytes: 100,
    })
    expect(isHandlerCalled).toBe(false)
  })

  it('bounds the reading of a chunked body (no Content-Length) on typed routes', async () => {
    const app = limitedApp(200)
    const { url } = await app.start()
    stop = () => app.stop()
    const small = await postChunked(`${url}/notes`, note(100))
    expect(small.status).toBe(200)
    const large = await postChunked(`${url}/notes`, note(5000))
    expect(large.status).toBe(413)
    expect(JSON.parse(large.body)).toMatchObject({
      code: 'KEEL_BODY_TOO_LARGE',
      detail: 'the request body is larger than 200 bytes',
    })
  })

  it('caps a route that sets a larger bodyLimitBytes of its own', async () => {
    const app = limitedApp(200)
    const { url } = await app.start()
    stop = () => app.stop()
    const res = await postChunked(`${url}/big`, note(5000))
    expect(res.status).toBe(413)
  })

  it('lets the smallest limit on the way win, and replaces the configured default', async () => {
    const { app } = testApp({ overrides: { http: { bodyLimitBytes: 50 } } })
    app.group('/wide', { guards: [bodyLimit({ maxBytes: 10_000 })] }, (wide) => {
      wide.post('/', { body: Note }, (ctx) => ({ length: ctx.body.text.length }))
    })
    app.group(
      '/narrow',
      { guards: [bodyLimit({ maxBytes: 10_000 }), bodyLimit({ maxBytes: 300 })] },
      (narrow) => {
        narrow.post('/', { body: Note }, (ctx) => ({ length: ctx.body.text.length }))
      },
    )
    app.post('/plain', { body: Note }, (ctx) => ({ length: ctx.body.text.length }))
    const { url } = await app.start()
    stop = () => app.stop()
    // http.bodyLimitBytes is 50, but the group's guard allows 10,000.
    expect((await postChunked(`${url}/plain`, note(1000))).status).toBe(413)
    expect((await postChunked(`${url}/wide`, note(1000))).status).toBe(200)
    expect((await postChunked(`${url}/narrow`, note(200))).status).toBe(200)
    expect((await postChunked(`${url}/narrow`, note(1000))).status).toBe(413)
  })

  it('rejects bad options', () => {
    const bad = (options: unknown) => () => bodyLimit(options as BodyLimitOptions)
    expect(bad({})).toThrow(/bodyLimit: options\.maxBytes is required/)
    expect(bad({ maxBytes: -1 })).toThrow(/bodyLimit: options\.maxBytes must be an integer >= 0, got -1/)
    expect(bad({ maxBytes: 1.5 })).toThrow(/options\.maxBytes must be an integer/)
    expect(bad({ maxBytes: '1mb' })).toThrow(/options\.maxBytes must be an integer >= 0, got "1mb"/)
    expect(bad(undefined)).toThrow(/bodyLimit: options must be an object/)
  })
})
