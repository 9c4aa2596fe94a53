import { generateKeyPairSync } from 'node:crypto'
import { type JwtAuthOptions, jwtAuth } from 'keel/http'
import { beforeAll, describe, expect, it } from 'vitest'
import { guardedApp } from './guarded-app.ts'
import {
  AUDIENCE,
  goodClaims,
  ISSUER,
  keyPair,
  SECRET,
  seconds,
  secretBytes,
  sign,
  type TestKeyPair,
} from './token-fixtures.ts'

let rsa: TestKeyPair
let ec: TestKeyPair
let ed: TestKeyPair
beforeAll(async () => {
  ;[rsa, ec, ed] = await Promise.all([
    keyPair('RS256', 'rsa-1'),
    keyPair('ES256', 'ec-1'),
    keyPair('EdDSA', 'ed-1'),
  ])
})

const checks = { issuer: ISSUER, audience: AUDIENCE }
const hs256 = (payload = goodClaims()) => sign(payload, secretBytes(), 'HS256')

describe('jwtAuth: verifying tokens', () => {
  it('accepts an HS256 token signed with the shared secret and maps its claims to the principal', async () => {
    const { bearer } = guardedApp(jwtAuth({ secret: SECRET, ...checks }))
    const token = await hs256(
      goodClaims({ roles: ['admin', 'ops'], scope: 'orders:read orders:write', tenant: 't1' }),
    )
    const res = await bearer(token)
    expect(res.statusCode).toBe(200)
    expect(res.json().principal).toMatchObject({
      id: 'user-1',
      kind: 'jwt',
      roles: ['admin', 'ops'],
      scopes: ['orders:read', 'orders:write'],
      claims: { sub: 'user-1', iss: ISSUER, aud: AUDIENCE, tenant: 't1' },
    })
  })

  it('accepts RS256 with a PEM public key, ES256 with a JWK and EdDSA with a PEM', async () => {
    const cases: Array<[TestKeyPair, JwtAuthOptions]> = [
      [rsa, { publicKey: rsa.publicPem, ...checks }],
      [ec, { publicKey: ec.publicJwk as never, ...checks }],
      [ed, { publicKey: ed.publicPem, ...checks }],
    ]
    for (const [pair, options] of cases) {
      const { bearer } = guardedApp(jwtAuth(options))
      const res = await bearer(await sign(goodClaims({ sub: pair.alg }), pair.privateKey, pair.alg))
      expect([pair.alg, res.statusCode, res.json().principal?.id]).toEqual([pair.alg, 200, pair.alg])
    }
  })

  it('reads scopes from scp and roles from a nested claim path or a namespaced claim name', async () => {
    const nested = guardedApp(jwtAuth({ secret: SECRET, rolesClaim: 'realm_access.roles' }))
    const res = await nested.bearer(
      await hs256(goodClaims({ scp: ['a', 'b'], realm_access: { roles: ['viewer'] } })),
    )
    expect(res.json().principal).toMatchObject({ roles: ['viewer'], scopes: ['a', 'b'] })

    const namespaced = guardedApp(jwtAuth({ secret: SECRET, rolesClaim: 'https://keel.dev/roles' }))
    const res2 = await namespaced.bearer(
      await hs256(goodClaims({ 'https://keel.dev/roles': 'editor author' })),
    )
    expect(res2.json().principal.roles).toEqual(['editor', 'author'])
  })

  it('allows 30 s of clock skew by default and honours clockSkewSec', async () => {
    const { bearer } = guardedApp(jwtAuth({ secret: SECRET }))
    expect((await bearer(await hs256(goodClaims({ exp: seconds.ago(10) })))).statusCode).toBe(200)
    expect((await bearer(await hs256(goodClaims({ nbf: seconds.ahead(10) })))).statusCode).toBe(200)
    expect((await bearer(await hs256(goodClaims({ exp: seconds.ago(60) })))).statusCode).toBe(401)

    const strict = guardedApp(jwtAuth({ secret: SECRET, clockSkewSec: 0 }))
    expect((await strict.bearer(await hs256(goodClaims({ exp: seconds.ago(10) })))).statusCode).toBe(401)
  })

  it('requires exp and configured claims, and a subject', async () => {
    const { bearer } = guardedApp(jwtAuth({ secret: SECRET, requiredClaims: ['tenant'] }))
    const noExp = await bearer(await hs256({ sub: 'u', tenant: 't' }))
    expect([noExp.statusCode, noExp.json().detail]).toEqual([401, 'the token lacks the required exp claim'])
    const noTenant = await bearer(await hs256(goodClaims()))
    expect(noTenant.json().detail).toBe('the token lacks the required tenant claim')
    const noSub = await bearer(await hs256(goodClaims({ sub: undefined, tenant: 't' })))
    expect(noSub.json().detail).toBe('the token lacks the sub claim')

    const lenient = guardedApp(jwtAuth({ secret: SECRET, requireExpiry: false }))
    expect((await lenient.bearer(await hs256({ sub: 'u' }))).statusCode).toBe(200)
  })

  it('answers a request without a token 401 with a bare Bearer challenge, as RFC 6750 §3.1 asks', async () => {
    const { get } = guardedApp(jwtAuth({ secret: SECRET, realm: 'orders' }))
    const res = await get()
    expect(res.statusCode).toBe(401)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"')
    expect(res.json()).toMatchObject({
      type: 'urn:keel:problem:unauthorized',
      status: 401,
      code: 'KEEL_UNAUTHORIZED',
      detail: 'the request carries no bearer token',
    })
  })

  it('answers an invalid token 401 with error="invalid_token" and a description, never echoing the token', async () => {
    const { bearer, logs } = guardedApp(jwtAuth({ secret: SECRET, realm: 'orders' }))
    const token = await hs256(goodClaims({ exp: seconds.ago(3600) }))
    const res = await bearer(token)
    expect(res.statusCode).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="orders", error="invalid_token", error_description="the token has expired"',
    )
    expect(res.json().detail).toBe('the token has expired')
    expect(res.body).not.toContain(token.split('.')[1])
    expect(logs.text).not.toContain(token.split('.')[1])
  })

  it('in optional mode goes on without a principal when no token comes, but still refuses a bad one', async () => {
    const { get, bearer } = guardedApp(jwtAuth({ secret: SECRET, required: false }))
    const anonymous = await get()
    expect([anonymous.statusCode, anonymous.json().principal]).toEqual([200, null])
    const basic = await get({ authorization: 'Basic dXNlcjpwYXNz' })
    expect(basic.json().principal).toBeNull()
    expect((await bearer(await hs256())).json().principal.id).toBe('user-1')
    const bad = await bearer(await hs256(goodClaims({ exp: seconds.ago(3600) })))
    expect([bad.statusCode, bad.headers['www-authenticate']]).toEqual([
      401,
      'Bearer error="invalid_token", error_description="the token has expired"',
    ])
  })

  it('accepts the scheme name in any case and ignores surrounding spaces', async () => {
    const { get } = guardedApp(jwtAuth({ secret: SECRET }))
    const token = await hs256()
    expect((await get({ authorization: `bearer ${token}` })).statusCode).toBe(200)
    expect((await get({ authorization: `  BEARER   ${token}  ` })).statusCode).toBe(200)
  })

  it('checks a typ header when asked (RFC 9068 access tokens)', async () => {
    const { bearer } = guardedApp(jwtAuth({ secret: SECRET, typ: 'at+jwt' }))
    expect(
      (await bearer(await sign(goodClaims(), secretBytes(), 'HS256', { typ: 'at+jwt' }))).statusCode,
    ).toBe(200)
    expect((await bearer(await hs256())).json().detail).toBe('the token has the wrong type')
  })
})

describe('jwtAuth: configuration', () => {
  const fails = (options: unknown, message: RegExp) =>
    expect(() => jwtAuth(options as JwtAuthOptions)).toThrow(
      expect.objectContaining({ code: 'KEEL_GUARD_OPTIONS', message: expect.stringMatching(message) }),
    )

  it('refuses configurations that would weaken verification', () => {
    fails({}, /give one of secret, publicKey or jwksUrl/)
    fails({ secret: SECRET, publicKey: rsa.publicPem }, /only one of/)
    fails({ secret: 'short' }, /5 bytes; HS256 needs at least 32/)
    fails({ secret: rsa.publicPem }, /looks like a PEM or JWK key/)
    fails({ secret: SECRET, algorithms: ['HS512'] }, /HS512 cannot be used with the secret/)
    fails({ secret: SECRET, algorithms: ['none'] }, /none cannot be used/)
    fails({ publicKey: rsa.publicPem, algorithms: ['HS256'] }, /HS256 cannot be used with the public key/)
    fails({ publicKey: rsa.publicPem, algorithms: ['ES256'] }, /ES256 cannot be used/)
    fails({ publicKey: ec.publicPem, algorithms: ['ES384'] }, /ES384 cannot be used/)
    fails({ publicKey: { kty: 'oct', k: 'c2VjcmV0' } }, /symmetric JWK; pass it as secret/)
    fails({ publicKey: { ...ec.publicJwk, d: 'x' } }, /private JWK/)
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
    fails({ publicKey: weak.publicKey }, /at least 2048 bits/)
    fails({ publicKey: weak.privateKey }, /private key/)
    fails({ publicKey: 'not a key' }, /not a PEM public key/)
    fails({ jwksUrl: 'http://id.example.com/jwks.json', ...checks }, /must be https:/)
    fails({ jwksUrl: 'https://id.example.com/jwks.json' }, /needs issuer and audience/)
    fails({ secret: SECRET, clockSkewSec: -1 }, /clockSkewSec/)
  })

  it('narrows the algorithms a key allows when told to', async () => {
    const { bearer } = guardedApp(jwtAuth({ publicKey: rsa.publicPem, algorithms: ['PS256'] }))
    const rs = await bearer(await sign(goodClaims(), rsa.privateKey, 'RS256'))
    expect([rs.statusCode, rs.json().detail]).toEqual([401, 'the token algorithm is not accepted'])
  })

  it('describes itself for OpenAPI without the secret', () => {
    const { app } = guardedApp(jwtAuth({ secret: SECRET, ...checks, realm: 'orders' }))
    const description = app.describe()
    const route = description.routes.find((r) => r.path === '/api/me')!
    expect(route.guards).toEqual([
      {
        name: 'auth.jwt',
        options: {
          securityScheme: 'bearerAuth',
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          required: true,
          keySource: 'secret',
          algorithms: ['HS256', 'HS384'],
          clockSkewSec: 30,
          rolesClaim: 'roles',
          issuer: ISSUER,
          audience: AUDIENCE,
        },
      },
    ])
    expect(JSON.stringify(description)).not.toContain(SECRET)
  })
})
