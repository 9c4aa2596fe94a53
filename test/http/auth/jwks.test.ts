import { jwtAuth } from 'keel/http'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { guardedApp } from './guarded-app.ts'
import {
  AUDIENCE,
  goodClaims,
  ISSUER,
  JwksServer,
  keyPair,
  sign,
  type TestKeyPair,
} from './token-fixtures.ts'

let first: TestKeyPair
let second: TestKeyPair
let ec: TestKeyPair
beforeAll(async () => {
  ;[first, second, ec] = await Promise.all([
    keyPair('RS256', 'key-2024'),
    keyPair('RS256', 'key-2025'),
    keyPair('ES256', 'ec-2025'),
  ])
})

let jwks: JwksServer
let jwksUrl: string
beforeEach(async () => {
  jwks = new JwksServer()
  jwks.keys = [first.publicJwk]
  jwksUrl = await jwks.start()
})
afterEach(() => jwks.stop())

const checks = { issuer: ISSUER, audience: AUDIENCE }
const tokenBy = (pair: TestKeyPair, header: Record<string, unknown> = { kid: pair.kid }) =>
  sign(goodClaims({ sub: pair.kid }), pair.privateKey, pair.alg, header)

describe('jwtAuth with a JWKS URL', () => {
  it('verifies tokens with the key their kid names and fetches the key set once for many requests', async () => {
    const { bearer } = guardedApp(jwtAuth({ jwksUrl, ...checks }))
    for (let i = 0; i < 5; i++) {
      const res = await bearer(await tokenBy(first))
      expect([res.statusCode, res.json().principal.id]).toEqual([200, 'key-2024'])
    }
    expect(jwks.fetches).toBe(1)
  })

  it('accepts a key that appears after rotation once it refetches, and refuses a kid the set lacks', async () => {
    const { bearer } = guardedApp(jwtAuth({ jwksUrl, ...checks, jwks: { cooldownMs: 0 } }))
    expect((await bearer(await tokenBy(first))).statusCode).toBe(200)

    const early = await bearer(await tokenBy(second))
    expect([early.statusCode, early.json().detail]).toEqual([401, 'no key of this service matches the token'])
    expect(early.headers['www-authenticate']).toContain('error="invalid_token"')
    const fetchesBefore = jwks.fetches

    jwks.keys = [first.publicJwk, second.publicJwk, ec.publicJwk]
    const rotated = await bearer(await tokenBy(second))
    expect([rotated.statusCode, rotated.json().principal.id]).toEqual([200, 'key-2025'])
    expect(jwks.fetches).toBe(fetchesBefore + 1)
    expect((await bearer(await tokenBy(ec))).statusCode).toBe(200)
    // The set is cached now: known kids cost no fetch.
    const settled = jwks.fetches
    await bearer(await tokenBy(first))
    await bearer(await tokenBy(second))
    expect(jwks.fetches).toBe(settled)
  })

  it('refetches for an unknown kid at most once per cooldown, so random kids cannot flood the issuer', async () => {
    const { bearer } = guardedApp(jwtAuth({ jwksUrl, ...checks }))
    expect((await bearer(await tokenBy(first))).statusCode).toBe(200)
    for (let i = 0; i < 5; i++) {
      const forged = await sign(goodClaims(), second.privateKey, 'RS256', { kid: `random-${i}` })
      expect((await bearer(forged)).statusCode).toBe(401)
    }
    expect(jwks.fetches).toBe(1)
  })

  it('drops a retired key once the cached set expires', async () => {
    const { bearer } = guardedApp(jwtAuth({ jwksUrl, ...checks, jwks: { cacheMaxAgeMs: 0 } }))
    expect((await bearer(await tokenBy(first))).statusCode).toBe(200)
    jwks.keys = [second.publicJwk]
    const retired = await bearer(await tokenBy(first))
    expect([retired.statusCode, retired.json().detail]).toEqual([
      401,
      'no key of this service matches the token',
    ])
    expect((await bearer(await tokenBy(second))).statusCode).toBe(200)
  })

  it('tries each fitting key when a token has no kid', async () => {
    jwks.keys = [
      { ...first.publicJwk, kid: undefined },
      { ...second.publicJwk, kid: undefined },
    ]
    const { bearer } = guardedApp(jwtAuth({ jwksUrl, ...checks }))
    const res = await bearer(await tokenBy(second, {}))
    expect([res.statusCode, res.json().principal.id]).toEqual([200, 'key-2025'])
    const foreign = await bearer(await tokenBy(ec, {}))
    expect(foreign.statusCode).toBe(401)
  })

  it('answers 503 KEEL_AUTH_UNAVAILABLE, not 401, when the key set cannot be fetched', async () => {
    jwks.failing = true
    const { bearer, logs } = guardedApp(jwtAuth({ jwksUrl, ...checks }))
    const res = await bearer(await tokenBy(first))
    expect(res.statusCode).toBe(503)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['retry-after']).toBe('5')
    expect(res.json()).toMatchObject({
      code: 'KEEL_AUTH_UNAVAILABLE',
      detail: 'the service cannot verify tokens right now',
    })
    expect(res.body).not.toContain('127.0.0.1')
    expect(logs.records.some((r) => r.msg === 'jwt: the JWKS is unavailable' && r.level === 'warn')).toBe(
      true,
    )

    jwks.failing = false
    expect((await bearer(await tokenBy(first))).statusCode).toBe(200)
  })

  it('describes itself with the JWKS URL minus credentials and query', () => {
    const url = new URL(jwksUrl)
    url.username = 'svc'
    url.password = 'hunter2'
    url.search = '?token=abc'
    const guard = jwtAuth({ jwksUrl: url, ...checks, securityScheme: 'idp' })
    expect(guard.options).toMatchObject({ securityScheme: 'idp', keySource: 'jwks', jwksUrl })
    expect(JSON.stringify(guard.options)).not.toMatch(/hunter2|token=abc/)
  })
})
