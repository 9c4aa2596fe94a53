import { isSecretKey, REDACTED, redactDeep, redactUrl } from 'keel/log'
import { describe, expect, it } from 'vitest'

describe('isSecretKey', () => {
  it.each([
    'authorization',
    'Proxy-Authorization',
    'cookie',
    'Set-Cookie',
    'password',
    'token',
    'secret',
    'api_key',
    'apiKey',
    'X-Api-Key',
    'client_secret',
    'x-auth-token',
    'dbPassword',
    'webhook_secret',
    'stripeApiKey',
  ])('treats %s as a secret', (key) => {
    expect(isSecretKey(key)).toBe(true)
  })

  it.each(['user', 'total_tokens', 'max_tokens', 'secretary_name', 'keyboard', 'passport_country'])(
    'leaves %s alone',
    (key) => {
      expect(isSecretKey(key)).toBe(false)
    },
  )
})

describe('redactDeep', () => {
  it('returns a value without secrets as the very same object', () => {
    const value = { a: 1, b: [{ c: 'x' }], d: new Date(0) }
    expect(redactDeep(value)).toBe(value)
  })

  it('copies only what it must', () => {
    const untouched = { plain: true }
    const value = { untouched, inner: { token: 't' } }
    const redacted = redactDeep(value) as typeof value
    expect(redacted).not.toBe(value)
    expect(redacted.untouched).toBe(untouched)
    expect(redacted.inner).toEqual({ token: REDACTED })
    expect(value.inner.token).toBe('t')
  })

  it('turns a nested error into its fields, redacted', () => {
    const error = Object.assign(new Error('boom'), { token: 'e-1' })
    const redacted = redactDeep({ cause: error }) as { cause: Record<string, unknown> }
    expect(redacted.cause).toMatchObject({ type: 'Error', message: 'boom', token: REDACTED })
    expect(redacted.cause.stack).toContain('Error: boom')
  })

  it('hides credentials in values of URL-named keys', () => {
    const redacted = redactDeep({
      url: '/cb?code=1&access_token=at-1',
      callback_url: 'https://app.example/cb?state=s&id_token=it-2',
      db: { url: 'postgres://app:pw-3@db:5432/app' },
      note: 'see /x?token=kept-because-not-a-url-key',
    })
    expect(redacted).toEqual({
      url: `/cb?code=1&access_token=${REDACTED}`,
      callback_url: `https://app.example/cb?state=s&id_token=${REDACTED}`,
      db: { url: `postgres://app:${REDACTED}@db:5432/app` },
      note: 'see /x?token=kept-because-not-a-url-key',
    })
  })

  it('marks cycles and very deep nesting instead of walking past them', () => {
    const cyclic: Record<string, unknown> = { name: 'n' }
    cyclic.self = cyclic
    expect(redactDeep(cyclic)).toEqual({ name: 'n', self: '[Circular]' })
    let deep: Record<string, unknown> = { leaf: 1 }
    for (let i = 0; i < 40; i++) deep = { next: deep }
    expect(JSON.stringify(redactDeep(deep))).toContain('[Truncated]')
  })
})

describe('redactUrl', () => {
  it('hides secret query parameters and keeps the rest', () => {
    expect(redactUrl('/search?q=boats&token=t1&api_key=k1&page=2')).toBe(
      `/search?q=boats&token=${REDACTED}&api_key=${REDACTED}&page=2`,
    )
  })

  it('matches encoded parameter names', () => {
    expect(redactUrl('/x?api%5Fkey=k1')).toBe(`/x?api%5Fkey=${REDACTED}`)
  })

  it('hides the password of a URL with credentials, or a lone user name', () => {
    expect(redactUrl('redis://default:pw@cache:6379')).toBe(`redis://default:${REDACTED}@cache:6379`)
    expect(redactUrl('https://tok123@git.example/repo.git')).toBe(`https://${REDACTED}@git.example/repo.git`)
  })

  it('leaves a URL without secrets unchanged', () => {
    expect(redactUrl('/orders/42?expand=items')).toBe('/orders/42?expand=items')
    expect(redactUrl('https://example.com/x')).toBe('https://example.com/x')
  })
})
