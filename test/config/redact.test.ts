import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Type } from '@sinclair/typebox'
import { defineConfigSection, loadConfig, REDACTED, redactSecret, Secret } from 'keel/config'
import { describe, expect, it } from 'vitest'

describe('redactSecret', () => {
  it('keeps scheme, host, port, path and harmless parameters of a URL, hiding the password', () => {
    const shown = redactSecret('postgres://app:s3cr3t-pw@db.internal:5432/orders?sslmode=require')
    expect(shown).toBe(`postgres://app:${REDACTED}@db.internal:5432/orders?sslmode=require`)
  })

  it('hides a username that stands alone, as tokens often do', () => {
    const shown = redactSecret('redis://tok-4f9a8b@cache.internal:6379/0')
    expect(shown).toBe(`redis://${REDACTED}@cache.internal:6379/0`)
  })

  it('hides secret query parameters and keeps the rest', () => {
    const shown = redactSecret(
      'https://api.example.com/v1?region=eu&api_key=k-111&token=t-222&client_secret=c-333&password=p-444&X-Amz-Signature=s-555',
    ) as string
    for (const secret of ['k-111', 't-222', 'c-333', 'p-444', 's-555']) expect(shown).not.toContain(secret)
    expect(shown).toContain('region=eu')
    expect(shown).toContain('https://api.example.com/v1?')
    expect(shown.match(/\[REDACTED\]/g)).toHaveLength(5)
  })

  it('hides a percent-encoded password in both its forms', () => {
    const shown = redactSecret('postgres://app:p%40ss%2Fw0rd@db:5432/app') as string
    expect(shown).not.toContain('p%40ss')
    expect(shown).not.toContain('p@ss')
    expect(shown).toContain('@db:5432/app')
  })

  it('hides a value that is not a URL entirely', () => {
    expect(redactSecret('hunter2')).toBe(REDACTED)
    expect(redactSecret('Bearer eyJhbGciOi.abc.def')).toBe(REDACTED)
    expect(redactSecret(12345)).toBe(REDACTED)
  })

  it('shows an empty value as empty, so "unset" stays visible', () => {
    expect(redactSecret('')).toBe('')
  })

  it('leaves a URL without credentials as it is', () => {
    expect(redactSecret('nats://bus.internal:4222')).toBe('nats://bus.internal:4222')
  })
})

describe('ConfigEntry.isSecret', () => {
  const root = () => mkdtempSync(join(tmpdir(), 'keel-redact-'))

  it('marks database.url and every tracing header as secret, and ordinary keys not', () => {
    const dir = root()
    writeFileSync(
      join(dir, 'keel.yaml'),
      'tracing:\n  headers:\n    authorization: Bearer abc\n    x-tenant: acme\n',
    )
    const config = loadConfig({
      root: dir,
      env: { DATABASE_URL: 'postgres://u:pw@db/app', REDIS_URL: 'redis://:pw@cache:6379' },
    })
    const secret = (key: string) => config.entries().find((e) => e.key === key)?.isSecret
    expect(secret('database.url')).toBe(true)
    expect(secret('redis.url')).toBe(true)
    expect(secret('tracing.headers.authorization')).toBe(true)
    expect(secret('tracing.headers.x-tenant')).toBe(true)
    expect(secret('server.port')).toBe(false)
    expect(secret('tracing.endpoint')).toBe(false)
  })

  it('marks a module key declared with Secret() and one named like a secret', () => {
    const payments = defineConfigSection('payments', {
      signingKey: Secret({ default: 'dev-signing-key' }),
      apiToken: Type.String({ default: 'dev-token' }),
      currency: Type.String({ default: 'EUR' }),
    })
    const config = loadConfig({ root: root(), env: {}, sections: [payments] })
    const secret = (key: string) => config.entries().find((e) => e.key === key)?.isSecret
    expect(secret('payments.signingKey')).toBe(true)
    expect(secret('payments.apiToken')).toBe(true)
    expect(secret('payments.currency')).toBe(false)
  })
})
