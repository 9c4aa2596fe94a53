import {
  type AuthorizeOptions,
  apiKeyAuth,
  authorize,
  generateApiKey,
  jwtAuth,
  principalOf,
  requirePrincipal,
  requireRoles,
  requireScopes,
} from 'keel/http'
import { describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'
import { guardedApp } from './guarded-app.ts'
import { goodClaims, SECRET, secretBytes, sign } from './token-fixtures.ts'

const jwt = () => jwtAuth({ secret: SECRET })
const token = (claims: Record<string, unknown>) => sign(goodClaims(claims), secretBytes(), 'HS256')

describe('authorize, requireRoles and requireScopes', () => {
  it('let a principal with every required role and scope through', async () => {
    const { bearer } = guardedApp(jwt(), requireRoles('admin', 'ops'), requireScopes('orders:read'))
    const res = await bearer(await token({ roles: ['ops', 'admin', 'x'], scope: 'orders:read orders:write' }))
    expect(res.statusCode).toBe(200)
  })

  it('answer 403 KEEL_FORBIDDEN listing what the route requires when a role is missing', async () => {
    const { bearer } = guardedApp(jwt(), requireRoles('admin', 'ops'))
    const res = await bearer(await token({ roles: ['ops'] }))
    expect(res.statusCode).toBe(403)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.json()).toMatchObject({
      type: 'urn:keel:problem:forbidden',
      code: 'KEEL_FORBIDDEN',
      required: { roles: ['admin', 'ops'], scopes: [], match: 'all' },
    })
    // Roles are not OAuth scopes: no insufficient_scope challenge for them.
    expect(res.headers['www-authenticate']).toBeUndefined()
  })

  it('add an RFC 6750 insufficient_scope challenge when a JWT lacks a scope', async () => {
    const { bearer } = guardedApp(jwt(), requireScopes('orders:read', 'orders:write'))
    const res = await bearer(await token({ scope: 'orders:read' }))
    expect(res.statusCode).toBe(403)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer error="insufficient_scope", scope="orders:read orders:write"',
    )
  })

  it('with match "any" need one listed role and one listed scope', async () => {
    const { bearer } = guardedApp(
      jwt(),
      authorize({ roles: ['admin', 'support'], scopes: ['a', 'b'], match: 'any' }),
    )
    expect((await bearer(await token({ roles: ['support'], scope: 'b' }))).statusCode).toBe(200)
    expect((await bearer(await token({ roles: ['support'] }))).statusCode).toBe(403)
    expect((await bearer(await token({ roles: ['viewer'], scope: 'a' }))).statusCode).toBe(403)
  })

  it('answer 401 with the challenges of the auth guards that ran when there is no principal', async () => {
    const { get } = guardedApp(
      jwtAuth({ secret: SECRET, required: false, realm: 'api' }),
      apiKeyAuth({ keys: [], required: false }),
      requireRoles('admin'),
    )
    const res = await get()
    expect(res.statusCode).toBe(401)
    expect(res.json()).toMatchObject({
      code: 'KEEL_UNAUTHORIZED',
      detail: 'the request carries no credentials',
    })
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api", ApiKey')
  })

  it('accept either a JWT or an API key when both auth guards are optional', async () => {
    const key = generateApiKey()
    const { get, bearer } = guardedApp(
      jwtAuth({ secret: SECRET, required: false }),
      apiKeyAuth({ keys: [{ id: 'k', hash: key.hash, roles: ['admin'] }], required: false }),
      requireRoles('admin'),
    )
    expect((await bearer(await token({ roles: ['admin'] }))).json().principal.kind).toBe('jwt')
    expect((await get({ 'x-api-key': key.key })).json().principal.kind).toBe('api-key')
  })

  it('describe their requirements for OpenAPI', () => {
    expect(requireScopes('orders:read').options).toEqual({ roles: [], scopes: ['orders:read'], match: 'all' })
    expect(requireRoles('admin', 'admin').options).toEqual({ roles: ['admin'], scopes: [], match: 'all' })
    expect(authorize({ roles: ['a'], scopes: ['s'], match: 'any' })).toMatchObject({
      name: 'auth.authorize',
      options: { roles: ['a'], scopes: ['s'], match: 'any' },
    })
  })

  it('refuse empty or malformed requirements', () => {
    const fails = (options: AuthorizeOptions, message: RegExp) =>
      expect(() => authorize(options)).toThrow(
        expect.objectContaining({ code: 'KEEL_GUARD_OPTIONS', message: expect.stringMatching(message) }),
      )
    fails({}, /at least one role or scope/)
    fails({ scopes: ['orders read'] }, /not a valid name/)
    fails({ roles: ['"admin"'] }, /not a valid name/)
    fails({ roles: ['a'], match: 'some' as never }, /match must be/)
  })
})

describe('principalOf and requirePrincipal', () => {
  it('give handlers the principal, or a 401 when a route behind optional auth needs one', async () => {
    const { app } = testApp()
    app.group('/api', { guards: [jwtAuth({ secret: SECRET, required: false })] }, (api) => {
      api.get('/hello', (ctx) => ({ hello: principalOf(ctx)?.id ?? 'anonymous' }))
      api.post('/comments', (ctx) => ({ author: requirePrincipal(ctx).id }))
    })
    const auth = { authorization: `Bearer ${await token({ sub: 'ada' })}` }
    expect((await app.inject({ url: '/api/hello' })).json()).toEqual({ hello: 'anonymous' })
    expect((await app.inject({ url: '/api/hello', headers: auth })).json()).toEqual({ hello: 'ada' })
    const anonymous = await app.inject({ method: 'POST', url: '/api/comments' })
    expect([anonymous.statusCode, anonymous.headers['www-authenticate']]).toEqual([401, 'Bearer'])
    expect((await app.inject({ method: 'POST', url: '/api/comments', headers: auth })).json()).toEqual({
      author: 'ada',
    })
  })
})
