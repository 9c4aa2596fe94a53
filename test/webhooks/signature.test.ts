import { isKeelError, type KeelError } from 'keel/errors'
import { generateWebhookSecret, secretKey, signWebhook, verifyWebhook } from 'keel/webhooks'
import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'

const secret = generateWebhookSecret()
const body = JSON.stringify({ type: 'todo.created', data: { id: 7, title: 'café ☕' } })
const now = 1_800_000_000

function failure(fn: () => unknown): KeelError {
  try {
    fn()
  } catch (error) {
    expect(isKeelError(error)).toBe(true)
    return error as KeelError
  }
  throw new Error('expected a KeelError')
}

describe('webhook signatures (Standard Webhooks)', () => {
  it('verifies what it signed and returns the id and timestamp', () => {
    const headers = signWebhook({ id: 'msg_1', body, timestamp: now }, [secret])
    expect(headers['webhook-id']).toBe('msg_1')
    expect(headers['webhook-timestamp']).toBe(String(now))
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/)
    expect(verifyWebhook(headers, body, { secrets: [secret], now })).toEqual({ id: 'msg_1', timestamp: now })
    expect(verifyWebhook(headers, Buffer.from(body), { secrets: [secret], now: now + 299 })).toMatchObject({
      id: 'msg_1',
    })
  })

  it('interoperates with the standardwebhooks reference package, both ways', () => {
    const headers = signWebhook({ id: 'msg_interop', body }, [secret])
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body))

    const reference = new Webhook(secret)
    const timestamp = new Date()
    const signed = {
      'webhook-id': 'msg_ref',
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': reference.sign('msg_ref', timestamp, body),
    }
    expect(verifyWebhook(signed, body, { secrets: [secret] }).id).toBe('msg_ref')
  })

  it('refuses a changed body, another secret, a changed id and a changed timestamp', () => {
    const headers = signWebhook({ id: 'msg_2', body, timestamp: now }, [secret])
    const noMatch = 'no webhook-signature matches the body with any of the secrets'
    const cases: [Record<string, string>, string, string[]][] = [
      [headers, body.replace('7', '8'), [secret]],
      [headers, body, [generateWebhookSecret()]],
      [{ ...headers, 'webhook-id': 'msg_3' }, body, [secret]],
      [{ ...headers, 'webhook-timestamp': String(now + 1) }, body, [secret]],
      [{ ...headers, 'webhook-signature': 'v1,AAAA' }, body, [secret]],
      [
        { ...headers, 'webhook-signature': headers['webhook-signature'].replace('v1,', 'v2,') },
        body,
        [secret],
      ],
    ]
    for (const [h, b, secrets] of cases) {
      const error = failure(() => verifyWebhook(h, b, { secrets, now }))
      expect(error.code).toBe('KEEL_WEBHOOK_SIGNATURE')
      expect(error.status).toBe(401)
      expect(error.message).toBe(noMatch)
    }
  })

  it('refuses a timestamp outside the tolerance either way, so a captured delivery cannot be replayed later', () => {
    const headers = signWebhook({ id: 'msg_4', body, timestamp: now }, [secret])
    expect(failure(() => verifyWebhook(headers, body, { secrets: [secret], now: now + 301 })).message).toBe(
      `webhook-timestamp ${now} is 301 s old, outside the 300 s tolerance`,
    )
    expect(failure(() => verifyWebhook(headers, body, { secrets: [secret], now: now - 301 })).message).toBe(
      `webhook-timestamp ${now} is 301 s in the future, outside the 300 s tolerance`,
    )
    expect(
      verifyWebhook(headers, body, { secrets: [secret], now: now + 3000, toleranceSeconds: 3600 }).id,
    ).toBe('msg_4')
  })

  it('accepts either secret while one is rotated, and finds headers in any case', () => {
    const next = generateWebhookSecret()
    const both = signWebhook({ id: 'msg_5', body, timestamp: now }, [secret, next])
    expect(both['webhook-signature'].split(' ')).toHaveLength(2)
    expect(verifyWebhook(both, body, { secrets: [next], now }).id).toBe('msg_5')
    const old = signWebhook({ id: 'msg_6', body, timestamp: now }, [secret])
    expect(verifyWebhook(old, body, { secrets: [next, secret], now }).id).toBe('msg_6')
    const shouting = Object.fromEntries(Object.entries(old).map(([k, v]) => [k.toUpperCase(), v]))
    expect(verifyWebhook(shouting, body, { secrets: [secret], now }).id).toBe('msg_6')
  })

  it('names each missing or malformed header', () => {
    const headers = signWebhook({ id: 'msg_7', body, timestamp: now }, [secret])
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _, ...without } = headers
      expect(failure(() => verifyWebhook(without, body, { secrets: [secret], now })).message).toBe(
        `the ${name} header is missing`,
      )
    }
    expect(
      failure(() =>
        verifyWebhook({ ...headers, 'webhook-timestamp': '17e8' }, body, { secrets: [secret], now }),
      ).message,
    ).toBe('webhook-timestamp is not a number of seconds: "17e8"')
  })

  it('refuses malformed and short secrets, ids with dots, and signing without a secret', () => {
    expect(secretKey(generateWebhookSecret())).toHaveLength(32)
    expect(generateWebhookSecret()).not.toBe(generateWebhookSecret())
    const cases: [() => unknown, string][] = [
      [() => secretKey('whsec_not base64!'), 'must be "whsec_" followed by base64'],
      [() => secretKey(`whsec_${Buffer.alloc(8).toString('base64')}`), 'at least 16 bytes, this one holds 8'],
      [() => signWebhook({ id: 'a.b', body }, [secret]), 'without spaces or dots, got "a.b"'],
      [() => signWebhook({ id: 'msg', body }, []), 'needs at least one secret'],
      [() => verifyWebhook({}, body, { secrets: [] }), 'needs at least one secret'],
    ]
    for (const [fn, message] of cases) {
      const error = failure(fn)
      expect(error.code).toBe('KEEL_WEBHOOK_SECRET')
      expect(error.message).toContain(message)
    }
  })
})
