import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { App } from 'keel/app'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOrdersApp } from '../../examples/orders/app.ts'
import { LogCapture } from '../support/log-capture.ts'

// The orders example over HTTP, as a client sees it: one listening app on embedded PGlite (in
// memory; opening it takes seconds, so every test shares it).

const adminKey = 'test-orders-admin-key'
const root = mkdtempSync(join(tmpdir(), 'keel-orders-'))
const logs = new LogCapture()
let app: App
let base: string

beforeAll(async () => {
  app = createOrdersApp({
    root,
    env: {},
    logStream: logs,
    overrides: {
      server: { port: 0, host: '127.0.0.1', keepAliveTimeoutMs: 1000 },
      metrics: { defaultMetrics: false },
      flows: { pollMs: 50 },
      orders: { adminKey },
    },
  })
  base = (await app.start()).url
}, 120_000)

afterAll(async () => {
  await app?.stop()
  rmSync(root, { recursive: true, force: true })
})

const order = (orderId: string, overrides: Record<string, unknown> = {}) => ({
  orderId,
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  items: [{ sku: 'widget', qty: 2 }],
  amount: 2599,
  card: 'tok_visa_4242',
  country: 'NL',
  ...overrides,
})

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })

const getJson = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${base}${path}`, { headers })
  const body = (await response.json()) as unknown
  return { status: response.status, type: response.headers.get('content-type'), body }
}

/** GETs a status URL until the run is final. */
async function settled(statusUrl: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const body = (await getJson(statusUrl)).body as Record<string, unknown>
    const status = body.status as string
    if (['completed', 'compensated', 'discarded', 'dead'].includes(status)) return body
    if (Date.now() > deadline) throw new Error(`run still ${status}: ${JSON.stringify(body)}`)
    await sleep(50)
  }
}

const effects = async (orderId: string) =>
  ((await getJson(`/orders/${orderId}/effects`)).body as { effect: string }[]).map((e) => e.effect)

describe('examples/orders over HTTP', () => {
  it('accepts an order with 202 and a status URL, and the run completes with every effect once', async () => {
    const response = await post('/orders', order('A-1001'), { 'idempotency-key': 'A-1001' })
    expect(response.status).toBe(202)
    const accepted = (await response.json()) as { runId: string; statusUrl: string }
    expect(accepted).toMatchObject({ runId: 'order:A-1001', statusUrl: '/orders/runs/order%3AA-1001' })
    expect(response.headers.get('location')).toBe(accepted.statusUrl)

    const run = await settled(accepted.statusUrl)
    expect(run).toMatchObject({
      runId: 'order:A-1001',
      flow: 'order',
      status: 'completed',
      output: {
        orderId: 'A-1001',
        reservationId: expect.stringMatching(/^rsv_/),
        chargeId: expect.stringMatching(/^ch_/),
        shipmentId: expect.stringMatching(/^shp_/),
        notificationId: expect.stringMatching(/^msg_/),
      },
    })
    expect(run).not.toHaveProperty('input')
    expect(await effects('A-1001')).toEqual(['reserve', 'charge', 'shipment', 'notification'])

    const timeline = await getJson(`${accepted.statusUrl}/timeline`)
    expect(
      (timeline.body as { events: { type: string; step?: string }[] }).events.map((e) => e.step ?? e.type),
    ).toEqual(['run.started', 'reserve', 'charge', 'ship', 'notify', 'run.completed'])
  })

  it('starts one run per Idempotency-Key: a repeated request gets the same run, and no second charge', async () => {
    const first = await post('/orders/sync', order('A-1002'), { 'idempotency-key': 'A-1002' })
    expect(first.status).toBe(200)
    const again = await post('/orders/sync', order('A-1002'), { 'idempotency-key': 'A-1002' })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual(await first.json())
    expect(await effects('A-1002')).toEqual(['reserve', 'charge', 'shipment', 'notification'])
  })

  it('compensates a declined card: the reservation is released, nothing is charged or refunded', async () => {
    const before = (await getJson('/stock')).body as Record<string, number>
    const response = await post('/orders/sync', order('A-2001', { card: 'tok_visa_0000' }), {
      'idempotency-key': 'A-2001',
    })
    expect(response.status).toBe(422)
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    expect(await response.json()).toMatchObject({
      status: 422,
      code: 'KEEL_FLOW_FAULT',
      runId: 'order:A-2001',
      fault: { code: 'card_declined', message: 'the issuer declined the card' },
    })

    const run = await getJson('/orders/runs/order:A-2001')
    expect(run.body).toMatchObject({ status: 'compensated', fault: { code: 'card_declined' } })
    expect(await effects('A-2001')).toEqual(['reserve', 'release'])
    expect((await getJson('/stock')).body).toEqual(before)
  })

  it('compensates an undeliverable order in reverse: refund, then release', async () => {
    const response = await post('/orders/sync', order('A-2002', { country: 'AQ' }))
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({ fault: { code: 'undeliverable' } })
    expect(await effects('A-2002')).toEqual(['reserve', 'charge', 'refund', 'release'])
  })

  it('faults an order for an item out of stock before anything happens', async () => {
    const items = [
      { sku: 'widget', qty: 1 },
      { sku: 'unobtainium', qty: 1 },
    ]
    const response = await post('/orders/sync', order('A-2003', { items }))
    expect(response.status).toBe(422)
    expect(await response.json()).toMatchObject({
      fault: { code: 'out_of_stock', details: { sku: 'unobtainium' } },
    })
    expect(await effects('A-2003')).toEqual([])
  })

  it('answers bad input with a 400 problem naming each invalid field', async () => {
    const response = await post('/orders', {
      ...order('A-3001'),
      items: [{ sku: 'widget', qty: 0 }],
      card: '4242',
    })
    expect(response.status).toBe(400)
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/)
    const problem = (await response.json()) as { code: string; errors: { pointer: string }[] }
    expect(problem.code).toBe('KEEL_VALIDATION')
    expect(problem.errors.map((e) => e.pointer).sort()).toEqual(['/body/card', '/body/items/0/qty'])
  })

  it('answers 404 problem for a run that does not exist', async () => {
    const missing = await getJson('/orders/runs/order:nope')
    expect(missing.status).toBe(404)
    expect(missing.type).toMatch(/^application\/problem\+json/)
    expect(missing.body).toMatchObject({ code: 'KEEL_FLOW_RUN_NOT_FOUND' })
  })

  it('lists dead letters for an operator with the admin key only', async () => {
    expect((await getJson('/admin/dead-letters')).status).toBe(401)
    const listed = await getJson('/admin/dead-letters', { 'x-api-key': adminKey })
    expect(listed).toMatchObject({ status: 200, body: [] })
  })
})
