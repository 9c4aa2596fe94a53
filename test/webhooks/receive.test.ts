import type { App } from 'keel/app'
import { generateWebhookSecret, readWebhook, signWebhook } from 'keel/webhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { testApp } from '../support/test-app.ts'

const secret = generateWebhookSecret()
let running: App | undefined
afterEach(async () => {
  await running?.stop()
  running = undefined
})

async function receiver() {
  const received: unknown[] = []
  const { app } = testApp()
  app.post('/hooks', async (ctx) => {
    const delivery = await readWebhook(ctx, { secrets: [secret], limitBytes: 256 })
    received.push(delivery)
    return { received: delivery.id }
  })
  running = app
  const { url } = await app.start()
  return { url: `${url}/hooks`, received }
}

describe('readWebhook()', () => {
  it('accepts a signed delivery over HTTP and hands the handler its parsed payload', async () => {
    const { url, received } = await receiver()
    const body = JSON.stringify({ type: 'invoice.paid', amount: 1250 })
    const headers = signWebhook({ id: 'msg_a', body }, [secret])
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body,
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ received: 'msg_a' })
    expect(received).toEqual([
      {
        id: 'msg_a',
        timestamp: Number(headers['webhook-timestamp']),
        payload: { type: 'invoice.paid', amount: 1250 },
      },
    ])
  })

  it('answers a tampered delivery with a 401 problem and never calls on', async () => {
    const { url, received } = await receiver()
    const body = JSON.stringify({ amount: 1 })
    const headers = signWebhook({ id: 'msg_b', body }, [secret])
    const res = await fetch(url, { method: 'POST', headers: { ...headers }, body: body.replace('1', '9') })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(await res.json()).toMatchObject({
      status: 401,
      detail: 'no webhook-signature matches the body with any of the secrets',
    })
    expect(received).toEqual([])
  })

  it('answers a replayed delivery (old timestamp) with 401, and a body past the limit with 413', async () => {
    const { url } = await receiver()
    const body = '{}'
    const old = signWebhook({ id: 'msg_c', body, timestamp: Math.floor(Date.now() / 1000) - 3600 }, [secret])
    const replay = await fetch(url, { method: 'POST', headers: { ...old }, body })
    expect(replay.status).toBe(401)
    expect(((await replay.json()) as { detail: string }).detail).toMatch(
      /s old, outside the 300 s tolerance$/,
    )

    const big = JSON.stringify({ pad: 'x'.repeat(400) })
    const res = await fetch(url, {
      method: 'POST',
      headers: { ...signWebhook({ id: 'msg_d', body: big }, [secret]) },
      body: big,
    })
    expect(res.status).toBe(413)
  })
})
