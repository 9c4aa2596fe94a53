import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { App } from 'keel/app'
import { type DatabaseModule, database } from 'keel/data'
import { type JobsModule, jobs } from 'keel/jobs'
import { checkResourceFiles, createTableSql, type ResourceChangeHook, serveResources } from 'keel/resources'
import {
  verifyWebhook,
  type WebhookDelivery,
  type WebhooksModule,
  webhookChanges,
  webhooks,
} from 'keel/webhooks'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { findSamples, parsePrometheusText } from '../support/prometheus-text.ts'
import { testApp } from '../support/test-app.ts'

const ordersYaml = `
resource: orders
version: 1
events: [created, updated]
fields:
  id:    { type: integer, primary: true, generated: true }
  total: { type: integer, min: 0, required: true }
  code:  { type: string, unique: true }
endpoints:
  create: { auth: [public], input: [total, code] }
  update: { auth: [public], input: [total] }
  delete: { auth: [public] }
`

interface Received {
  path: string
  headers: IncomingHttpHeaders
  body: string
  /** When the request arrived (Date.now(): the clock the database's now() reads too). */
  at: number
}

/**
 * The webhooks module's behaviour on either driver: PGlite (unit) and PostgreSQL (services).
 * `databaseUrl` gives each test's database, a URL whose `search_path` is a schema of its own (the
 * job tables go there too); undefined: PGlite in memory. The receiver is a local HTTP server.
 */
export function describeWebhooks(name: string, databaseUrl: () => Promise<string | undefined>): void {
  const received: Received[] = []
  const failuresLeft = new Map<string, number>()
  let receiver: Server
  let base: string

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => {
        body += chunk
      })
      req.on('end', () => {
        const path = req.url ?? ''
        received.push({ path, headers: req.headers, body, at: Date.now() })
        const left = failuresLeft.get(path) ?? 0
        if (path === '/gone') res.writeHead(410)
        else if (path === '/down' || left > 0) {
          failuresLeft.set(path, left - 1)
          res.writeHead(503)
        } else res.writeHead(204)
        res.end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise((resolve) => receiver.close(resolve)))

  const running: App[] = []
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop()))
  })

  /**
   * Starts an app with the webhooks and jobs modules: retries after 1 s, doubled each time, two
   * unless `retryLimit` says otherwise. `config` overrides sections; `serve` adds routes before start.
   */
  async function started(
    options: {
      config?: Record<string, unknown>
      retryLimit?: number
      serve?: (app: App, data: DatabaseModule, hooks: WebhooksModule) => void
    } = {},
  ) {
    const url = await databaseUrl()
    const data = database({ migrations: false })
    const hooks: WebhooksModule = webhooks({
      database: data,
      jobs: () => background,
      retryLimit: options.retryLimit ?? 2,
      retryDelaySeconds: 1,
    })
    const background: JobsModule = jobs({ database: data, queues: [hooks.queue] })
    const { app } = testApp({
      modules: [data, hooks, background],
      overrides: {
        ...(url ? { database: { url } } : {}),
        jobs: {
          pollingIntervalSeconds: 0.5,
          maintenanceIntervalSeconds: 1,
          // On PostgreSQL, the jobs live in the test's schema and are dropped with it.
          ...(url ? { schema: new URL(url).searchParams.get('search_path') } : {}),
        },
        // The receiver listens on 127.0.0.1, which only the test profile allows by default.
        webhooks: { allowPrivateNetworks: true },
        ...options.config,
      },
    })
    options.serve?.(app, data, hooks)
    running.push(app)
    const { url: appUrl } = await app.start()
    return { app, data, hooks, background, url: appUrl }
  }

  /** Polls a subscription's deliveries until every one is out of `pending`. */
  async function settled(
    hooks: WebhooksModule,
    subscriptionId: string,
    count: number,
  ): Promise<WebhookDelivery[]> {
    for (let i = 0; i < 300; i++) {
      const deliveries = await hooks.deliveries(subscriptionId)
      if (deliveries.length === count && deliveries.every((d) => d.status !== 'pending')) return deliveries
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    throw new Error(
      `deliveries of ${subscriptionId} did not settle: ${JSON.stringify(await hooks.deliveries(subscriptionId))}`,
    )
  }

  // Each test starts its own app with pg-boss, which on PGlite on a loaded machine alone can take 20 s.
  describe(`webhooks() on ${name}`, { timeout: 90_000 }, () => {
    it('delivers a published event to each matching subscription, signed with its own secret', async () => {
      const { hooks } = await started()
      const created = await hooks.subscribe({ url: `${base}/created`, events: ['todos.created'] })
      const all = await hooks.subscribe({ url: `${base}/all`, events: ['*'] })
      const deleted = await hooks.subscribe({ url: `${base}/deleted`, events: ['todos.deleted'] })
      expect(created.secret).toMatch(/^whsec_/)
      expect(created.secret).not.toBe(all.secret)

      const ids = await hooks.publish('todos.created', { id: 7, title: 'Milk' })
      expect(ids).toHaveLength(2)
      const [delivery] = await settled(hooks, created.id, 1)
      expect(delivery).toMatchObject({
        status: 'delivered',
        attempts: 1,
        lastStatus: 204,
        event: 'todos.created',
      })
      await settled(hooks, all.id, 1)
      expect(await hooks.deliveries(deleted.id)).toEqual([])

      const request = received.find((r) => r.path === '/created')!
      expect(verifyWebhook(request.headers, request.body, { secrets: [created.secret] }).id).toBe(
        delivery!.id,
      )
      expect(() => verifyWebhook(request.headers, request.body, { secrets: [all.secret] })).toThrow()
      expect(JSON.parse(request.body)).toEqual({
        type: 'todos.created',
        timestamp: delivery!.createdAt.toISOString(),
        data: { id: 7, title: 'Milk' },
      })
    })

    it('retries a failing receiver with the same webhook-id until it answers, spaced by the backoff: retry n comes 2^(n-1) to 2^n retryDelaySeconds after the attempt before', async () => {
      // retryDelaySeconds 1: the failure after attempt n sets the next one due after
      // 1 s · 2^(n-1) · (1 + jitter in [0, 1)), and workers poll every 0.5 s.
      const { hooks } = await started({ retryLimit: 3 })
      const sub = await hooks.subscribe({ url: `${base}/backoff`, events: ['orders.paid'] })
      failuresLeft.set('/backoff', 3)
      const [id] = await hooks.publish('orders.paid', { order: 12 })
      expect((await settled(hooks, sub.id, 1))[0]).toMatchObject({
        id,
        status: 'delivered',
        attempts: 4,
        lastStatus: 204,
        lastError: null,
      })
      const attempts = received.filter((r) => r.path === '/backoff')
      expect(attempts.map((r) => r.headers['webhook-id'])).toEqual([id, id, id, id])
      const arrivals = attempts.map((r) => r.at)
      const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]!)
      gaps.forEach((gap, i) => {
        // Never early: the due time is set after the failed attempt reached the receiver.
        // A few ms for Date.now() truncating what PostgreSQL keeps in microseconds.
        expect(gap, `retry ${i + 1}`).toBeGreaterThanOrEqual(1000 * 2 ** i - 5)
        // Never much later than the jitter's ceiling: polling and a loaded machine get 2 s. So the
        // first wait (under 4 s) is shorter than the third (4 s at least): the delay doubles.
        expect(gap, `retry ${i + 1}`).toBeLessThan(1000 * 2 ** (i + 1) + 2000)
      })
    })

    it('marks a delivery failed when retries run out, and leaves the job in the dead letters', async () => {
      const { hooks, background, url } = await started()
      const down = await hooks.subscribe({ url: `${base}/down`, events: ['orders.paid'] })
      const [id] = await hooks.publish('orders.paid', { order: 2 })
      const [delivery] = await settled(hooks, down.id, 1)
      expect(delivery).toMatchObject({
        id,
        status: 'failed',
        attempts: 3,
        lastStatus: 503,
        lastError: 'the receiver answered 503',
      })
      for (let i = 0; i < 150 && (await background.deadLetters.list(hooks.queue.name)).length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect((await background.deadLetters.list(hooks.queue.name)).map((letter) => letter.id)).toEqual([id])
      const samples = parsePrometheusText(await (await fetch(`${url}/metrics`)).text())
      expect(findSamples(samples, 'keel_webhook_attempts_total', { outcome: 'retry' })[0]?.value).toBe(2)
      expect(findSamples(samples, 'keel_webhook_attempts_total', { outcome: 'failed' })[0]?.value).toBe(1)
    })

    it('disables a subscription whose receiver answers 410 Gone, and sends it nothing more', async () => {
      const { hooks } = await started()
      const gone = await hooks.subscribe({ url: `${base}/gone`, events: ['orders.paid'] })
      await hooks.publish('orders.paid', { order: 3 })
      expect((await settled(hooks, gone.id, 1))[0]).toMatchObject({ status: 'gone', attempts: 1 })
      expect((await hooks.subscriptions()).find((s) => s.id === gone.id)).toMatchObject({
        active: false,
        disabledReason: 'the receiver answered 410 Gone',
      })
      expect(await hooks.publish('orders.paid', { order: 4 })).toEqual([])
    })

    it('publishes inside the caller’s transaction: a rollback leaves no delivery and sends nothing', async () => {
      const { hooks, data } = await started()
      const sub = await hooks.subscribe({ url: `${base}/tx`, events: ['orders.paid'] })
      await expect(
        data.db.transaction(async (tx) => {
          await hooks.publish('orders.paid', { order: 5 }, { tx })
          throw new Error('the order write failed')
        }),
      ).rejects.toThrow('the order write failed')
      await data.db.transaction((tx) => hooks.publish('orders.paid', { order: 6 }, { tx }))
      const deliveries = await settled(hooks, sub.id, 1)
      expect(deliveries.map((d) => d.payload)).toEqual([{ order: 6 }])
      expect(received.filter((r) => r.path === '/tx').map((r) => JSON.parse(r.body).data)).toEqual([
        { order: 6 },
      ])
    })

    it('publishes a resource’s declared changes in the write’s transaction: a write that fails sends nothing', async () => {
      const { definitions } = checkResourceFiles([{ file: 'resources/orders.yaml', text: ordersYaml }])
      // A hook after the webhook's that refuses large orders: the write, and its event, roll back.
      const refuseLarge: ResourceChangeHook = (change) => {
        if (Number(change.row.total) > 100) throw new Error('orders above 100 need approval')
      }
      const { hooks, data, url } = await started({
        serve: (app, database, module) =>
          serveResources(app, {
            database,
            resources: definitions,
            onChange: [webhookChanges(module), refuseLarge],
          }),
      })
      await data.db.execute(createTableSql(definitions[0]!).up)
      const sub = await hooks.subscribe({
        url: `${base}/orders`,
        events: ['orders.created', 'orders.updated'],
      })
      const send = async (method: string, path: string, body?: unknown) =>
        (
          await fetch(`${url}${path}`, {
            method,
            headers: body === undefined ? {} : { 'content-type': 'application/json' },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          })
        ).status

      expect(await send('POST', '/v1/orders', { total: 5, code: 'a' })).toBe(201)
      expect(await send('POST', '/v1/orders', { total: 7, code: 'a' })).toBe(409)
      expect(await send('POST', '/v1/orders', { total: 500, code: 'b' })).toBe(500)
      expect(await send('PATCH', '/v1/orders/1', { total: 6 })).toBe(200)
      expect(await send('PATCH', '/v1/orders/1', { total: 600 })).toBe(500)
      expect(await data.db.query('select id, total, code from orders')).toEqual([
        { id: 1, total: 6, code: 'a' },
      ])
      // Not in the resource's `events`: no delivery.
      expect(await send('DELETE', '/v1/orders/1')).toBe(204)

      const deliveries = await settled(hooks, sub.id, 2)
      expect(deliveries.map((d) => [d.event, d.payload, d.status])).toEqual([
        ['orders.updated', { id: 1, total: 6, code: 'a' }, 'delivered'],
        ['orders.created', { id: 1, total: 5, code: 'a' }, 'delivered'],
      ])
      // Two jobs: either may reach the receiver first.
      const bodies = received.filter((r) => r.path === '/orders').map((r) => JSON.parse(r.body))
      expect(bodies.map((b) => [b.type, b.data]).sort()).toEqual([
        ['orders.created', { id: 1, total: 5, code: 'a' }],
        ['orders.updated', { id: 1, total: 6, code: 'a' }],
      ])
    })

    it('refuses private addresses when webhooks.allowPrivateNetworks is false, recording why', async () => {
      const { hooks } = await started({ config: { webhooks: { allowPrivateNetworks: false } } })
      const sub = await hooks.subscribe({ url: `${base}/private`, events: ['orders.paid'] })
      await hooks.publish('orders.paid', { order: 7 })
      const [delivery] = await settled(hooks, sub.id, 1)
      expect(delivery).toMatchObject({ status: 'failed', attempts: 3, lastStatus: null })
      expect(delivery!.lastError).toBe('refused: 127.0.0.1 is a private or loopback address')
    })

    it('refuses private addresses by default outside the test profile', async () => {
      const { hooks } = await started({ config: { webhooks: {} } })
      const sub = await hooks.subscribe({ url: `${base}/dev`, events: ['orders.paid'] })
      await hooks.publish('orders.paid', { order: 11 })
      const [delivery] = await settled(hooks, sub.id, 1)
      expect(delivery!.lastError).toBe('refused: 127.0.0.1 is a private or loopback address')
      expect(received.filter((r) => r.path === '/private')).toEqual([])
    })

    it('sends a failed delivery again when an operator retries its dead letter', async () => {
      const { hooks, background } = await started()
      const late = await hooks.subscribe({ url: `${base}/late`, events: ['orders.paid'] })
      failuresLeft.set('/late', 3)
      const [id] = await hooks.publish('orders.paid', { order: 8 })
      expect((await settled(hooks, late.id, 1))[0]).toMatchObject({ status: 'failed', attempts: 3 })
      for (let i = 0; i < 150 && (await background.deadLetters.list(hooks.queue.name)).length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      await background.deadLetters.retry(hooks.queue.name, id!)
      for (let i = 0; i < 100 && (await hooks.deliveries(late.id))[0]?.status !== 'delivered'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect((await hooks.deliveries(late.id))[0]).toMatchObject({ id, status: 'delivered', attempts: 4 })
    })

    it('on 410, marks the subscription’s other waiting deliveries gone too', async () => {
      const { hooks } = await started()
      const sub = await hooks.subscribe({ url: `${base}/gone`, events: ['orders.paid'] })
      await hooks.publish('orders.paid', { order: 9 })
      await hooks.publish('orders.paid', { order: 10 })
      const deliveries = await settled(hooks, sub.id, 2)
      expect(deliveries.map((d) => d.status)).toEqual(['gone', 'gone'])
    })

    it('refuses a malformed subscription or event, naming what is wrong', async () => {
      const { hooks } = await started()
      await expect(hooks.subscribe({ url: 'ftp://x', events: ['a'] })).rejects.toThrow(
        'url must be http or https, not ftp:',
      )
      await expect(hooks.subscribe({ url: 'nope', events: ['a'] })).rejects.toThrow(
        'url is not a URL: "nope"',
      )
      await expect(hooks.subscribe({ url: `${base}/x`, events: [] })).rejects.toThrow(
        'events must be a non-empty list',
      )
      await expect(hooks.subscribe({ url: `${base}/x`, events: ['Todos Created'] })).rejects.toThrow(
        '"Todos Created"',
      )
      await expect(hooks.publish('*', {})).rejects.toThrow('"*" is not an event name')
      await expect(hooks.unsubscribe('42')).rejects.toThrow('expected a subscription id (a UUID), got "42"')
      expect(await hooks.unsubscribe('00000000-0000-4000-8000-000000000000')).toBe(false)
      await expect(hooks.subscribe({ url: `${base}/x`, events: ['a'], tenant: '' })).rejects.toThrow(
        'subscribe: tenant must be a non-empty string',
      )
      await expect(hooks.publish('a.b', {}, { tenant: 'x'.repeat(201) })).rejects.toThrow(
        'publish: tenant must be a non-empty string of at most 200 characters',
      )
    })

    it('sends a tenant’s events to its own and the operator’s subscriptions, never another tenant’s', async () => {
      const { hooks } = await started()
      const tenantA = await hooks.subscribe({ url: `${base}/a`, events: ['*'], tenant: 'org-a' })
      const tenantB = await hooks.subscribe({ url: `${base}/b`, events: ['*'], tenant: 'org-b' })
      const operator = await hooks.subscribe({ url: `${base}/operator`, events: ['*'] })
      expect(tenantA.tenant).toBe('org-a')
      expect(operator.tenant).toBeNull()

      expect(await hooks.publish('todos.created', { id: 1 }, { tenant: 'org-a' })).toHaveLength(2)
      // An event without a tenant is nobody's tenant's: only the operator hears it.
      expect(await hooks.publish('todos.created', { id: 2 })).toHaveLength(1)
      expect((await settled(hooks, tenantA.id, 1)).map((d) => d.payload)).toEqual([{ id: 1 }])
      expect((await settled(hooks, operator.id, 2)).map((d) => d.payload)).toEqual([{ id: 2 }, { id: 1 }])
      expect(await hooks.deliveries(tenantB.id)).toEqual([])
      expect((await hooks.subscriptions({ tenant: 'org-b' })).map((s) => s.id)).toEqual([tenantB.id])
      expect(await hooks.subscriptions()).toHaveLength(3)
    })
  })
}
