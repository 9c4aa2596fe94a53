import { Type } from '@sinclair/typebox'
import type { App, KeelModule, ModuleDescription } from '../app/index.ts'
import { type DatabaseModule, migrate, type Queryable } from '../data/index.ts'
import { KeelError } from '../errors/index.ts'
import { type AnyJobQueue, type JobsModule, queue } from '../jobs/index.ts'
import { deliverWebhook } from './deliver.ts'
import { type WebhookMetrics, webhookMetrics } from './metrics.ts'
import { webhookMigrations } from './schema.ts'
import { generateWebhookSecret } from './secret.ts'
import { webhooksSection } from './webhooks-section.ts'

/** Options of {@link webhooks}. */
export interface WebhooksOptions {
  /** The database module holding subscriptions and deliveries. */
  readonly database: DatabaseModule
  /** The jobs module that runs the deliveries; a function, since it is given {@link WebhooksModule.queue}. */
  readonly jobs: () => JobsModule
  /** Retries after a failed attempt before the delivery is dead. Default 8 (2 to 4¼ hours in all with the default delay and jitter). */
  readonly retryLimit?: number
  /** Base delay between attempts: retry n waits this times 2^(n-1) to 2^n (jitter). Default 30 s. */
  readonly retryDelaySeconds?: number
  /** Module name, also the job queue's prefix. Default `webhooks`. */
  readonly name?: string
}

/** A subscription: a URL receiving the events it names, signed with its own secret. */
export interface WebhookSubscription {
  readonly id: string
  readonly url: string
  /** Event names (`todos.created`), or `*` for every event. */
  readonly events: string[]
  /** The tenant whose events it receives; null: an operator subscription receiving every tenant's. */
  readonly tenant: string | null
  readonly active: boolean
  /** Why delivery stopped (`the receiver answered 410 Gone`), when inactive. */
  readonly disabledReason: string | null
  readonly createdAt: Date
}

/** One message to one subscription, and how its delivery went. */
export interface WebhookDelivery {
  /** Also the `webhook-id` header: the same on every retry. */
  readonly id: string
  readonly subscriptionId: string
  readonly event: string
  readonly payload: unknown
  /** `pending`, `delivered`, `gone` (410: subscription disabled) or `failed` (out of retries). */
  readonly status: 'pending' | 'delivered' | 'gone' | 'failed'
  readonly attempts: number
  readonly lastStatus: number | null
  readonly lastError: string | null
  readonly createdAt: Date
  readonly finishedAt: Date | null
}

/** The webhooks module. */
export interface WebhooksModule extends KeelModule {
  /** The delivery queue: pass it to `jobs({ queues: [...] })`. */
  readonly queue: AnyJobQueue
  /**
   * Adds a subscription; the answer carries its signing secret, shown once. With `tenant` it
   * receives only events published for that tenant; without, every event (an operator's).
   */
  subscribe(subscription: {
    url: string
    events: readonly string[]
    tenant?: string
  }): Promise<WebhookSubscription & { secret: string }>
  /** Removes a subscription and its delivery record; false when there was none. */
  unsubscribe(id: string): Promise<boolean>
  /** The subscriptions, oldest first; with `tenant`, only that tenant's. */
  subscriptions(options?: { tenant?: string }): Promise<WebhookSubscription[]>
  /**
   * Records one delivery per active subscription to `event` and queues a job for each. With `tx`,
   * both happen in the caller's transaction: an event is published only if its change commits.
   * With `tenant`, the event reaches that tenant's subscriptions and the operator's (those
   * without a tenant); without, only the operator's. Resolves to the delivery ids.
   */
  publish(event: string, data: unknown, options?: { tx?: Queryable; tenant?: string }): Promise<string[]>
  /** A subscription's deliveries, newest first. */
  deliveries(subscriptionId: string, options?: { limit?: number }): Promise<WebhookDelivery[]>
  describe(): ModuleDescription & { webhooks: { queue: string } }
}

const eventName = /^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*)$/
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * Outbound webhooks: subscriptions in the app's database, one delivery per event and
 * subscription, each attempt a job (retried with exponential backoff, dead-lettered when out of
 * retries), signed with the Standard Webhooks scheme. A 410 answer disables the subscription.
 *
 * @example
 * ```ts
 * const data = database()
 * const hooks = webhooks({ database: data, jobs: () => background })
 * const background = jobs({ database: data, queues: [hooks.queue] })
 * const app = createApp({ modules: [data, hooks, background] })
 * serveResources(app, { database: data, resources, onChange: [webhookChanges(hooks)] })
 * ```
 */
export function webhooks(options: WebhooksOptions): WebhooksModule {
  const name = options.name ?? 'webhooks'
  let started: { timeoutMs: number; allowPrivateNetworks: boolean; metrics: WebhookMetrics } | undefined
  // The jobs module may start first and hand a left-over delivery to the handler: it waits for
  // this module's start rather than spending a retry.
  let markStarted: () => void = () => {}
  const whenStarted = new Promise<void>((resolve) => {
    markStarted = resolve
  })
  const db = () => options.database.db

  const delivery = queue(`${name}.deliver`, {
    data: Type.Object({ deliveryId: Type.String({ format: 'uuid' }) }),
    retryLimit: options.retryLimit ?? 8,
    retryDelaySeconds: options.retryDelaySeconds ?? 30,
    retryBackoff: true,
    expireInSeconds: 300,
    async handler({ deliveryId }, ctx) {
      if (!started) await Promise.race([whenStarted, abortion(ctx.signal)])
      if (!started)
        throw new KeelError('KEEL_APP_STATE', `module "${name}" has not started; the delivery is retried`)
      const [row] = await db().query<{
        url: string
        secret: string
        active: boolean
        event: string
        payload: unknown
        status: string
        created_at: Date
      }>(
        `select s.url, s.secret, s.active, d.event, d.payload, d.status, d.created_at
         from keel_webhook_deliveries d join keel_webhook_subscriptions s on s.id = d.subscription_id
         where d.id = $1`,
        [deliveryId],
      )
      // Unsubscribed since, already delivered or gone, or the subscription was disabled: nothing to
      // send. A `failed` delivery is sent again: an operator retried its dead-lettered job.
      if (!row?.active || (row.status !== 'pending' && row.status !== 'failed')) {
        return { skipped: row?.status ?? 'unsubscribed' }
      }
      const body = JSON.stringify({
        type: row.event,
        timestamp: row.created_at.toISOString(),
        data: row.payload,
      })
      const result = await deliverWebhook({
        url: row.url,
        id: deliveryId,
        body,
        secrets: [row.secret],
        timeoutMs: started.timeoutMs,
        allowPrivateNetworks: started.allowPrivateNetworks,
        signal: ctx.signal,
      })
      const isLast = ctx.retryCount >= ctx.retryLimit
      const status =
        result.outcome === 'delivered'
          ? 'delivered'
          : result.outcome === 'gone'
            ? 'gone'
            : isLast
              ? 'failed'
              : 'pending'
      await db().query(
        `update keel_webhook_deliveries set status = $2, attempts = attempts + 1, last_status = $3, last_error = $4,
           finished_at = case when $2 = 'pending' then null else now() end
         where id = $1`,
        [deliveryId, status, result.status ?? null, result.error ?? null],
      )
      started.metrics.attempt(status === 'failed' ? 'failed' : result.outcome, result.durationMs / 1000)
      if (result.outcome === 'gone') {
        await db().transaction(async (tx) => {
          const [sub] = await tx.query<{ id: string }>(
            `update keel_webhook_subscriptions set active = false, disabled_reason = $2
             where id = (select subscription_id from keel_webhook_deliveries where id = $1) returning id`,
            [deliveryId, result.error],
          )
          // Its other deliveries will never be sent: say so rather than leave them pending.
          await tx.query(
            `update keel_webhook_deliveries set status = 'gone', finished_at = now(), last_error = $2
             where subscription_id = $1 and status in ('pending', 'failed')`,
            [sub?.id, 'the subscription was disabled: its receiver answered 410 Gone'],
          )
        })
        return { gone: true }
      }
      if (result.outcome === 'retry') throw new Error(result.error ?? 'the delivery failed')
      return { status: result.status }
    },
  })

  const checkId = (id: unknown, what: string) => {
    if (typeof id !== 'string' || !uuid.test(id)) {
      throw new KeelError(
        'KEEL_WEBHOOK_INVALID',
        `${what}: expected a subscription id (a UUID), got ${JSON.stringify(id)}`,
        { status: 400 },
      )
    }
  }

  const module: WebhooksModule = {
    name,
    dependsOn: [options.database.name],
    config: webhooksSection,
    queue: delivery,
    async start(app: App) {
      const settings = app.section(webhooksSection)
      await migrate(db(), 'keel_webhooks', webhookMigrations)
      const profile = app.config.profile
      started = {
        timeoutMs: settings.timeoutMs,
        allowPrivateNetworks: settings.allowPrivateNetworks ?? profile === 'test',
        metrics: webhookMetrics(app.metrics.registry),
      }
      markStarted()
    },
    async subscribe({ url, events, tenant }) {
      let parsed: URL
      try {
        parsed = new URL(url)
      } catch {
        throw new KeelError('KEEL_WEBHOOK_INVALID', `subscribe: url is not a URL: ${JSON.stringify(url)}`, {
          status: 400,
        })
      }
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new KeelError(
          'KEEL_WEBHOOK_INVALID',
          `subscribe: url must be http or https, not ${parsed.protocol}`,
          { status: 400 },
        )
      }
      if (
        !Array.isArray(events) ||
        events.length === 0 ||
        !events.every((e) => typeof e === 'string' && eventName.test(e))
      ) {
        throw new KeelError(
          'KEEL_WEBHOOK_INVALID',
          `subscribe: events must be a non-empty list of event names (todos.created) or "*", got ${JSON.stringify(events)}`,
          { status: 400 },
        )
      }
      checkTenant(tenant, 'subscribe')
      const secret = generateWebhookSecret()
      const [row] = await db().query<SubscriptionRow>(
        `insert into keel_webhook_subscriptions (url, events, secret, tenant) values ($1, $2, $3, $4) returning ${subscriptionColumns}`,
        [parsed.toString(), [...new Set(events)], secret, tenant ?? null],
      )
      return { ...toSubscription(row!), secret }
    },
    async unsubscribe(id) {
      checkId(id, 'unsubscribe')
      const rows = await db().query('delete from keel_webhook_subscriptions where id = $1 returning id', [id])
      return rows.length > 0
    },
    async subscriptions({ tenant } = {}) {
      checkTenant(tenant, 'subscriptions')
      const rows = await db().query<SubscriptionRow>(
        tenant === undefined
          ? `select ${subscriptionColumns} from keel_webhook_subscriptions order by created_at, id`
          : `select ${subscriptionColumns} from keel_webhook_subscriptions where tenant = $1 order by created_at, id`,
        tenant === undefined ? [] : [tenant],
      )
      return rows.map(toSubscription)
    },
    async publish(event, data, publishOptions = {}) {
      if (typeof event !== 'string' || event === '*' || !eventName.test(event)) {
        throw new KeelError(
          'KEEL_WEBHOOK_INVALID',
          `publish: ${JSON.stringify(event)} is not an event name (todos.created)`,
        )
      }
      checkTenant(publishOptions.tenant, 'publish')
      const on = publishOptions.tx ?? db()
      const rows = await on.query<{ id: string }>(
        `insert into keel_webhook_deliveries (subscription_id, event, payload)
         select id, $1, ($2::jsonb)->'v' from keel_webhook_subscriptions
         where active and ($1 = any(events) or '*' = any(events))
           and (tenant is null or tenant = $3)
         returning id`,
        [event, { v: data ?? null }, publishOptions.tenant ?? null],
      )
      const jobs = options.jobs()
      for (const { id } of rows) {
        await jobs.send(
          delivery,
          { deliveryId: id },
          { id, ...(publishOptions.tx ? { tx: publishOptions.tx } : {}) },
        )
      }
      return rows.map((r) => r.id)
    },
    async deliveries(subscriptionId, { limit = 50 } = {}) {
      checkId(subscriptionId, 'deliveries')
      const rows = await db().query<DeliveryRow>(
        `select id, subscription_id, event, payload, status, attempts, last_status, last_error, created_at, finished_at
         from keel_webhook_deliveries where subscription_id = $1 order by created_at desc, id limit $2`,
        [subscriptionId, Math.min(Math.max(1, limit), 1000)],
      )
      return rows.map((r) => ({
        id: r.id,
        subscriptionId: r.subscription_id,
        event: r.event,
        payload: r.payload,
        status: r.status,
        attempts: r.attempts,
        lastStatus: r.last_status,
        lastError: r.last_error,
        createdAt: r.created_at,
        finishedAt: r.finished_at,
      }))
    },
    describe() {
      return { webhooks: { queue: delivery.name } }
    },
  }
  return module
}

const subscriptionColumns = 'id, url, events, tenant, active, disabled_reason, created_at'

interface SubscriptionRow {
  id: string
  url: string
  events: string[]
  tenant: string | null
  active: boolean
  disabled_reason: string | null
  created_at: Date
}

interface DeliveryRow {
  id: string
  subscription_id: string
  event: string
  payload: unknown
  status: WebhookDelivery['status']
  attempts: number
  last_status: number | null
  last_error: string | null
  created_at: Date
  finished_at: Date | null
}

const toSubscription = (row: SubscriptionRow): WebhookSubscription => ({
  id: row.id,
  url: row.url,
  events: row.events,
  tenant: row.tenant,
  active: row.active,
  disabledReason: row.disabled_reason,
  createdAt: row.created_at,
})

/** A tenant is a non-empty string of at most 200 characters, as JWT tenant claims are. */
function checkTenant(tenant: unknown, operation: string): void {
  if (tenant === undefined) return
  if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 200) {
    throw new KeelError(
      'KEEL_WEBHOOK_INVALID',
      `${operation}: tenant must be a non-empty string of at most 200 characters, got ${JSON.stringify(tenant)}`,
      { status: 400 },
    )
  }
}

/** A promise that rejects when `signal` aborts (a job given up while it waited). */
const abortion = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason)
    signal.addEventListener('abort', () => reject(signal.reason), { once: true })
  })
