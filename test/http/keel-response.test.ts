import type { App } from 'keel/app'
import { requestId } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

// Over a real socket, where the server's own response class adds the request id when the head
// is written (app.inject() uses another class and gets it at once).
const running: App[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((app) => app.stop()))
})

async function serve(setup: (app: App) => void, guards = false) {
  const { app } = testApp()
  if (guards) app.guard(requestId({ header: 'X-Correlation-Id' }))
  setup(app)
  const { url } = await app.start()
  running.push(app)
  return url
}

const get = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { headers: { connection: 'close', ...headers } })

describe('the response head', () => {
  it('a plain JSON answer carries the request id, content type and length, once each', async () => {
    const url = await serve((app) => app.get('/plain', () => ({ hello: 'world' })))
    const res = await get(`${url}/plain`, { 'x-request-id': 'req-1' })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-request-id')).toBe('req-1')
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(res.headers.get('content-length')).toBe('17')
    expect(await res.text()).toBe('{"hello":"world"}')
  })

  it('keeps headers the handler set, and its own content type', async () => {
    const url = await serve((app) =>
      app.get('/set', (ctx) => {
        ctx.header('cache-control', 'no-store')
        ctx.header('content-type', 'application/vnd.keel+json')
        ctx.status = 202
        return { ok: true }
      }),
    )
    const res = await get(`${url}/set`)
    expect(res.status).toBe(202)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(res.headers.get('content-type')).toBe('application/vnd.keel+json')
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    expect(await res.json()).toEqual({ ok: true })
  })

  it('adds the id to heads the handler writes itself, streamed, empty or its own writeHead', async () => {
    const url = await serve((app) => {
      app.get('/stream', (ctx) => {
        ctx.res.write('a')
        ctx.res.end('b')
      })
      app.get('/empty', () => undefined)
      app.get('/own-head', (ctx) => {
        ctx.res.writeHead(201, { 'content-type': 'text/plain' })
        ctx.res.end('made')
      })
      app.get('/own-id', (ctx) => {
        ctx.res.writeHead(200, 'Fine', { 'x-request-id': 'handler-chose' })
        ctx.res.end()
      })
    })
    const stream = await get(`${url}/stream`, { 'x-request-id': 's-1' })
    expect(stream.headers.get('x-request-id')).toBe('s-1')
    expect(await stream.text()).toBe('ab')
    const empty = await get(`${url}/empty`, { 'x-request-id': 'e-1' })
    expect(empty.status).toBe(204)
    expect(empty.headers.get('x-request-id')).toBe('e-1')
    const own = await get(`${url}/own-head`, { 'x-request-id': 'o-1' })
    expect(own.status).toBe(201)
    expect(own.headers.get('x-request-id')).toBe('o-1')
    expect(own.headers.get('content-type')).toBe('text/plain')
    expect(await own.text()).toBe('made')
    const ownId = await get(`${url}/own-id`, { 'x-request-id': 'i-1' })
    expect(ownId.statusText).toBe('Fine')
    expect(ownId.headers.get('x-request-id')).toBe('handler-chose')
  })

  it('problems and a configured id header carry the id too', async () => {
    const url = await serve((app) => app.get('/boom', () => Promise.reject(new Error('no'))), true)
    const missing = await get(`${url}/nowhere`, { 'x-correlation-id': 'c-404' })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('x-correlation-id')).toBe('c-404')
    expect(missing.headers.get('x-request-id')).toBeNull()
    expect(await missing.json()).toMatchObject({ requestId: 'c-404' })
    const failed = await get(`${url}/boom`, { 'x-correlation-id': 'c-500' })
    expect(failed.status).toBe(500)
    expect(failed.headers.get('content-type')).toBe('application/problem+json')
    expect(failed.headers.get('x-correlation-id')).toBe('c-500')
  })
})
