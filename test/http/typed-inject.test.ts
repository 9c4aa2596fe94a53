import type { App } from 'keel/app'
import { defineRoute, requestRoute, Type } from 'keel/http'
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

const User = Type.Object({ id: Type.Integer(), name: Type.String() })
const users = new Map([[42, { id: 42, name: 'Ada' }]])

const getUser = defineRoute(
  'GET',
  '/users/:id',
  {
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    query: Type.Object({ fields: Type.Optional(Type.Array(Type.String())) }),
    response: { 200: User },
  },
  (ctx) => {
    const user = users.get(ctx.params.id)
    if (!user) {
      ctx.status = 404
      return undefined
    }
    return user
  },
)

const createUser = defineRoute(
  'POST',
  '/users',
  { body: Type.Object({ name: Type.String({ minLength: 1 }) }), response: { 201: User } },
  (ctx) => {
    const user = { id: users.size + 100, name: ctx.body.name }
    ctx.status = 201
    return { ...user, secret: 'never sent' }
  },
)

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

function app() {
  const { app } = testApp()
  app.route(getUser)
  app.group('/admin', {}, (group) => group.route(createUser))
  return app
}

describe('app.inject(route, input)', () => {
  it('sends typed params, query and body through the whole pipeline and types the declared answers', async () => {
    const subject = app()
    const found = await subject.inject(getUser, { params: { id: 42 }, query: { fields: ['name', 'id'] } })
    expect(found).toMatchObject({ isDeclared: true, status: 200, body: { id: 42, name: 'Ada' } })
    if (found.isDeclared && found.status === 200) {
      expectTypeOf(found.body).toEqualTypeOf<{ id: number; name: string }>()
    }
    // Registered in a group: the app knows the prefix.
    const created = await subject.inject(createUser, { body: { name: 'Grace' } })
    expect(created).toMatchObject({ isDeclared: true, status: 201, body: { id: 101, name: 'Grace' } })
    expect(created.body).not.toHaveProperty('secret')
  })

  it('answers errors as undeclared responses carrying the problem', async () => {
    const subject = app()
    const invalid = await subject.inject(getUser, { params: { id: 0 } })
    expect(invalid.isDeclared).toBe(false)
    expect(invalid).toMatchObject({
      status: 400,
      body: { code: 'KEEL_VALIDATION', errors: [{ pointer: '/params/id' }] },
    })
    expect(invalid.headers['content-type']).toBe('application/problem+json')
    const missing = await subject.inject(getUser, { params: { id: 7 } })
    expect(missing).toMatchObject({ isDeclared: false, status: 404, body: undefined })
  })

  it('refuses a route value that was never registered, and input without a path parameter', async () => {
    const subject = app()
    const stray = defineRoute('GET', '/stray', {}, () => 'x')
    await expect(subject.inject(stray, {})).rejects.toThrow('route GET /stray is not registered on this app')
    // @ts-expect-error params are required when the route declares them
    await expect(subject.inject(getUser, {})).rejects.toThrow('no value for path parameter "id"')
  })

  it('calls the same route of a listening app with requestRoute', async () => {
    const subject = app()
    running = subject
    const { url } = await subject.start()
    const found = await requestRoute(url, getUser, { params: { id: 42 } })
    expect(found).toMatchObject({ isDeclared: true, status: 200, body: { name: 'Ada' } })
    const created = await requestRoute(url, createUser, { body: { name: 'Linus' } }, { prefix: '/admin' })
    expect(created).toMatchObject({ isDeclared: true, status: 201, body: { name: 'Linus' } })
  })
})
