import type { IncomingMessage } from 'node:http'
import { REDACTED } from 'keel/log'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LogCapture } from '../support/log-capture.ts'
import { testApp } from '../support/test-app.ts'

/**
 * The proof the issue asks for: a full request cycle at log level debug (so request headers are
 * logged), with secrets planted in headers, query strings, JSON bodies and a failing route. Every
 * line the app writes is scanned for every planted value.
 */

const planted = {
  authorization: 'planted-bearer-9f1c0a',
  proxyAuthorization: 'planted-proxy-2c4d6e',
  cookie: 'planted-cookie-7d2e11',
  apiKeyHeader: 'planted-apikey-3b8a55',
  authTokenHeader: 'planted-xauth-6a7b8c',
  queryToken: 'planted-qtoken-5e6f77',
  queryApiKey: 'planted-qapikey-1a2b33',
  password: 'planted-password-8c9d44',
  nestedSecret: 'planted-nested-4e5f66',
  listToken: 'planted-listtoken-0d1e22',
  errorPassword: 'planted-errpass-9a8b77',
  deepSecret: 'planted-deep-3c2d11',
} as const

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
const traceparent = `00-${traceId}-00f067aa0ba902b7-01`

const headers = {
  authorization: `Bearer ${planted.authorization}`,
  'proxy-authorization': `Basic ${planted.proxyAuthorization}`,
  cookie: `session=${planted.cookie}; theme=dark`,
  'x-api-key': planted.apiKeyHeader,
  'x-auth-token': planted.authTokenHeader,
  traceparent,
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
}

describe('no planted secret reaches the logs in a full request cycle', () => {
  let logs: LogCapture
  const statuses: Record<string, number> = {}

  beforeAll(async () => {
    const made = testApp({ overrides: { log: { level: 'debug' } } })
    const { app } = made
    logs = made.logs

    app.post('/login', async (ctx) => {
      const body = await readJson(ctx.req)
      ctx.log.info({ body }, 'login attempt')
      ctx.log.debug({ headers: ctx.req.headers }, 'login headers')
      return { ok: true }
    })
    app.get('/search', (ctx) => {
      ctx.log.info({ url: ctx.req.url, query: { ...ctx.query } }, 'search')
      return { results: [] }
    })
    app.post('/charge', async (ctx) => {
      const body = await readJson(ctx.req)
      // An error that carries the request with it, as HTTP client errors often do.
      throw Object.assign(new Error('card declined'), {
        request: { headers: ctx.req.headers, body },
        password: planted.errorPassword,
      })
    })

    const { url } = await app.start()
    const json = { 'content-type': 'application/json' }
    const login = await fetch(`${url}/login?token=${planted.queryToken}`, {
      method: 'POST',
      headers: { ...headers, ...json },
      body: JSON.stringify({
        user: 'ada',
        password: planted.password,
        credentials: { secret: planted.nestedSecret },
        devices: [{ name: 'phone', pushToken: planted.listToken }],
        a: {
          b: { c: { d: { e: { f: { g: { h: { i: { j: { client_secret: planted.deepSecret } } } } } } } } },
        },
      }),
    })
    statuses.login = login.status
    await login.text()
    const search = await fetch(
      `${url}/search?q=boats&token=${planted.queryToken}&api_key=${planted.queryApiKey}`,
      {
        headers,
      },
    )
    statuses.search = search.status
    await search.text()
    const charge = await fetch(`${url}/charge?api_key=${planted.queryApiKey}`, {
      method: 'POST',
      headers: { ...headers, ...json },
      body: JSON.stringify({ amount: 10, password: planted.password }),
    })
    statuses.charge = charge.status
    await charge.text()
    await app.stop('test finished')
  })

  afterAll(() => {
    // Nothing to close: the app stopped at the end of beforeAll.
  })

  it('served every request, the failing one with a 500', () => {
    expect(statuses).toEqual({ login: 200, search: 200, charge: 500 })
  })

  it('writes none of the planted values anywhere in the log output', () => {
    const text = logs.text
    expect(text.length).toBeGreaterThan(0)
    const leaked = Object.entries(planted).filter(([, secret]) => text.includes(secret))
    expect(leaked.map(([name]) => name)).toEqual([])
  })

  it('did log the places the secrets were in, redacted', () => {
    expect(logs.text).toContain(REDACTED)
    const records = logs.records
    const completed = records.filter((r) => r.msg === 'request completed' && r.route !== undefined)
    expect(completed.map((r) => r.route)).toEqual(['/login', '/search', '/charge'])
    for (const record of completed) {
      expect(record.headers).toMatchObject({
        authorization: REDACTED,
        'proxy-authorization': REDACTED,
        cookie: REDACTED,
        'x-api-key': REDACTED,
        'x-auth-token': REDACTED,
      })
      expect(record.url).toMatch(/(token|api_key)=\[REDACTED\]/)
    }

    const login = records.find((r) => r.msg === 'login attempt')
    expect(login?.body).toMatchObject({ user: 'ada', password: REDACTED, credentials: REDACTED })
    expect((login?.body as { devices?: unknown[] } | undefined)?.devices).toEqual([
      { name: 'phone', pushToken: REDACTED },
    ])

    const search = records.find((r) => r.msg === 'search')
    expect(search?.query).toEqual({ q: 'boats', token: REDACTED, api_key: REDACTED })
    expect(search?.url).toBe(`/search?q=boats&token=${REDACTED}&api_key=${REDACTED}`)

    const failed = records.find((r) => r.msg === 'request failed')
    expect(failed?.level).toBe('error')
    expect(failed?.err).toMatchObject({ message: 'card declined', password: REDACTED })
    expect(failed?.url).toBe(`/charge?api_key=${REDACTED}`)
  })

  it('carries request_id and the caller trace_id on every line written inside a request', () => {
    const inside = logs.records.filter((r) =>
      ['login attempt', 'login headers', 'search', 'request completed', 'request failed'].includes(
        r.msg as string,
      ),
    )
    expect(inside.length).toBeGreaterThanOrEqual(7)
    for (const record of inside) {
      expect(record.request_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(record.trace_id).toBe(traceId)
    }
    const ids = new Set(inside.map((r) => r.request_id))
    expect(ids.size).toBe(3)
  })
})
