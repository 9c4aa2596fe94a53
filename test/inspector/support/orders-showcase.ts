import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOrdersApp } from '../../../examples/orders/app.ts'
import { LogCapture } from '../../support/log-capture.ts'
import type { postgresSchemas } from '../../support/postgres-schemas.ts'
import { Latch } from './fixture-app.ts'

/** An order the orders showcase accepts. */
export const order = (orderId: string, amount = 1999) => ({
  orderId,
  customer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  items: [{ sku: 'widget', qty: 1 }],
  amount,
  card: 'tok_visa_4242',
  country: 'NL',
})

/**
 * The orders showcase in-process on a fresh PostgreSQL schema of `schemas`, on 127.0.0.1 port 0,
 * with two routes of the tests' own: `GET /boom` fails with 500 and `GET /slow` answers once
 * `slow` is opened (open it before stopping the app: the drain waits for it).
 */
export async function startOrders(
  schemas: ReturnType<typeof postgresSchemas>,
  options: { profile?: string; inspector?: Record<string, unknown>; flows?: Record<string, unknown> } = {},
) {
  const root = mkdtempSync(join(tmpdir(), 'keel-inspector-orders-'))
  const databaseUrl = await schemas.fresh(
    `${options.profile ?? 'dev'}_${Math.random().toString(36).slice(2, 6)}`,
  )
  const app = createOrdersApp({
    root,
    env: {},
    ...(options.profile ? { profile: options.profile } : {}),
    logStream: new LogCapture(),
    overrides: {
      server: { port: 0, host: '127.0.0.1', keepAliveTimeoutMs: 1000 },
      metrics: { defaultMetrics: false },
      database: { url: databaseUrl },
      flows: { pollMs: 50, ...options.flows },
      ...(options.inspector ? { inspector: options.inspector } : {}),
    },
  })
  const slow = new Latch()
  app.get('/boom', () => {
    throw new Error('kaboom')
  })
  app.get('/slow', async () => {
    await slow.promise
    return { slow: true }
  })
  const { url } = await app.start()
  return { app, url, root, databaseUrl, slow }
}
