import type { App } from 'keel/app'
import { apiKeyAuth, authorize, generateApiKey, jwtAuth } from 'keel/http'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../../support/test-app.ts'
import { sampleValue, scrape } from '../scrape.ts'
import { AUDIENCE, goodClaims, ISSUER, SECRET, seconds, secretBytes, sign } from './token-fixtures.ts'

let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

const metric = 'keel_auth_requests_total'
const hs256 = (payload = goodClaims()) => sign(payload, secretBytes(), 'HS256')

/** An app on 127.0.0.1 whose `/api/me` is behind JWT auth and `/api/admin` also needs the admin role. */
async function jwtApp() {
  const { app } = testApp()
  const jwt = jwtAuth({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE })
  app.group('/api', { guards: [jwt] }, (api) => {
    api.get('/me', (ctx) => ({ id: ctx.principal?.id }))
    api.get('/admin', { guards: [authorize({ roles: ['admin'] })] }, () => ({ ok: true }))
  })
  const { url } = await app.start()
  running = app
  const get = (path: string, token?: string) =>
    fetch(`${url}${path}`, {
      headers: { connection: 'close', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    })
  return { url, get }
}

describe('auth metrics', () => {
  it('has a series at 0 for every outcome of each guard before any request', async () => {
    const { url } = await jwtApp()
    const samples = await scrape(url)
    for (const outcome of ['accepted', 'missing', 'expired', 'bad_signature', 'bad_claims', 'unavailable'])
      expect(sampleValue(samples, metric, { guard: 'auth.jwt', outcome })).toBe(0)
    for (const outcome of ['accepted', 'unauthenticated', 'forbidden'])
      expect(sampleValue(samples, metric, { guard: 'auth.authorize', outcome })).toBe(0)
  })

  it('counts an accepted token, a missing one, and each rejection under its reason', async () => {
    const { url, get } = await jwtApp()
    expect((await get('/api/me', await hs256())).status).toBe(200)
    expect((await get('/api/me')).status).toBe(401)
    const expired = await hs256(goodClaims({ iat: seconds.ago(3600), exp: seconds.ago(600) }))
    expect((await get('/api/me', expired)).status).toBe(401)
    expect((await get('/api/me', expired)).status).toBe(401)
    const notYet = await hs256(goodClaims({ nbf: seconds.ahead(3600) }))
    expect((await get('/api/me', notYet)).status).toBe(401)
    const wrongAudience = await hs256(goodClaims({ aud: 'someone-else' }))
    expect((await get('/api/me', wrongAudience)).status).toBe(401)
    const forged = await sign(
      goodClaims(),
      secretBytes('another-secret-that-is-48-bytes-long-0000000000'),
      'HS256',
    )
    expect((await get('/api/me', forged)).status).toBe(401)
    expect((await get('/api/me', 'not.a.jwt')).status).toBe(401)

    const samples = await scrape(url)
    const jwt = (outcome: string) => sampleValue(samples, metric, { guard: 'auth.jwt', outcome })
    expect(jwt('accepted')).toBe(1)
    expect(jwt('missing')).toBe(1)
    expect(jwt('expired')).toBe(2)
    expect(jwt('not_yet_valid')).toBe(1)
    expect(jwt('bad_claims')).toBe(1)
    expect(jwt('bad_signature')).toBe(1)
    expect(jwt('malformed')).toBe(1)
    expect(jwt('unknown_key')).toBe(0)
  })

  it('counts authorize decisions: forbidden for a principal without the role, accepted with it', async () => {
    const { url, get } = await jwtApp()
    expect((await get('/api/admin', await hs256())).status).toBe(403)
    expect((await get('/api/admin', await hs256(goodClaims({ roles: ['admin'] })))).status).toBe(200)
    const samples = await scrape(url)
    expect(sampleValue(samples, metric, { guard: 'auth.authorize', outcome: 'forbidden' })).toBe(1)
    expect(sampleValue(samples, metric, { guard: 'auth.authorize', outcome: 'accepted' })).toBe(1)
    expect(sampleValue(samples, metric, { guard: 'auth.jwt', outcome: 'accepted' })).toBe(2)
  })

  it('never puts anything from the credentials in a label', async () => {
    const { url, get } = await jwtApp()
    const token = await hs256(goodClaims({ sub: 'secret-subject-42', aud: 'leaky-audience' }))
    await get('/api/me', token)
    const text = await (await fetch(`${url}/metrics`)).text()
    expect(text).not.toContain('secret-subject-42')
    expect(text).not.toContain('leaky-audience')
    expect(text).not.toContain(token.slice(0, 20))
    const outcomes = new Set(
      (await scrape(url)).filter((s) => s.name === metric).map((s) => s.labels.outcome),
    )
    expect([...outcomes].every((o) => /^[a-z_]+$/.test(o!))).toBe(true)
  })

  it('counts API key outcomes: accepted, invalid, missing and anonymous', async () => {
    const { app } = testApp()
    const key = generateApiKey()
    const keys = [{ id: 'k1', hash: key.hash }]
    app.get('/required', { guards: [apiKeyAuth({ keys })] }, () => ({ ok: true }))
    app.get('/optional', { guards: [apiKeyAuth({ keys, required: false })] }, () => ({ ok: true }))
    const { url } = await app.start()
    running = app
    const get = (path: string, apiKey?: string) =>
      fetch(`${url}${path}`, { headers: { connection: 'close', ...(apiKey ? { 'x-api-key': apiKey } : {}) } })
    expect((await get('/required', key.key)).status).toBe(200)
    expect((await get('/required', 'kk_wrong')).status).toBe(401)
    expect((await get('/required')).status).toBe(401)
    expect((await get('/optional')).status).toBe(200)
    const samples = await scrape(url)
    const apiKey = (outcome: string) => sampleValue(samples, metric, { guard: 'auth.apiKey', outcome })
    // Both guards are named auth.apiKey: they share the series.
    expect(apiKey('accepted')).toBe(1)
    expect(apiKey('invalid')).toBe(1)
    expect(apiKey('missing')).toBe(1)
    expect(apiKey('anonymous')).toBe(1)
    expect(apiKey('expired')).toBe(0)
  })
})
