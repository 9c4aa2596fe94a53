import {
  type ApiKeyRecord,
  apiKeyAuth,
  generateApiKey,
  hashApiKey,
  requireRoles,
  requireScopes,
} from 'keel/http'
import { describe, expect, it } from 'vitest'
import { guardedApp } from './guarded-app.ts'

const billing = generateApiKey()
const reporting = generateApiKey({ prefix: 'acme' })
const records: ApiKeyRecord[] = [
  {
    id: 'k-billing',
    owner: 'billing-service',
    hash: billing.hash,
    roles: ['service'],
    scopes: ['invoices:read', 'invoices:write'],
    metadata: { tenant: 't1' },
  },
  { id: 'k-reporting', hash: reporting.hash, scopes: ['invoices:read'] },
]

describe('hashApiKey and generateApiKey', () => {
  it('makes prefixed 256-bit keys and stores only a SHA-256 hash, or an HMAC with a pepper', () => {
    expect(billing.key).toMatch(/^keel_[A-Za-z0-9_-]{43}$/)
    expect(reporting.key).toMatch(/^acme_/)
    expect(billing.hash).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/)
    expect(billing.hash).not.toContain(billing.key.slice(5))
    expect(hashApiKey(billing.key)).toBe(billing.hash)
    const peppered = hashApiKey(billing.key, { pepper: 'pepper-from-config' })
    expect(peppered).toMatch(/^hmac-sha256:/)
    expect(peppered).not.toBe(hashApiKey(billing.key, { pepper: 'another-pepper' }))
    expect(generateApiKey().key).not.toBe(generateApiKey().key)
    expect(() => generateApiKey({ prefix: 'no spaces' })).toThrow(/prefix/)
  })
})

describe('apiKeyAuth', () => {
  it('accepts a known key from x-api-key and sets the principal from its record', async () => {
    const { get } = guardedApp(apiKeyAuth({ keys: records }))
    const res = await get({ 'x-api-key': billing.key })
    expect(res.statusCode).toBe(200)
    expect(res.json().principal).toEqual({
      id: 'billing-service',
      kind: 'api-key',
      roles: ['service'],
      scopes: ['invoices:read', 'invoices:write'],
      claims: { tenant: 't1', keyId: 'k-billing', owner: 'billing-service' },
    })
    const other = await get({ 'x-api-key': reporting.key })
    expect(other.json().principal).toMatchObject({ id: 'k-reporting', roles: [], scopes: ['invoices:read'] })
  })

  it('accepts Authorization: ApiKey <key> too, unless turned off', async () => {
    const { get } = guardedApp(apiKeyAuth({ keys: records }))
    expect((await get({ authorization: `ApiKey ${billing.key}` })).statusCode).toBe(200)
    expect((await get({ authorization: `apikey ${billing.key}` })).statusCode).toBe(200)
    const strict = guardedApp(apiKeyAuth({ keys: records, authorizationScheme: false }))
    expect((await strict.get({ authorization: `ApiKey ${billing.key}` })).statusCode).toBe(401)
  })

  it('answers a missing key 401 problem with an ApiKey challenge', async () => {
    const { get } = guardedApp(apiKeyAuth({ keys: records, realm: 'partners' }))
    const res = await get()
    expect(res.statusCode).toBe(401)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.headers['www-authenticate']).toBe('ApiKey realm="partners"')
    expect(res.json()).toMatchObject({ code: 'KEEL_UNAUTHORIZED', detail: 'the request carries no API key' })
  })

  it('refuses unknown keys, near misses, the stored hash itself and keys in the wrong place', async () => {
    const { get, logs } = guardedApp(apiKeyAuth({ keys: records }))
    const refused: Array<Record<string, string>> = [
      { 'x-api-key': generateApiKey().key },
      { 'x-api-key': billing.key.slice(0, -1) + (billing.key.endsWith('A') ? 'B' : 'A') },
      { 'x-api-key': `${billing.key}x` },
      { 'x-api-key': billing.key.toUpperCase() },
      { 'x-api-key': billing.hash },
      { 'x-api-key': billing.hash.slice('sha256:'.length) },
      { 'x-api-key': '' },
      { 'x-api-key': 'k'.repeat(10_000) },
      { 'x-api-token': billing.key },
      { authorization: `Bearer ${billing.key}` },
      { authorization: billing.key },
    ]
    for (const headers of refused) {
      const res = await get(headers)
      expect([res.statusCode, res.json().code, res.headers['www-authenticate']]).toEqual([
        401,
        'KEEL_UNAUTHORIZED',
        'ApiKey',
      ])
      expect(res.body).not.toContain(billing.key)
    }
    const query = await get({}, `/api/me?api_key=${billing.key}`)
    expect(query.statusCode).toBe(401)
    expect(logs.text).not.toContain(billing.key)
  })

  it('redacts a custom key header in debug access logs', async () => {
    const { testApp } = await import('../../support/test-app.ts')
    const { app, logs } = testApp({ overrides: { log: { level: 'debug' } } })
    app.group('/api', { guards: [apiKeyAuth({ keys: records, header: 'X-Vendor-Credential' })] }, (api) => {
      api.get('/me', (ctx) => ({ id: ctx.principal?.id }))
    })
    const res = await app.inject({ url: '/api/me', headers: { 'x-vendor-credential': billing.key } })
    expect(res.statusCode).toBe(200)
    const access = logs.records.find((r) => r.msg === 'request completed')
    expect((access?.headers as Record<string, string> | undefined)?.['x-vendor-credential']).toBe(
      '[REDACTED]',
    )
    expect(logs.text).not.toContain(billing.key)
  })

  it('reads the key from a custom header', async () => {
    const { get } = guardedApp(apiKeyAuth({ keys: records, header: 'X-Partner-Key' }))
    expect((await get({ 'x-partner-key': billing.key })).statusCode).toBe(200)
    expect((await get({ 'x-api-key': billing.key })).statusCode).toBe(401)
  })

  it('refuses an expired key', async () => {
    const key = generateApiKey()
    const { get } = guardedApp(
      apiKeyAuth({ keys: [{ id: 'old', hash: key.hash, expiresAt: new Date(Date.now() - 1000) }] }),
    )
    const res = await get({ 'x-api-key': key.key })
    expect([res.statusCode, res.json().detail]).toEqual([401, 'the API key has expired'])
  })

  it('looks keys up by hash through a function, never seeing the key itself', async () => {
    const asked: string[] = []
    const lookup = async (hash: string) => {
      asked.push(hash)
      return records.find((r) => r.hash === hash)
    }
    const { get } = guardedApp(apiKeyAuth({ keys: lookup }))
    expect((await get({ 'x-api-key': billing.key })).statusCode).toBe(200)
    expect((await get({ 'x-api-key': 'keel_nope' })).statusCode).toBe(401)
    expect(asked).toEqual([billing.hash, hashApiKey('keel_nope')])
  })

  it('refuses a record whose stored hash does not match the presented key, even if a lookup returns it', async () => {
    const { get } = guardedApp(apiKeyAuth({ keys: () => records[0] }))
    expect((await get({ 'x-api-key': reporting.key })).statusCode).toBe(401)
  })

  it('answers 503 when the key lookup fails', async () => {
    const { get } = guardedApp(
      apiKeyAuth({
        keys: () => {
          throw new Error('connection refused')
        },
      }),
    )
    const res = await get({ 'x-api-key': billing.key })
    expect([res.statusCode, res.json().code]).toEqual([503, 'KEEL_AUTH_UNAVAILABLE'])
    expect(res.body).not.toContain('connection refused')
  })

  it('hashes with the pepper when one is configured', async () => {
    const pepper = 'a-pepper-kept-in-config'
    const key = generateApiKey({ pepper })
    const { get } = guardedApp(apiKeyAuth({ keys: [{ id: 'p', hash: key.hash }], pepper }))
    expect((await get({ 'x-api-key': key.key })).statusCode).toBe(200)
    expect(() => apiKeyAuth({ keys: [{ id: 'p', hash: billing.hash }], pepper })).toThrow(/hmac-sha256:/)
  })

  it('in optional mode goes on without a principal, but refuses an unknown key', async () => {
    const { get } = guardedApp(apiKeyAuth({ keys: records, required: false }))
    expect((await get()).json().principal).toBeNull()
    expect((await get({ 'x-api-key': 'keel_unknown' })).statusCode).toBe(401)
  })

  it('enforces roles and scopes with 403 once the key is known', async () => {
    const { get } = guardedApp(apiKeyAuth({ keys: records }), requireScopes('invoices:write'))
    expect((await get({ 'x-api-key': billing.key })).statusCode).toBe(200)
    const res = await get({ 'x-api-key': reporting.key })
    expect(res.statusCode).toBe(403)
    expect(res.json()).toMatchObject({
      code: 'KEEL_FORBIDDEN',
      required: { roles: [], scopes: ['invoices:write'], match: 'all' },
    })
    expect(res.headers['www-authenticate']).toBeUndefined()

    const admin = guardedApp(apiKeyAuth({ keys: records }), requireRoles('admin'))
    expect((await admin.get({ 'x-api-key': billing.key })).statusCode).toBe(403)
    expect((await admin.get()).statusCode).toBe(401)
  })

  it('refuses raw keys, duplicates and empty ids in the key list', () => {
    expect(() => apiKeyAuth({ keys: [{ id: 'raw', hash: billing.key }] })).toThrow(/is a raw key stored/)
    expect(() => apiKeyAuth({ keys: [records[0]!, { ...records[0]!, hash: reporting.hash }] })).toThrow(
      /id is used twice/,
    )
    expect(() => apiKeyAuth({ keys: [records[0]!, { ...records[0]!, id: 'copy' }] })).toThrow(/listed twice/)
    expect(() => apiKeyAuth({ keys: [{ id: '', hash: billing.hash }] })).toThrow(/non-empty id/)
  })

  it('describes itself for OpenAPI without any key or hash', () => {
    const { app } = guardedApp(apiKeyAuth({ keys: records }))
    const description = app.describe()
    expect(description.routes.find((r) => r.path === '/api/me')!.guards).toEqual([
      {
        name: 'auth.apiKey',
        options: {
          securityScheme: 'apiKeyAuth',
          type: 'apiKey',
          in: 'header',
          header: 'x-api-key',
          required: true,
          authorizationScheme: 'ApiKey',
        },
      },
    ])
    expect(JSON.stringify(description)).not.toContain(billing.hash.slice(7))
  })
})
