import { Type, unprocessable } from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

const NewUser = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  email: Type.String({ format: 'email' }),
  age: Type.Integer({ minimum: 0, maximum: 150 }),
  address: Type.Optional(Type.Object({ city: Type.String() })),
})
const User = Type.Object({ id: Type.Integer(), name: Type.String(), email: Type.String() })

function usersApp() {
  const { app, logs } = testApp()
  app.post('/users', { body: NewUser, response: { 201: User } }, (ctx) => {
    ctx.status = 201
    // `secret` is not in the response schema: it must never reach the client.
    return { id: 7, ...ctx.body, secret: 'hunter2' } as never
  })
  app.get(
    '/users/:id',
    {
      params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
      query: Type.Object({
        fields: Type.Optional(Type.Array(Type.String())),
        verbose: Type.Optional(Type.Boolean()),
      }),
      headers: Type.Object({ 'x-tenant': Type.String({ minLength: 2 }) }),
    },
    (ctx) => ({
      id: ctx.params.id,
      idType: typeof ctx.params.id,
      query: ctx.query,
      tenant: ctx.headers['x-tenant'],
    }),
  )
  return { app, logs }
}

const json = { 'content-type': 'application/json' }

describe('typed routes', () => {
  it('validates the body, passes typed values, and serializes only declared response fields', async () => {
    const { app } = usersApp()
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      headers: json,
      payload: { name: 'Ada', email: 'ada@example.com', age: 36 },
    })
    expect(res.statusCode).toBe(201)
    expect(res.json()).toEqual({ id: 7, name: 'Ada', email: 'ada@example.com' })
    expect(res.body).not.toContain('hunter2')
  })

  it('lists every violation with its JSON pointer in one 400 problem', async () => {
    const { app } = usersApp()
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      headers: json,
      payload: { name: '', email: 'not-an-email', age: 200, address: { city: 1, zip: '1' }, role: 'admin' },
    })
    expect(res.statusCode).toBe(400)
    expect(res.headers['content-type']).toBe('application/problem+json')
    const problem = res.json()
    expect(problem).toMatchObject({
      code: 'KEEL_VALIDATION',
      type: 'urn:keel:problem:validation',
      status: 400,
    })
    const pointers = (problem.errors as Array<{ pointer: string }>).map((e) => e.pointer).sort()
    expect(pointers).toEqual([
      '/body/address/city',
      '/body/address/zip',
      '/body/age',
      '/body/email',
      '/body/name',
      '/body/role',
    ])
  })

  it('rejects a missing required field and a wrong type without coercing the body', async () => {
    const { app } = usersApp()
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      headers: json,
      payload: { name: 'Ada', age: '36' },
    })
    expect(res.statusCode).toBe(400)
    const errors = res.json().errors as Array<{ pointer: string; message: string }>
    expect(errors).toContainEqual({ pointer: '/body/email', message: 'is required' })
    expect(errors.map((e) => e.pointer)).toContain('/body/age')
  })

  it('answers malformed JSON 400, a wrong content type 415 and a too-large body 413', async () => {
    const { app } = usersApp()
    const malformed = await app.inject({
      method: 'POST',
      url: '/users',
      headers: json,
      payload: '{"name": "Ada",',
    })
    expect([malformed.statusCode, malformed.json().code]).toEqual([400, 'KEEL_MALFORMED_JSON'])
    const text = await app.inject({
      method: 'POST',
      url: '/users',
      headers: { 'content-type': 'text/plain' },
      payload: 'hi',
    })
    expect([text.statusCode, text.json().code]).toEqual([415, 'KEEL_UNSUPPORTED_MEDIA_TYPE'])
    const big = await app.inject({
      method: 'POST',
      url: '/users',
      headers: json,
      payload: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), email: 'a@b.co', age: 1 }),
    })
    expect([big.statusCode, big.json().code]).toEqual([413, 'KEEL_BODY_TOO_LARGE'])
    const empty = await app.inject({ method: 'POST', url: '/users', headers: json })
    expect([empty.statusCode, empty.json().code]).toEqual([400, 'KEEL_MALFORMED_JSON'])
  })

  it('rejects invalid UTF-8 in the body', async () => {
    const { app } = usersApp()
    const res = await app.inject({
      method: 'POST',
      url: '/users',
      headers: json,
      payload: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    })
    expect(res.statusCode).toBe(400)
    expect(res.json().detail).toContain('UTF-8')
  })

  it('coerces params, query and headers to their declared types', async () => {
    const { app } = usersApp()
    const res = await app.inject({
      url: '/users/42?fields=a&fields=b&verbose=true',
      headers: { 'x-tenant': 'acme' },
    })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      id: 42,
      idType: 'number',
      query: { fields: ['a', 'b'], verbose: true },
      tenant: 'acme',
    })
  })

  it('fails closed on unknown query parameters and reports bad params and headers', async () => {
    const { app } = usersApp()
    const res = await app.inject({ url: '/users/zero?debug=1', headers: {} })
    expect(res.statusCode).toBe(400)
    const pointers = (res.json().errors as Array<{ pointer: string }>).map((e) => e.pointer).sort()
    expect(pointers).toEqual(['/headers/x-tenant', '/params/id', '/query/debug'])
  })

  it('rejects any query parameter on a typed route that declares none, unless it opts out', async () => {
    const { app } = testApp()
    app.get('/strict', { response: { 200: Type.Object({ ok: Type.Boolean() }) } }, () => ({ ok: true }))
    app.get('/relaxed', { allowUnknown: { query: true } }, () => ({ ok: true }))
    expect((await app.inject('/strict?x=1')).statusCode).toBe(400)
    expect((await app.inject('/strict')).json()).toEqual({ ok: true })
    expect((await app.inject('/relaxed?x=1')).statusCode).toBe(200)
  })

  it('accepts unknown body fields when the route opts out', async () => {
    const { app } = testApp()
    app.post(
      '/events',
      { body: Type.Object({ kind: Type.String() }), allowUnknown: { body: true } },
      (ctx) => ({ kind: ctx.body.kind }),
    )
    const res = await app.inject({
      method: 'POST',
      url: '/events',
      headers: json,
      payload: { kind: 'a', extra: 1 },
    })
    expect(res.json()).toEqual({ kind: 'a' })
  })
})

describe('semantic errors', () => {
  it('answers unprocessable() with a 422 problem pointing into the request, documented in OpenAPI', async () => {
    const { app } = testApp()
    const Range = Type.Object({
      start: Type.String({ format: 'date' }),
      end: Type.String({ format: 'date' }),
    })
    app.post('/bookings', { body: Range, problems: [422] }, (ctx) => {
      if (ctx.body.end < ctx.body.start) {
        throw unprocessable([{ pointer: '/body/end', message: 'is before start' }])
      }
      return { nights: 1 }
    })
    const book = (start: string, end: string) =>
      app.inject({ method: 'POST', url: '/bookings', headers: json, payload: { start, end } })
    const res = await book('2026-05-02', '2026-05-01')
    expect(res.statusCode).toBe(422)
    expect(res.headers['content-type']).toContain('application/problem+json')
    expect(res.json()).toMatchObject({
      status: 422,
      code: 'KEEL_UNPROCESSABLE',
      detail: '/body/end is before start',
      errors: [{ pointer: '/body/end', message: 'is before start' }],
    })
    const ok = await book('2026-05-01', '2026-05-02')
    expect(ok.json()).toEqual({ nights: 1 })
    const document = (await app.inject('/openapi.json')).json()
    expect(Object.keys(document.paths['/bookings'].post.responses)).toContain('422')
  })
})

describe('a typed route that declares no body', () => {
  function pingApp() {
    const { app } = testApp()
    app.post('/ping', { response: { 200: Type.Object({ ok: Type.Boolean() }) } }, () => ({ ok: true }))
    app.post('/raw', { allowUnknown: { body: true } }, async (ctx) => {
      let text = ''
      for await (const chunk of ctx.req) text += chunk
      return { received: text }
    })
    return app
  }

  it('refuses a request that carries a body, and serves one without', async () => {
    const app = pingApp()
    const refused = await app.inject({
      method: 'POST',
      url: '/ping',
      headers: json,
      payload: { admin: true },
    })
    expect(refused.statusCode).toBe(400)
    expect(refused.headers['content-type']).toContain('application/problem+json')
    expect(refused.json().errors).toEqual([
      { pointer: '/body', message: 'unknown value: this route declares no body' },
    ])
    expect((await app.inject({ method: 'POST', url: '/ping' })).json()).toEqual({ ok: true })
  })

  it('lets the handler read the body when the route opts out', async () => {
    const res = await pingApp().inject({ method: 'POST', url: '/raw', payload: 'as sent' })
    expect(res.json()).toEqual({ received: 'as sent' })
  })

  it('refuses a chunked body on a socket, and the connection serves the next request', async () => {
    const app = pingApp()
    const { url } = await app.start()
    try {
      const chunked = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"admin":'))
          controller.enqueue(new TextEncoder().encode('true}'))
          controller.close()
        },
      })
      const refused = await fetch(`${url}/ping`, {
        method: 'POST',
        body: chunked,
        duplex: 'half',
      } as RequestInit)
      expect(refused.status).toBe(400)
      expect(((await refused.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer).toBe('/body')
      const next = await fetch(`${url}/ping`, { method: 'POST' })
      expect(await next.json()).toEqual({ ok: true })
    } finally {
      await app.stop()
    }
  })
})

describe('groups and guards', () => {
  it('prefixes group routes, runs app, group and route guards in order, and guards unmatched paths', async () => {
    const { app } = testApp()
    const seen: string[] = []
    const mark = (name: string) => ({
      name,
      handle: (ctx: { header: (n: string, v: string) => void }, next: () => Promise<unknown>) => {
        seen.push(name)
        ctx.header(`x-${name}`, '1')
        return next()
      },
    })
    app.guard(mark('app'))
    app.group('/api', { guards: [mark('group')], tags: ['api'] }, (api) => {
      api.get('/items', { guards: [mark('route')] }, () => ['a'])
    })
    const res = await app.inject('/api/items')
    expect(res.json()).toEqual(['a'])
    expect(seen).toEqual(['app', 'group', 'route'])
    const missing = await app.inject('/nowhere')
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['x-app']).toBe('1')
    expect((await app.inject('/ready')).headers['x-app']).toBeUndefined()
    expect(app.describe().routes.find((r) => r.path === '/api/items')).toBeDefined()
  })

  it('lets a guard answer by throwing an HttpError with headers', async () => {
    const { app } = testApp()
    const { HttpError } = await import('keel/http')
    app.guard({
      name: 'deny',
      handle: () => {
        throw new HttpError(429, 'KEEL_RATE_LIMITED', 'slow down', { limit: 1 }, { 'retry-after': '30' })
      },
    })
    app.get('/x', () => 'never')
    const res = await app.inject('/x')
    expect(res.statusCode).toBe(429)
    expect(res.headers['retry-after']).toBe('30')
    expect(res.json()).toMatchObject({ code: 'KEEL_RATE_LIMITED', detail: 'slow down', limit: 1 })
  })

  it('rejects a malformed group prefix and a route without a handler', () => {
    const { app } = testApp()
    expect(() => app.group('api', {}, () => {})).toThrow('group prefix "api" must start with "/"')
    expect(() => app.post('/x', {} as never, undefined as never)).toThrow(
      'expected (path, handler) or (path, options, handler)',
    )
  })
})

describe('intersections', () => {
  it('accepts the fields of every member of an intersected body and still rejects unknown ones', async () => {
    const { app } = testApp()
    const Named = Type.Object({ name: Type.String() })
    const Aged = Type.Object({ age: Type.Integer() })
    app.post('/people', { body: Type.Intersect([Named, Aged]) }, (ctx) => ({
      name: ctx.body.name,
      age: ctx.body.age,
    }))
    const headers = { 'content-type': 'application/json' }
    const ok = await app.inject({
      method: 'POST',
      url: '/people',
      headers,
      payload: { name: 'Ada', age: 36 },
    })
    expect([ok.statusCode, ok.json()]).toEqual([200, { name: 'Ada', age: 36 }])
    const extra = await app.inject({
      method: 'POST',
      url: '/people',
      headers,
      payload: { name: 'Ada', age: 36, role: 'admin' },
    })
    expect(extra.statusCode).toBe(400)
  })
})

describe('responses that must not escape', () => {
  it('answers 500 (and keeps serving) when a body cannot be serialized', async () => {
    const { app, logs } = testApp()
    app.get('/big', () => ({ n: 1n }))
    app.get('/async-cycle', async () => {
      const cycle: Record<string, unknown> = {}
      cycle.self = cycle
      return cycle
    })
    for (const path of ['/big', '/async-cycle']) {
      const res = await app.inject(path)
      expect([res.statusCode, res.json().code]).toEqual([500, 'KEEL_INTERNAL'])
    }
    expect(logs.records.filter((r) => r.msg === 'request failed')).toHaveLength(2)
    expect((await app.inject('/live')).statusCode).toBe(200)
  })

  it('never forwards the headers of an error that is not an HttpError, and survives throw null', async () => {
    const { app } = testApp()
    app.get('/upstream', () => {
      throw Object.assign(new Error('upstream failed'), {
        headers: { 'set-cookie': 'session=upstream-secret' },
      })
    })
    app.get('/null', () => {
      throw null
    })
    const upstream = await app.inject('/upstream')
    expect(upstream.statusCode).toBe(500)
    expect(upstream.headers['set-cookie']).toBeUndefined()
    expect((await app.inject('/null')).statusCode).toBe(500)
  })

  it('refuses to send a typed route body under a status its response schemas do not declare', async () => {
    const { app } = testApp()
    app.get('/user', { response: { 200: Type.Object({ name: Type.String() }) } }, (ctx) => {
      ctx.status = 201
      return { name: 'Ada', passwordHash: 'x' } as never
    })
    const res = await app.inject('/user')
    expect(res.statusCode).toBe(500)
    expect(res.body).not.toContain('passwordHash')
  })
})
